"""The reverse-mode pass, in named phases.

`run_backward` counts, for every tensor that will receive a gradient, the edges that bring one
(`count_consumers`); then pops a tensor whose gradient is complete, runs its hooks, delivers
the gradient to ``.grad`` (leaves, retained grads) or to the caller (``inputs=``), calls its
node's backward (`node_backward`: the one place where gradients are reduced to their operands'
shapes and cast to their dtypes), adds the results into the `GradientStore`, and releases
the node's saved arrays. Whether the pass is plain (numpy arrays, nothing recorded) or
``create_graph`` (Tensors, every rule's ops recorded) is chosen once, as a `PlainPass` or a
`RecordedPass`; a tracer, if given, is called once per tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from types import SimpleNamespace
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import numpy as np

from .anomaly import check_backward
from .function import Function
from .mode import LOCAL, enable_grad
from .registry import PLAIN, RECORDED
from .tensor import Tensor
from .versions import MUTATIONS

Grad = np.ndarray | Tensor  # an ndarray in a plain pass, a Tensor under create_graph
G = TypeVar("G", np.ndarray, Tensor)  # the gradients of one pass: all ndarrays, or all Tensors
#: what a rule may return for one operand: a gradient (any broadcastable shape, any real dtype),
#: a numpy or Python number, or None (no gradient)
RuleGrad = np.ndarray | Tensor | np.generic | float | None
RuleGrads = RuleGrad | tuple[RuleGrad, ...] | list[RuleGrad]  # what a rule returns
Tracer = Callable[[Tensor, Grad, Function | None, tuple[Grad | None, ...]], object]


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
    if create_graph:  # the seeds are Tensors (autograd.seed_for)
        tensors: Sequence[Tensor] = seeds  # type: ignore[assignment]
        return _run(RecordedPass(anomaly), roots, tensors, retain_graph, inputs, tracer)
    arrays: Sequence[np.ndarray] = seeds  # type: ignore[assignment]  # and ndarrays here
    return _run(PlainPass(anomaly), roots, arrays, retain_graph, inputs, tracer)


def _run(mode: Pass[G], roots: Sequence[Tensor], seeds: Sequence[G], retain_graph: bool,
         inputs: Sequence[Tensor] | None, tracer: Tracer | None) -> list[Grad | None] | None:
    """`run_backward` with the pass chosen: the loop over ready tensors."""
    consumers = count_consumers(roots)
    store = mode.store(roots, seeds)
    wanted = None if inputs is None else set(inputs)
    found: dict[Tensor, Grad] = {}
    sums, traced = store.sums, tracer is not None
    into_grad = wanted is None and not traced  # deliveries go straight to .grad (store.deliver)
    with mode.grad_mode():
        ready = [r for r in sums if r not in consumers]
        while ready:
            t = ready.pop()
            g = sums.pop(t)  # complete: no gradient arrives after this
            if t._hooks:
                g = run_hooks(t, g, mode)
            fn = t.grad_fn
            if wanted is not None or fn is None or t._retains_grad:
                if into_grad:
                    store.deliver(t, g)
                else:
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
def count_consumers(roots: Sequence[Tensor]) -> dict[Tensor, int]:
    """For every tensor below the roots that needs a gradient: how many edges will bring one
    (iteratively, so any depth is fine). A root that feeds another root is walked once."""
    consumers: dict[Tensor, int] = {}
    stack = list(dict.fromkeys(roots))
    roots_set = set(stack) if len(stack) > 1 else ()
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


# ---- the gradient store: sums, and who may be written ----------------------------------------
class Store(Protocol[G]):
    """What the loop needs of a gradient store: the sums so far (it pops complete ones and puts
    first arrivals straight in), adding a later arrival, and delivering into ``.grad``."""

    sums: dict[Tensor, G]

    def add(self, t: Tensor, g: G) -> None: ...

    def deliver(self, t: Tensor, g: G) -> None: ...


class GradientStore:
    """The sum of the gradients that arrived at each tensor so far, as ndarrays.

    Copy-on-write: an array a rule returned may be a saved array, a view of one, another
    tensor's gradient or a seed the caller holds, so it is never written. The first sum of two
    gradients allocates an array the store owns; later arrivals are added into it in place.
    Arrays handed out as ``.grad`` are copied when something else may hold them."""

    __slots__ = ("sums", "owned", "handed_out")

    def __init__(self, roots: Sequence[Tensor], seeds: Sequence[np.ndarray]) -> None:
        self.sums: dict[Tensor, np.ndarray] = {}  # the loop pops complete sums straight from here
        self.owned: set[Tensor] = set()  # tensors whose sum is an array this store allocated
        self.handed_out = set(map(id, seeds))  # ids of arrays visible outside this pass
        for root, seed in zip(roots, seeds):
            self.add(root, seed)

    def add(self, t: Tensor, g: np.ndarray) -> None:
        prev = self.sums.get(t)
        if prev is None:
            self.sums[t] = g
        elif t in self.owned:
            np.add(prev, g, out=prev)
        else:
            self.sums[t] = np.asarray(prev + g)
            self.owned.add(t)

    def deliver(self, t: Tensor, g: np.ndarray) -> None:
        """Add ``g`` into ``t.grad`` (a leaf, or a non-leaf that retains its grad)."""
        old = t._grad
        if old is None:
            if g.base is not None or id(g) in self.handed_out:
                g = g.copy()
            self.handed_out.add(id(g))
            t._grad = Tensor._from_op(g, None)
        elif old.grad_fn is not None:  # a gradient with a graph, from a create_graph pass
            t._grad = old + g
        else:
            t._grad = Tensor._from_op(np.asarray(old._data + g), None)


class RecordedGradientStore:
    """The gradient sums of a ``create_graph`` pass: Tensors, added by a recorded ``+``."""

    __slots__ = ("sums",)

    def __init__(self, roots: Sequence[Tensor], seeds: Sequence[Tensor]) -> None:
        self.sums: dict[Tensor, Tensor] = {}
        for root, seed in zip(roots, seeds):
            self.add(root, seed)

    def add(self, t: Tensor, g: Tensor) -> None:
        prev = self.sums.get(t)
        self.sums[t] = g if prev is None else prev + g

    def deliver(self, t: Tensor, g: Tensor) -> None:
        t._grad = g if t._grad is None else t._grad + g


# ---- plain or create_graph: chosen once per pass ---------------------------------------------
class Pass(Generic[G]):
    """What differs between a plain and a ``create_graph`` pass, chosen once: the kind of
    gradient (``G``), the store, the namespace rules get, and the grad mode they run in."""

    __slots__ = ("anomaly", "direct")
    recorded: ClassVar[bool]  # rules get a GraphCtx, and every gradient goes through _fit
    xp: ClassVar[SimpleNamespace]

    def __init__(self, anomaly: bool) -> None:
        self.anomaly = anomaly  # detect_anomaly() was on when the pass started
        self.direct = not (anomaly or self.recorded)  # rules get the node, nothing is checked

    def store(self, roots: Sequence[Tensor], seeds: Sequence[G]) -> Store[G]:
        raise NotImplementedError

    def as_grad(self, gi: RuleGrad) -> G:
        """A rule's (not None) gradient as this pass keeps gradients."""
        raise NotImplementedError

    def to_hook(self, g: G) -> Tensor:
        raise NotImplementedError

    def from_hook(self, r: Tensor, t: Tensor) -> G:
        raise NotImplementedError

    def grad_mode(self) -> AbstractContextManager[object]:
        raise NotImplementedError


class PlainPass(Pass[np.ndarray]):
    """A first-order pass: gradients are ndarrays, rules get the node itself (``ctx.xp`` is
    numpy), nothing is recorded."""

    __slots__ = ()
    recorded = False
    xp = PLAIN

    def store(self, roots: Sequence[Tensor], seeds: Sequence[np.ndarray]) -> GradientStore:
        return GradientStore(roots, seeds)

    def as_grad(self, gi: RuleGrad) -> np.ndarray:
        return gi._data if isinstance(gi, Tensor) else np.asarray(gi)

    def to_hook(self, g: np.ndarray) -> Tensor:
        return Tensor._from_op(g, None)

    def from_hook(self, r: Tensor, t: Tensor) -> np.ndarray:
        return r._data.astype(t.dtype, copy=False)

    def grad_mode(self) -> AbstractContextManager[object]:
        """A plain pass runs in the caller's grad mode."""
        return nullcontext()


class RecordedPass(Pass[Tensor]):
    """``create_graph=True``: gradients are Tensors and every rule's ops are recorded (rules get
    a `GraphCtx`, ``ctx.xp`` the differentiable functions), so gradients can be differentiated."""

    __slots__ = ()
    recorded = True
    xp = RECORDED

    def store(self, roots: Sequence[Tensor], seeds: Sequence[Tensor]) -> RecordedGradientStore:
        return RecordedGradientStore(roots, seeds)

    def as_grad(self, gi: RuleGrad) -> Tensor:
        return gi if isinstance(gi, Tensor) else Tensor._from_op(np.asarray(gi), None)

    def to_hook(self, g: Tensor) -> Tensor:
        return g

    def from_hook(self, r: Tensor, t: Tensor) -> Tensor:
        return r

    def grad_mode(self) -> AbstractContextManager[object]:
        """Recording on, so that the rules' ops make the gradients' graph."""
        return enable_grad()


class GraphCtx:
    """What a backward rule sees under ``create_graph=True``: saved operands and output as
    Tensors, ``xp`` the differentiable namespace; everything else is read from the node."""

    xp = RECORDED

    def __init__(self, node: Function, out: Tensor) -> None:
        self._node = node
        tensors = [a for a in node.inputs if isinstance(a, Tensor)]
        self.saved_tensors = tuple(_lift(s, tensors, out) for s in node.saved_tensors or ())

    def __getattr__(self, attr: str) -> Any:  # an op's own attributes (ctx.axes): any type
        return getattr(self._node, attr)


def _lift(s: object, tensors: list[Tensor], out: Tensor) -> object:
    """A saved array as the Tensor whose data it is (an operand or the output), else as is."""
    if isinstance(s, np.ndarray):
        if s is out._data:
            return out
        for t in tensors:
            if s is t._data:
                return t
    return s


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
    if fn.saved_tensors is None:
        raise RuntimeError(RELEASED.format(op=fn.name))
    if fn.recorded_at != MUTATIONS.now:  # something changed in place since fn was recorded
        check_versions(fn, out)
    # a plain pass calls the rule itself, not through _rule: -2.3% instructions a node on W3
    rule_out = type(fn).backward(fn, g) if mode.direct else _rule(fn, out, g, mode)
    grads = rule_out if isinstance(rule_out, tuple) else \
        tuple(rule_out) if isinstance(rule_out, list) else (rule_out,)
    if len(grads) != len(fn.needs_input_grad):
        raise RuntimeError(_wrong_count(fn, grads))
    sums = store.sums
    sent: list[G | None] | None = [] if traced else None
    for p, need, gi in zip(fn.inputs, fn.needs_input_grad, grads):
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
            left = consumers[p] - 1
            consumers[p] = left
            if not left and p in sums:
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
