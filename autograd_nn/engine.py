"""The reverse-mode pass: iterative topological order, gradient accumulation, the one place
where gradients of broadcast operands are reduced to their shapes, and graph release."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import Any

import numpy as np

from .function import Function, GraphCtx
from .mode import CLOCK, LOCAL
from .tensor import Tensor, seed_for

_ndarray = np.ndarray

RELEASED = (
    "{op}: trying to backward through the graph a second time: its saved arrays were released "
    "after the first backward. Pass retain_graph=True to the first backward() (or autograd.grad) "
    "if you need to go through the graph again."
)


def reduce_to(g: Any, shape: tuple, xp: Any, op: str, index: Any) -> Any:
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


def run_backward(
    roots: Sequence[Any],
    seeds: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Any] | None = None,
    tracer: Any = None,
) -> list | None:
    """Propagate ``seeds`` (one per root, root-shaped) back through the graph.

    Without ``inputs`` gradients accumulate into the leaves' ``.grad`` (and retained non-leaf
    grads are stored); with ``inputs`` nothing is stored and their gradients are returned.
    Seeds are ndarrays for a plain pass and Tensors for ``create_graph``. ``tracer``, if
    given, is called as ``tracer(tensor, grad, node, input_grads)`` for every tensor in the
    order processed (``node`` is None and ``input_grads`` () for leaves); grads as kept by the
    engine, input grads already reduced to their operands' shapes.
    """
    # 1. count, for every tensor that will receive a gradient, the edges that will bring one
    deps: dict = {}
    stack = list(roots) if len(roots) == 1 else list(dict.fromkeys(roots))
    rootset = set(stack) if len(stack) > 1 else ()  # a root may also feed another root
    while stack:
        fn = stack.pop().grad_fn
        if fn is not None:
            if fn.saved_tensors is None:
                raise RuntimeError(RELEASED.format(op=fn.name))
            for p, need in zip(fn.inputs, fn.needs_input_grad):
                if need:
                    if p in deps:
                        deps[p] += 1
                    else:
                        deps[p] = 1
                        if p not in rootset:
                            stack.append(p)

    # 2. process tensors whose gradient is complete, in reverse topological order
    grads: dict = {}
    for r, s in zip(roots, seeds):
        grads[r] = s if r not in grads else grads[r] + s
    ready = [r for r in grads if r not in deps]
    wanted = None if inputs is None else set(inputs)
    found: dict = {}
    owned: set = set()  # ids of arrays the engine allocated while accumulating (safe to add into)
    shared = set(map(id, seeds))  # ids of arrays already visible outside this pass
    st = LOCAL.mode
    anomaly = st.anomaly
    xp = GraphCtx.xp if create_graph else Function.xp
    prev_mode = st.grad_enabled
    if create_graph:
        st.grad_enabled = True
    collecting = gc.isenabled()
    if collecting:  # the pass makes no reference cycles: spare it the collector's sweeps
        gc.disable()
    try:
        while ready:
            t = ready.pop()
            g = grads.pop(t)
            if owned:
                owned.discard(id(g))
            if t._hooks:
                g = _run_hooks(t, g, create_graph)
            if wanted is not None and t in wanted:
                found[t] = g
            fn = t.grad_fn
            if fn is None:
                if tracer is not None:
                    tracer(t, g, None, ())
                if wanted is None:
                    _accumulate_leaf(t, g, create_graph, shared)
                continue
            if t._retains_grad and wanted is None:
                _accumulate_leaf(t, g, create_graph, shared)
            if fn.saved_tensors is None:
                raise RuntimeError(RELEASED.format(op=fn.name))
            if fn._tick != CLOCK[0]:
                _check_versions(fn, t)
            if anomaly:  # numpy's float warnings become the AnomalyError check_backward raises
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    out = type(fn).backward(GraphCtx(fn, t) if create_graph else fn, g)
            else:
                out = type(fn).backward(GraphCtx(fn, t) if create_graph else fn, g)
            if type(out) is not tuple:
                out = tuple(out) if isinstance(out, list) else (out,)
            needs = fn.needs_input_grad
            if len(out) != len(needs):
                raise RuntimeError(
                    f"{fn.name}.backward returned {len(out)} gradients for {len(needs)} operands"
                )
            if anomaly:
                from .anomaly import check_backward

                check_backward(fn, out)
            if tracer is not None:
                sent = []
            for p, need, gi in zip(fn.inputs, needs, out):
                if not need:
                    if tracer is not None:
                        sent.append(None)
                    continue
                if gi is not None:
                    if create_graph or type(gi) is not _ndarray:
                        gi = _as_grad(gi, create_graph)
                    d = p._data
                    if gi.shape != d.shape or gi.dtype != d.dtype:
                        gi = _fit(gi, d, xp, fn, p)
                    if p in grads:
                        prev = grads[p]
                        if create_graph:
                            grads[p] = prev + gi
                        elif id(prev) in owned:
                            np.add(prev, gi, out=prev)
                        else:
                            acc = np.asarray(prev + gi)
                            owned.add(id(acc))
                            grads[p] = acc
                    else:
                        grads[p] = gi
                if tracer is not None:
                    sent.append(gi)
                n = deps[p] - 1
                if n:
                    deps[p] = n
                elif p in grads:
                    ready.append(p)
            if tracer is not None:
                tracer(t, g, fn, tuple(sent))
            if not retain_graph:
                fn.saved_tensors = None
    finally:
        st.grad_enabled = prev_mode
        if collecting:
            gc.enable()
    if not retain_graph and tracer is None:
        for r in roots:
            _let_go(r)
    if inputs is None:
        return None
    return [found.get(x) for x in inputs]


class _Released:
    """Stands, in a root's operands, for an intermediate tensor a finished backward let go of."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<released by backward>"


RELEASED_OPERAND = _Released()


def _let_go(root: Any) -> None:
    """After a backward without retain_graph, the output no longer holds the tensors it was
    computed from: unless the user holds them, the intermediates and their arrays are freed
    (as in PyTorch), even while the output itself is kept (``losses.append(loss)``)."""
    fn = root.grad_fn
    if fn is not None:
        fn.inputs = tuple(
            RELEASED_OPERAND if isinstance(p, Tensor) and p.grad_fn is not None else p
            for p in fn.inputs
        )


def _as_grad(gi: Any, create_graph: bool) -> Any:
    """A gradient as the engine keeps it: an ndarray, or a Tensor under create_graph."""
    if create_graph:
        return gi if isinstance(gi, Tensor) else Tensor._from_op(np.asarray(gi), None)
    return np.asarray(gi._data if isinstance(gi, Tensor) else gi)


def _fit(gi: Any, data: np.ndarray, xp: Any, fn: Any, p: Any) -> Any:
    """Reduce a gradient to its operand's shape (broadcasting) and cast it to its dtype."""
    if gi.shape != data.shape:
        gi = reduce_to(gi, data.shape, xp, fn.name,
                       lambda: next(i for i, a in enumerate(fn.inputs) if a is p))
    if gi.dtype != data.dtype:
        if gi.dtype.kind not in "biuf":  # complex would lose its imaginary part silently
            raise TypeError(
                f"{fn.name}.backward returned a gradient of dtype {gi.dtype} for an operand of "
                f"dtype {data.dtype}: gradients must be real numbers"
            )
        gi = gi.astype(data.dtype)
    return gi


def _visible(g: Any, create_graph: bool, shared: set) -> Any:
    """Wrap a gradient for ``.grad``; copy an array that something else may hold or write."""
    if create_graph:
        return g
    if g.base is not None or id(g) in shared:
        g = g.copy()
    shared.add(id(g))
    return Tensor._from_op(g, None)


def _accumulate_leaf(t: Any, g: Any, create_graph: bool, shared: set) -> None:
    """Add a gradient into ``t.grad`` (a leaf, or a non-leaf that retains its grad)."""

    old = t._grad
    if old is None:
        t._grad = _visible(g, create_graph, shared)
    elif create_graph or old.grad_fn is not None:
        t._grad = old + g
    else:
        t._grad = Tensor._from_op(np.asarray(old._data + g), None)


def _run_hooks(t: Any, g: Any, create_graph: bool) -> Any:

    for hook in list(t._hooks.values()):
        arg = g if create_graph else Tensor._from_op(g, None)
        r = hook(arg)
        if r is None:
            continue
        r = r if isinstance(r, Tensor) else Tensor(r, dtype=t.dtype)
        if r.shape != t.shape:
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape {r.shape} "
                f"for a tensor of shape {t.shape}"
            )
        g = r if create_graph else r._data.astype(t.dtype, copy=False)
    return g


def _check_versions(fn: Function, out: Any) -> None:
    """Raise if an array ``fn`` saved was modified in place (through the API) after saving."""

    candidates = [(a, f"operand {i}") for i, a in enumerate(fn.inputs) if isinstance(a, Tensor)]
    candidates.append((out, "output"))
    for s in fn.saved_tensors:
        for t, role in candidates:
            if s is t._data and t._vc is not None and t._vc[1] > fn._tick:
                label = f" {t.name!r}" if t.name else ""
                raise RuntimeError(
                    f"{fn.name}: its {role}{label} (shape {t.shape}, dtype {t.dtype}) was modified "
                    f"in place (now at version {t._vc[0]}) after {fn.name} saved it for backward, "
                    "so the gradient would be wrong. Make the change out of place (y = x + 1), or "
                    "change it only after backward()."
                )


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not stored in ``.grad``
    (like ``torch.autograd.grad``). With ``create_graph=True`` they carry a graph of their own."""

    outs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    ins = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"grad: output {i} is a {type(o).__name__}, not a Tensor")
    if isinstance(outputs, Tensor):
        gouts = [grad_outputs]
    elif grad_outputs is None:
        gouts = [None] * len(outs)
    else:
        gouts = list(grad_outputs)
    if len(gouts) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(gouts)} grad_outputs")
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise ValueError(f"grad: input {i} is not a Tensor that requires grad")
    seeds = [seed_for(o, g, create_graph, "grad") for o, g in zip(outs, gouts)]
    retain = create_graph if retain_graph is None else retain_graph
    found = run_backward(outs, seeds, retain, create_graph, inputs=ins)
    result = []
    for i, (x, g) in enumerate(zip(ins, found)):
        if g is None:
            if not allow_unused:
                raise ValueError(
                    f"grad: input {i} (shape {x.shape}) is not part of the outputs' graph; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._from_op(np.array(g) if g.base is not None else g, None))
    return tuple(result)
