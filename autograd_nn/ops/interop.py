"""numpy calls on Tensors (``np.exp(t)``, ``np.sum(t, axis=0)``, ``array * t``): routed to the
differentiable op of the same name. A numpy function without a gradient rule runs on the
plain data when no operand requires grad, and raises otherwise (it would cut the graph). A
numpy call that writes into a Tensor (``out=``, ``np.add.at``, ``np.copyto``, ...) bumps its
version counter, or is refused inside a graph, as the in-place methods are."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..mode import is_grad_enabled
from ..tensor import Tensor, holds_graph
from . import arithmetic as ar
from . import elementwise as el
from . import reduce as rd
from . import shape as sh
from . import surface

_UFUNCS = {
    np.add: ar.add, np.subtract: ar.subtract, np.multiply: ar.multiply, np.divide: ar.divide,
    np.power: ar.power, np.negative: ar.negative, np.matmul: ar.matmul, np.exp: el.exp,
    np.log: el.log, np.sqrt: el.sqrt, np.absolute: el.abs, np.sin: el.sin, np.cos: el.cos,
    np.tanh: el.tanh, np.maximum: el.maximum, np.minimum: el.minimum,
    np.positive: lambda x: x, **surface.UFUNC_ROUTES,
}
# ufuncs whose derivative is zero wherever it exists: computed outside the graph
_CONSTANT_UFUNCS = {
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal, np.sign,
    np.isfinite, np.isnan, np.isinf, np.logical_and, np.logical_or, np.logical_not,
    np.logical_xor, np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.floor,
    np.ceil, np.rint, np.trunc, np.signbit,
}


def _plain(obj: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def _needs_grad(obj: Any) -> bool:
    """Does an argument (a tensor, or a list, tuple or dict holding some) require grad?"""
    return holds_graph([list(obj.values()) if isinstance(obj, dict) else obj])


def _wrap(result: Any) -> Any:
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    return Tensor._from_op(np.asarray(result), None)


# numpy functions that write into an argument: its position and keyword name
_WRITERS = {
    np.copyto: "dst", np.put: "a", np.place: "arr", np.putmask: "a", np.put_along_axis: "arr",
    np.fill_diagonal: "a",
}


def _destinations(func: Any, args: tuple, kwargs: dict) -> list[Tensor]:
    """The Tensors a numpy call writes into: ``out=``, ``ufunc.at``'s first operand, the
    target of np.copyto/put/place/putmask/put_along_axis/fill_diagonal/nan_to_num(copy=False)."""
    out = kwargs.get("out")
    found = list(out) if isinstance(out, tuple) else [out]
    if func in _WRITERS or func == "at" or (func is np.nan_to_num and not kwargs.get("copy", 1)):
        found.append(args[0] if args else kwargs.get(_WRITERS.get(func, "x")))
    return [t for t in found if isinstance(t, Tensor)]


def _write(name: str, dsts: list[Tensor], call: Any, args: tuple, kwargs: dict) -> Any:
    """Run a numpy call that writes into Tensors ``dsts``: refused inside a graph (as the
    in-place methods are), else run on the data with every destination's version bumped."""
    if is_grad_enabled() and (_needs_grad(args) or _needs_grad(kwargs)):
        raise RuntimeError(
            f"np.{name} writes in place into a Tensor, and a tensor involved requires grad: that "
            "would corrupt the graph. Write it out of place with autograd_nn's functions, or "
            "inside `with no_grad():`."
        )
    result = call(*_plain(args), **_plain(kwargs))
    for t in dsts:
        t._bump_version()
    out = kwargs.get("out")
    if out is not None:  # numpy returns out (ufuncs receive it as a tuple)
        return out[0] if isinstance(out, tuple) and len(out) == 1 else out
    for t in dsts:
        if result is t._data:
            return t
    return None if result is None else _wrap(result)


def array_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    if method == "__call__" and not kwargs and ufunc in _UFUNCS:
        return _UFUNCS[ufunc](*inputs)
    dsts = _destinations(method if method == "at" else ufunc, inputs, kwargs)
    if dsts:
        name = ufunc.__name__ + ("" if method == "__call__" else "." + method)
        return _write(name, dsts, getattr(ufunc, method), inputs, kwargs)
    if method == "__call__" and ufunc in _CONSTANT_UFUNCS and "out" not in kwargs:
        return _wrap(ufunc(*_plain(inputs), **kwargs))
    if _needs_grad(inputs) or "out" in kwargs:
        raise TypeError(
            f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method} has no gradient "
            "rule in autograd_nn (or was given out=). Use the autograd_nn function of that name "
            "(ag.stack, ag.concatenate to build arrays), call numpy on t.detach().numpy(), or "
            "write a Function with its derivative."
        )
    return _wrap(getattr(ufunc, method)(*_plain(inputs), **kwargs))


def _reduction(fn: Any) -> Any:
    def call(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, **kw: Any) -> Tensor:
        if dtype is not None or out is not None or kw:
            raise TypeError(f"np.{fn.__name__} on a Tensor takes only axis and keepdims")
        return fn(a, axis=axis, keepdims=keepdims)

    return call


def _var(fn: Any) -> Any:
    def call(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
             keepdims: bool = False, **kw: Any) -> Tensor:
        if dtype is not None or out is not None or kw:
            raise TypeError(f"np.{fn.__name__} on a Tensor takes only axis, ddof and keepdims")
        return fn(a, axis=axis, ddof=ddof, keepdims=keepdims)

    return call


def _extreme(fn: Any) -> Any:
    def call(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, **kw: Any) -> Any:
        if out is not None or kw:
            raise TypeError(f"np.{fn.__name__} on a Tensor takes only axis and keepdims")
        return fn(a, axis=axis, keepdims=keepdims)

    return call


def _dot(a: Any, b: Any) -> Tensor:
    if np.ndim(_plain(a)) == 0 or np.ndim(_plain(b)) == 0:
        return ar.multiply(a, b)
    if np.ndim(_plain(a)) > 2 or np.ndim(_plain(b)) > 2:
        raise TypeError("np.dot of Tensors with more than 2 axes: use matmul (its batch rules)")
    return ar.matmul(a, b)


_FUNCTIONS = {
    np.sum: _reduction(rd.sum), np.mean: _reduction(rd.mean), np.prod: _reduction(rd.prod),
    np.max: _extreme(rd.max), np.min: _extreme(rd.min), np.amax: _extreme(rd.max),
    np.amin: _extreme(rd.min), np.var: _var(rd.var), np.std: _var(rd.std),
    np.concatenate: sh.concatenate, np.stack: sh.stack, np.where: el.where,
    np.reshape: sh.reshape, np.transpose: sh.transpose, np.swapaxes: sh.swapaxes,
    np.squeeze: sh.squeeze, np.expand_dims: sh.expand_dims, np.broadcast_to: sh.broadcast_to,
    np.clip: el.clip, np.split: sh.split, np.ravel: sh.flatten, np.dot: _dot,
    np.shape: lambda a: np.shape(_plain(a)), np.ndim: lambda a: np.ndim(_plain(a)),
    np.size: lambda a, axis=None: np.size(_plain(a), axis), **surface.FUNCTION_ROUTES,
}


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    dsts = _destinations(func, args, kwargs)
    if dsts:
        return _write(func.__name__, dsts, func, args, kwargs)
    if func in _FUNCTIONS:
        return _FUNCTIONS[func](*args, **kwargs)
    if _needs_grad(args) or _needs_grad(kwargs):
        raise TypeError(
            f"np.{func.__name__} has no gradient rule in autograd_nn and an operand requires "
            "grad: use autograd_nn's functions (ag.stack, ag.concatenate, ag.reshape, ...; the one "
            "of that name if there is one), or call numpy on .detach().numpy()."
        )
    return func(*_plain(args), **_plain(kwargs))
