"""Function transforms: grad, value_and_grad, jacobian, hessian, hvp and jvp.

Each takes a function of Tensors and differentiates with respect to fresh variables: an argument
that is not part of a graph becomes a new leaf; one that is (because the transform runs inside
another one, as in ``jacobian(grad(f))``) enters through an identity node, so the inner derivative
holds every other use of it fixed. Whenever the function's result reaches a tensor that requires
grad from outside the transform (an argument of an enclosing transform, a closure, a global
parameter), the derivative is computed with ``create_graph=True`` and keeps that graph, so every
enclosing transform (and ``backward``) sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import engine
from .mode import enable_grad, is_grad_enabled
from .ops import reshape, stack
from .tensor import Tensor

Argnums = int | tuple[int, ...]


def _leaves(args: tuple, argnums: Argnums, name: str) -> tuple[list, list[Tensor]]:
    """The arguments with the differentiated ones replaced by fresh variables, and those."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    args = list(args)
    for i in nums:
        if i >= len(args) or i < -len(args):
            raise ValueError(
                f"{name}: argnums {argnums} but the function got {len(args)} arguments"
            )
        a = args[i]
        if isinstance(a, Tensor) and a.requires_grad and is_grad_enabled():
            args[i] = reshape(a, a.shape)  # identity node: a fresh variable still tied to a
            continue
        data = a.data if isinstance(a, Tensor) else a
        arr = np.array(data, dtype=None if np.asarray(data).dtype.kind == "f" else np.float64)
        args[i] = Tensor._from_op(arr, None)
        args[i].requires_grad = True
    return args, [args[i] for i in nums]


def _reaches_outside(out: Tensor, own: list[Tensor]) -> bool:
    """True when grad mode is on and ``out``'s graph reaches a tensor that requires grad other
    than the transform's own variables ``own`` (then the derivative must keep its graph)."""
    if not is_grad_enabled() or not out.requires_grad:
        return False
    mine = {id(x) for x in own if x.grad_fn is None}  # identity nodes lead outside
    seen: set = set()
    stack = [out]
    while stack:
        t = stack.pop()
        if id(t) in mine or id(t) in seen:
            continue
        seen.add(id(t))
        fn = t.grad_fn
        if fn is None:
            if t.requires_grad:
                return True
            continue
        stack.extend(p for p in fn.inputs if isinstance(p, Tensor) and p.requires_grad)
    return False


@contextmanager
def _variables(xs: list[Tensor]) -> Iterator[None]:
    """Retire the transform's fresh leaves when it returns: a graph the result keeps may still
    mention them, but no enclosing transform must mistake them for its own inputs."""
    try:
        yield
    finally:
        for x in xs:
            if x.grad_fn is None:
                x._requires_grad = False


def _call(f: Callable, args: list, xs: list[Tensor], name: str) -> tuple[Tensor, bool]:
    """``f(*args)`` and whether its graph reaches outside the transform."""
    with enable_grad():
        out = f(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}")
    return out, _reaches_outside(out, xs)


def _grads(out: Tensor, xs: list[Tensor], create_graph: bool, seed: Any = None,
           retain: bool = False) -> list[Tensor]:
    if not out.requires_grad:
        return [Tensor._from_op(np.zeros_like(x.data), None) for x in xs]
    found = engine.grad(out, xs, grad_outputs=seed, retain_graph=retain or create_graph,
                        create_graph=create_graph, allow_unused=True)
    return [Tensor._from_op(np.zeros_like(x.data), None) if g is None else g
            for x, g in zip(xs, found)]


def _one_or_tuple(argnums: Argnums, items: list) -> Any:
    return items[0] if isinstance(argnums, int) else tuple(items)


def value_and_grad(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., tuple]:
    """``value_and_grad(f)(*args) -> (f(*args), df/dargs[argnums])`` for scalar-valued f."""

    def wrapped(*args: Any) -> tuple:
        args_, xs = _leaves(args, argnums, "grad")
        with _variables(xs):
            out, keep_graph = _call(f, args_, xs, "grad")
            if out.size != 1:
                raise ValueError(
                    f"grad: the function must return a single element, got shape {out.shape}; "
                    "use jacobian for vector outputs"
                )
            gs = _grads(out, xs, keep_graph)
        return (out if keep_graph else out.detach()), _one_or_tuple(argnums, gs)

    return wrapped


def grad(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., Any]:
    """``grad(f)(*args)``: the gradient of scalar-valued ``f`` with respect to ``args[argnums]``."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    return wrapped


def jacobian(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., Any]:
    """``jacobian(f)(*args)``: d f / d args[argnums], shaped ``f's shape + the argument's shape``
    (one reverse pass per output element)."""

    def wrapped(*args: Any) -> Any:
        args_, xs = _leaves(args, argnums, "jacobian")
        rows: list[list[Tensor]] = [[] for _ in xs]
        with _variables(xs):
            out, keep_graph = _call(f, args_, xs, "jacobian")
            for k in range(out.size):
                seed = np.zeros(out.shape, dtype=out.dtype)
                seed.flat[k] = 1
                for r, g in zip(rows, _grads(out, xs, keep_graph, seed=seed, retain=True)):
                    r.append(g)
        result = []
        for x, r in zip(xs, rows):
            shape = out.shape + x.shape
            if not r:
                result.append(Tensor._from_op(np.zeros(shape, dtype=x.dtype), None))
            elif keep_graph:
                result.append(reshape(stack(r), shape))
            else:
                result.append(Tensor._from_op(np.stack([g.data for g in r]).reshape(shape), None))
        return _one_or_tuple(argnums, result)

    return wrapped


def hessian(f: Callable[..., Tensor], argnums: int = 0) -> Callable[..., Tensor]:
    """``hessian(f)(*args)``: second derivatives of scalar ``f``, shaped ``x.shape + x.shape``."""
    if not isinstance(argnums, int):
        raise TypeError("hessian: argnums must be a single int")
    return jacobian(grad(f, argnums), argnums)


def _pairs(primals: Any, tangents: Any, name: str) -> tuple[tuple, tuple, bool]:
    single = not isinstance(primals, (tuple, list))
    ps = (primals,) if single else tuple(primals)
    ts = (tangents,) if single else tuple(tangents)
    if len(ps) != len(ts):
        raise ValueError(f"{name}: {len(ps)} primals but {len(ts)} tangent vectors")
    for p, t in zip(ps, ts):
        if np.shape(np.asarray(p)) != np.shape(np.asarray(t)):
            raise ValueError(f"{name}: a tangent of shape {np.shape(t)} for a primal of shape "
                             f"{np.shape(p)}; they must match")
    return ps, ts, single


def _dot(gs: list[Tensor], ts: tuple) -> Tensor:
    """sum_i <gs[i], ts[i]>, recorded."""
    dot = None
    for g, v in zip(gs, ts):
        term = (g * v).sum()
        dot = term if dot is None else dot + term
    return dot


def hvp(f: Callable[..., Tensor], primals: Any, tangents: Any) -> tuple[Tensor, Any]:
    """Hessian-vector product of scalar ``f`` at ``primals`` along ``tangents``, by double
    backward: returns ``(f(primals), H @ v)`` (tuples when primals is a tuple)."""
    ps, ts, single = _pairs(primals, tangents, "hvp")
    args_, xs = _leaves(ps, tuple(range(len(ps))), "hvp")
    with _variables(xs):
        out, keep_graph = _call(f, args_, xs, "hvp")
        if out.size != 1:
            raise ValueError(
                f"hvp: the function must return a single element, got shape {out.shape}"
            )
        gs = _grads(out, xs, create_graph=True)
        hv = _grads(_dot(gs, ts), xs, keep_graph)
    return (out if keep_graph else out.detach()), (hv[0] if single else tuple(hv))


def jvp(f: Callable[..., Tensor], primals: Any, tangents: Any) -> tuple[Tensor, Tensor]:
    """Jacobian-vector product (forward-mode derivative) of ``f`` at ``primals`` along
    ``tangents``, by the double-backward trick: returns ``(f(primals), J @ v)``."""
    ps, ts, _ = _pairs(primals, tangents, "jvp")
    args_, xs = _leaves(ps, tuple(range(len(ps))), "jvp")
    with _variables(xs):
        out, keep_graph = _call(f, args_, xs, "jvp")
        u = Tensor._from_op(np.zeros_like(out.data), None)
        u.requires_grad = True
        with _variables([u]):
            gs = _grads(out, xs, create_graph=True, seed=u)
            (jv,) = _grads(_dot(gs, ts), [u], keep_graph)
    return (out if keep_graph else out.detach()), jv
