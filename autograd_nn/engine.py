"""The reverse-mode pass, in named phases.

`run_backward` counts, for every tensor that will receive a gradient, the edges that bring one
(`count_consumers`); then pops a tensor whose gradient is complete, runs its hooks, delivers
the gradient to ``.grad`` (leaves, retained grads) or to the caller (``inputs=``), calls its
node's backward (`node_backward`: the one place where gradients are reduced to their operands'
shapes and cast to their dtypes), adds the results into the `GradientStore`, and releases
the node's saved arrays. Whether the pass is plain (numpy arrays, nothing recorded) or
``create_graph`` (Tensors, every rule's ops recorded, under `enable_grad`) is chosen once, as a
`PlainPass` or a `RecordedPass` (passes.py); a tracer, if given, is called once per tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from types import SimpleNamespace
from typing import Any, Protocol, TypeVar

import numpy as np

from .anomaly import check_backward
from .function import Function
from .mode import LOCAL, enable_grad
from .passes import (
    G,
    Grad,
    GraphCtx,
    Pass,
    PlainPass,
    RecordedPass,
    RuleGrad,
    RuleGrads,
    Store,
    Tracer,
)
from .tensor import Tensor
from .versions import MUTATIONS


class Shaped(Protocol):
    """What `reduce_to` needs of a gradient: an ndarray, a Tensor, or compile's symbol."""

    @property
    def shape(self) -> tuple[int, ...]: ...


class SumNamespace(Protocol):
    """What `reduce_to` needs of an array namespace (registry.PLAIN, RECORDED, compile's)."""

    def __getattr__(self, name: str) -> Callable[..., Any]: ...


S = TypeVar("S", bound=Shaped)

RELEASED = (
    "{op}: trying to backward through the graph a second time: its saved arrays were released "
    "after the first backward. Pass retain_graph=True to the first backward() (or autograd.grad) "
    "if you need to go through the graph again."
)


def run_backward(
    roots: Sequence[Tensor],
    seeds: Sequence[Grad],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
    tracer: Tracer | None = None,
) -> list[Grad | None] | None:
    """Propagate ``seeds`` (one per root, root-shaped) back through the graph.

    Without ``inputs`` gradients accumulate into the leaves' ``.grad`` (and retained non-leaf
    grads are stored); with ``inputs`` nothing is stored and their gradients are returned.
    Seeds are ndarrays for a plain pass and Tensors for ``create_graph``. ``tracer``, if
    given, is called as ``tracer(tensor, grad, node, input_grads)`` for every tensor in the
    order processed (``node`` is None and ``input_grads`` () for leaves); grads as kept by the
    engine, input grads already reduced to their operands' shapes.
    """
    anomaly = LOCAL.mode.anomaly
    if create_graph:  # the seeds are Tensors (autograd.seed_for); the rules' ops are recorded
        tensors: Sequence[Tensor] = seeds  # type: ignore[assignment]
        with enable_grad():
            return _run(RecordedPass(anomaly), roots, tensors, retain_graph, inputs, tracer)
    # a plain pass runs in the caller's grad mode; its seeds are ndarrays
    arrays: Sequence[np.ndarray] = seeds  # type: ignore[assignment]
    return _run(PlainPass(anomaly), roots, arrays, retain_graph, inputs, tracer)


def _run(mode: Pass[G], roots: Sequence[Tensor], seeds: Sequence[G], retain_graph: bool,
         inputs: Sequence[Tensor] | None, tracer: Tracer | None) -> list[Grad | None] | None:
    """`run_backward` with the pass chosen: the loop over ready tensors."""
    consumers = count_consumers(roots)
    store = mode.store(roots, seeds)
    wanted = None if inputs is None else set(inputs)
    found: dict[Tensor, Grad] = {}
    sums, traced = store.sums, tracer is not None
    ready = [r for r in sums if r not in consumers]
    while ready:
        t = ready.pop()
        g = sums.pop(t)  # complete: no gradient arrives after this
        if t._hooks:
            g = run_hooks(t, g, mode)
        fn = t.grad_fn
        if wanted is not None or fn is None or t._retains_grad:
            deliver(t, g, store, wanted, found, tracer)
        if fn is not None:
            sent = node_backward(fn, t, g, mode, store, consumers, ready, traced)
            if tracer is not None:
                tracer(t, g, fn, sent)
            if not retain_graph:
                fn.saved_tensors = None
    if not (retain_graph or tracer):
        release_intermediates(roots)
    return None if inputs is None else [found.get(x) for x in inputs]


# ---- phase 1: count consumers -----------------------------------------------------------------
def count_consumers(roots: Sequence[Tensor], stop: Collection[Tensor] = ()
                    ) -> dict[Tensor, int]:
    """For every tensor below the roots that needs a gradient: how many edges will bring one
    (iteratively, so any depth is fine). A root that feeds another root is walked once; the
    operands of a tensor in ``stop`` are not walked (a region's inputs: compile/higher.py)."""
    consumers: dict[Tensor, int] = {}
    stack = [r for r in dict.fromkeys(roots) if r not in stop]
    roots_set = set(stack).union(stop) if len(stack) > 1 or stop else ()
    while stack:
        fn = stack.pop().grad_fn
        if fn is None:
            continue
        if fn.saved_tensors is None:
            raise RuntimeError(RELEASED.format(op=fn.name))
        for p, need in zip(fn.inputs, fn.needs_input_grad):
            if not need:
                continue
            if p in consumers:
                consumers[p] += 1
            else:
                consumers[p] = 1
                if p.grad_fn is not None and p not in roots_set:  # a leaf has nothing below
                    stack.append(p)
    return consumers


# ---- phase 2: hooks, and delivery to .grad or to the caller ----------------------------------
def run_hooks(t: Tensor, g: G, mode: Pass[G]) -> G:
    """Call ``t``'s hooks in order; a returned tensor replaces the gradient."""
    assert t._hooks is not None
    for hook in list(t._hooks.values()):
        r = hook(mode.to_hook(g))
        if r is None:
            continue
        r = r if isinstance(r, Tensor) else Tensor(r, dtype=t.dtype)
        if r.shape != t.shape:
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape {r.shape} "
                f"for a tensor of shape {t.shape}"
            )
        g = mode.from_hook(r, t)
    return g


def deliver(t: Tensor, g: G, store: Store[G], wanted: set[Tensor] | None,
            found: dict[Tensor, Grad], tracer: Tracer | None) -> None:
    """A complete gradient goes to the caller (``inputs=``) or into ``.grad`` (leaves and
    tensors that retain their grad); a leaf is also the tracer's step."""
    if t.grad_fn is None and tracer is not None:
        tracer(t, g, None, ())
    if wanted is not None:
        if t in wanted:
            found[t] = g
    elif t.grad_fn is None or t._retains_grad:
        store.deliver(t, g)


# ---- phase 3: one node's backward ------------------------------------------------------------
def node_backward(fn: Function, out: Tensor, g: G, mode: Pass[G], store: Store[G],
                  consumers: dict[Tensor, int], ready: list[Tensor],
                  traced: bool = False) -> tuple[G | None, ...]:
    """Run ``fn``'s rule on the gradient ``g`` of its output; fit each operand's gradient to
    the operand (`_fit`: the one place gradients are reduced to their operands' shapes and
    cast), add it into the store and schedule the operands whose gradient is now complete.
    ``traced``: return what each operand received (None where it needs none)."""
    if fn.recorded_at != MUTATIONS.now or fn.saved_tensors is None:
        check_node(fn, out)  # released, or something changed in place since fn was recorded
    # a plain pass calls the rule itself, not through _rule: -2.3% instructions a node on W3
    rule_out = type(fn).backward(fn, g) if mode.direct else _rule(fn, out, g, mode)
    # type(...) is tuple before isinstance: -0.2% instructions on W3
    grads = rule_out if type(rule_out) is tuple else \
        tuple(rule_out) if isinstance(rule_out, (tuple, list)) else (rule_out,)
    needs = fn.needs_input_grad  # read once (fn's type varies: each read is a generic lookup,
    # -0.3% instructions on W3)
    if len(grads) != len(needs):
        raise RuntimeError(_wrong_count(fn, grads))
    sums = store.sums
    sent: list[G | None] | None = [] if traced else None
    for p, need, gi in zip(fn.inputs, needs, grads):
        if need:
            if gi is not None:
                d = p._data
                # as it is when it fits (a plain pass, so G is ndarray); ``is``: dtype == is a
                # rich comparison (_fit compares exactly)
                got: G = gi if (  # type: ignore[assignment]
                    type(gi) is np.ndarray and gi.shape == d.shape and gi.dtype is d.dtype
                    and not mode.recorded) else _fit(fn, p, gi, mode)
                if p in sums:
                    store.add(p, got)
                else:
                    sums[p] = got
            # a count that reaches 0 is not stored back (with check_node's one test above for
            # two: -0.6% instructions on W3)
            left = consumers[p] - 1
            if left:
                consumers[p] = left
            elif p in sums:
                ready.append(p)
        if sent is not None:
            sent.append(got if need and gi is not None else None)
    return () if sent is None else tuple(sent)


def _rule(fn: Function, out: Tensor, g: G, mode: Pass[G]) -> RuleGrads:
    """The node's backward rule under ``create_graph`` (on a `GraphCtx`) or anomaly mode."""
    if mode.anomaly:
        return _rule_under_anomaly(fn, out, g, mode)
    return type(fn).backward(GraphCtx(fn, out) if mode.recorded else fn, g)


def _rule_under_anomaly(fn: Function, out: Tensor, g: G, mode: Pass[G]) -> tuple[RuleGrad, ...]:
    """The rule, with the ops it records blamed on ``fn``; its gradients checked for NaN/inf."""
    state = LOCAL.mode
    outer, state.backward_node = state.backward_node, fn
    try:  # numpy's float warnings become the AnomalyError check_backward raises
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            got = type(fn).backward(GraphCtx(fn, out) if mode.recorded else fn, g)
    finally:
        state.backward_node = outer
    grads = tuple(got) if isinstance(got, (tuple, list)) else (got,)
    if len(grads) != len(fn.needs_input_grad):
        raise RuntimeError(_wrong_count(fn, grads))
    check_backward(fn, grads)
    return grads


def _wrong_count(fn: Function, grads: tuple[RuleGrad, ...]) -> str:
    return (f"{fn.name}.backward returned {len(grads)} gradients for "
            f"{len(fn.needs_input_grad)} operands")


def _fit(fn: Function, p: Tensor, gi: RuleGrad, mode: Pass[G]) -> G:
    """A rule's gradient for operand ``p`` as the engine keeps it, summed over the axes ``p``
    was broadcast along and cast to ``p``'s dtype."""
    gi = mode.as_grad(gi)
    d = p._data
    if gi.shape != d.shape:
        gi = reduce_to(gi, d.shape, mode.xp, fn.name,
                       lambda: next(i for i, a in enumerate(fn.inputs) if a is p))
    if gi.dtype != d.dtype:
        if gi.dtype.kind not in "biuf":  # complex would lose its imaginary part silently
            raise TypeError(
                f"{fn.name}.backward returned a gradient of dtype {gi.dtype} for an operand of "
                f"dtype {d.dtype}: gradients must be real numbers"
            )
        gi = gi.astype(d.dtype)
    return gi


def reduce_to(g: S, shape: tuple[int, ...], xp: SumNamespace | SimpleNamespace, op: str,
              index: int | str | Callable[[], int]) -> S:
    """Sum a gradient over the axes along which its operand was broadcast (a new array).
    ``index`` names the operand in errors (a callable giving it is accepted)."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead > 0 and gshape[lead:] == shape:  # only leading axes were added (a bias, a scalar)
        return xp.sum(g, axis=0 if lead == 1 else tuple(range(lead)))
    if lead < 0 or any(n != 1 and n != gshape[k + lead] for k, n in enumerate(shape)):
        raise RuntimeError(
            f"{op}.backward returned a gradient of shape {gshape} for operand "
            f"{index() if callable(index) else index} of shape {shape}: a gradient must have its "
            "operand's shape or broadcast to it"
        )
    if lead:
        g = xp.sum(g, axis=tuple(range(lead)))
    ones = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
    if ones:
        g = xp.sum(g, axis=ones, keepdims=True)
    return g


def check_node(fn: Function, out: Tensor) -> None:
    """Raise if ``fn``'s saved arrays were released by an earlier backward, or if one of them
    was modified in place (`check_versions`)."""
    if fn.saved_tensors is None:
        raise RuntimeError(RELEASED.format(op=fn.name))
    check_versions(fn, out)


def check_versions(fn: Function, out: Tensor) -> None:
    """Raise if an array ``fn`` saved was modified in place (through the API) after saving."""
    candidates = [(a, f"operand {i}") for i, a in enumerate(fn.inputs) if isinstance(a, Tensor)]
    candidates.append((out, "output"))
    for s in fn.saved_tensors or ():
        for t, role in candidates:
            v = t._versions
            if s is t._data and v is not None and v.changed_at > fn.recorded_at:
                label = f" {t.name!r}" if t.name else ""
                raise RuntimeError(
                    f"{fn.name}: its {role}{label} (shape {t.shape}, dtype {t.dtype}) was modified "
                    f"in place (now at version {v.version}) after {fn.name} saved it for "
                    "backward, so the gradient would be wrong. Make the change out of place "
                    "(y = x + 1), or change it only after backward()."
                )


# ---- phase 4: release ------------------------------------------------------------------------
class _Released:
    """Stands, in a root's operands, for an intermediate tensor a finished backward let go of."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<released by backward>"


RELEASED_OPERAND = _Released()


def release_intermediates(roots: Sequence[Tensor]) -> None:
    """After a backward without retain_graph, the outputs no longer hold the tensors they were
    computed from: unless the user holds them, the intermediates and their arrays are freed
    (as in PyTorch), even while an output itself is kept (``losses.append(loss)``)."""
    for root in roots:
        fn = root.grad_fn
        if fn is not None:
            fn.inputs = tuple(
                RELEASED_OPERAND if isinstance(p, Tensor) and p.grad_fn is not None else p
                for p in fn.inputs
            )
