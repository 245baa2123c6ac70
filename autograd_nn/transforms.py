"""Function transforms: grad, value_and_grad, jacobian, hessian, hvp and jvp.

Each takes a function of Tensors. Arguments that are not already part of a graph become fresh
leaves; arguments that are (because the transform runs inside another one, as in
``jacobian(grad(f))``) are used as they are and the result keeps its graph, so transforms nest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd
from .mode import enable_grad, is_grad_enabled
from .ops import reshape, stack
from .tensor import Tensor

Argnums = int | tuple[int, ...]


def _leaves(given: tuple[Any, ...], argnums: Argnums,
            name: str) -> tuple[list[Any], list[Tensor], bool]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    args = list(given)
    nested = False
    for i in nums:
        if i >= len(args) or i < -len(args):
            raise ValueError(
                f"{name}: argnums {argnums} but the function got {len(args)} arguments"
            )
        a = args[i]
        if isinstance(a, Tensor) and a.requires_grad and is_grad_enabled():
            nested = True
            continue
        data = a.data if isinstance(a, Tensor) else a
        arr = np.array(data, dtype=None if np.asarray(data).dtype.kind == "f" else np.float64)
        args[i] = Tensor._from_op(arr, None)
        args[i].requires_grad = True
    return args, [args[i] for i in nums], nested


def _call(f: Callable, args: list, name: str) -> Tensor:
    with enable_grad():
        out = f(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}: the function must return a Tensor, got {type(out).__name__}")
    return out


def _grads(out: Tensor, xs: list[Tensor], create_graph: bool, seed: Any = None,
           retain: bool = False) -> list[Tensor]:
    if not out.requires_grad:
        return [Tensor._from_op(np.zeros_like(x.data), None) for x in xs]
    found = autograd.grad(out, xs, grad_outputs=seed, retain_graph=retain or create_graph,
                        create_graph=create_graph, allow_unused=True)
    return [Tensor._from_op(np.zeros_like(x.data), None) if g is None else g
            for x, g in zip(xs, found)]


def _one_or_tuple(argnums: Argnums, items: list) -> Any:
    return items[0] if isinstance(argnums, int) else tuple(items)


def value_and_grad(f: Callable[..., Tensor], argnums: Argnums = 0) -> Callable[..., tuple]:
    """``value_and_grad(f)(*args) -> (f(*args), df/dargs[argnums])`` for scalar-valued f."""

    def wrapped(*args: Any) -> tuple:
        args_, xs, nested = _leaves(args, argnums, "grad")
        out = _call(f, args_, "grad")
        if out.size != 1:
            raise ValueError(
                f"grad: the function must return a single element, got shape {out.shape}; "
                "use jacobian for vector outputs"
            )
        gs = _grads(out, xs, nested)
        return (out if nested else out.detach()), _one_or_tuple(argnums, gs)

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
        args_, xs, nested = _leaves(args, argnums, "jacobian")
        out = _call(f, args_, "jacobian")
        rows: list[list[Tensor]] = [[] for _ in xs]
        for k in range(out.size):
            seed = np.zeros(out.shape, dtype=out.dtype)
            seed.flat[k] = 1
            for r, g in zip(rows, _grads(out, xs, nested, seed=seed, retain=True)):
                r.append(g)
        result = []
        for x, r in zip(xs, rows):
            shape = out.shape + x.shape
            if not r:
                result.append(Tensor._from_op(np.zeros(shape, dtype=x.dtype), None))
            elif nested:
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


def _dot(gs: list[Tensor], vs: tuple[Any, ...]) -> Tensor:
    """``sum_i <gs[i], vs[i]>``, recorded (it is differentiated once more)."""
    terms = [(g * v).sum() for g, v in zip(gs, vs)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def hvp(f: Callable[..., Tensor], primals: Any, tangents: Any) -> tuple[Tensor, Any]:
    """Hessian-vector product of scalar ``f`` at ``primals`` along ``tangents``, by double
    backward: returns ``(f(primals), H @ v)`` (tuples when primals is a tuple)."""
    ps, ts, single = _pairs(primals, tangents, "hvp")
    args_, xs, nested = _leaves(ps, tuple(range(len(ps))), "hvp")
    out = _call(f, args_, "hvp")
    if out.size != 1:
        raise ValueError(f"hvp: the function must return a single element, got shape {out.shape}")
    hv = _grads(_dot(_grads(out, xs, create_graph=True), ts), xs, nested)
    return (out if nested else out.detach()), (hv[0] if single else tuple(hv))


def jvp(f: Callable[..., Tensor], primals: Any, tangents: Any) -> tuple[Tensor, Tensor]:
    """Jacobian-vector product (forward-mode derivative) of ``f`` at ``primals`` along
    ``tangents``, by the double-backward trick: returns ``(f(primals), J @ v)``."""
    ps, ts, _ = _pairs(primals, tangents, "jvp")
    args_, xs, nested = _leaves(ps, tuple(range(len(ps))), "jvp")
    out = _call(f, args_, "jvp")
    u = Tensor._from_op(np.zeros_like(out.data), None)
    u.requires_grad = True
    (jv,) = _grads(_dot(_grads(out, xs, create_graph=True, seed=u), ts), [u], nested)
    return (out if nested else out.detach()), jv
