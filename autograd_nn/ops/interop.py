"""numpy calls on Tensors (``np.exp(t)``, ``np.sum(t, axis=0)``, ``array * t``): routed to the
registered op of that numpy function (registry.py). A numpy function without a gradient rule
runs on the plain data when no operand requires grad, and raises otherwise (it would cut the
graph). A numpy call that writes into a Tensor (``out=``, ``np.add.at``, ``np.copyto``, ...) bumps
its version counter, or is refused inside a graph, as the in-place methods are."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..function import constant, data_of, holds_graph, is_tensor
from ..mode import is_grad_enabled
from ..registry import OPS, numpy_routes

if TYPE_CHECKING:
    from ..tensor import Tensor

# ufuncs whose derivative is zero wherever it exists: computed outside the graph
_CONSTANT_UFUNCS = {
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal, np.sign,
    np.isfinite, np.isnan, np.isinf, np.logical_and, np.logical_or, np.logical_not,
    np.logical_xor, np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.floor,
    np.ceil, np.rint, np.trunc, np.signbit,
}


def _plain(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return data_of(obj)


def _needs_grad(obj: Any) -> bool:
    """Does an argument (a tensor, or a list, tuple or dict holding some) require grad?"""
    return holds_graph([list(obj.values()) if isinstance(obj, dict) else obj])


def _wrap(result: Any) -> Any:
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    return constant(result)


# numpy functions that write into an argument: its position and keyword name
_WRITERS = {
    np.copyto: "dst", np.put: "a", np.place: "arr", np.putmask: "a", np.put_along_axis: "arr",
    np.fill_diagonal: "a",
}


def _destinations(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Tensor]:
    """The Tensors a numpy call writes into: ``out=``, ``ufunc.at``'s first operand, the
    target of np.copyto/put/place/putmask/put_along_axis/fill_diagonal/nan_to_num(copy=False)."""
    out = kwargs.get("out")
    found = list(out) if isinstance(out, tuple) else [out]
    if func in _WRITERS or func == "at" or (func is np.nan_to_num and not kwargs.get("copy", 1)):
        found.append(args[0] if args else kwargs.get(_WRITERS.get(func, "x")))
    return [t for t in found if is_tensor(t)]  # type: ignore[misc]


def _write(name: str, dsts: list[Tensor], call: Any, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> Any:
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


# numpy functions that are not ops of their own
_EXTRA: dict[Callable[..., Any], Callable[..., Any]] = {
    np.positive: lambda x: x,
    np.shape: lambda a: np.shape(_plain(a)), np.ndim: lambda a: np.ndim(_plain(a)),
    np.size: lambda a, axis=None: np.size(_plain(a), axis),
}


def _by_name(numpy_fn: Callable[..., Any], op_fn: Callable[..., Any]) -> Callable[..., Any]:
    """A call with numpy's signature turned into one of the op's: the first argument stays
    positional, the others go by name (numpy's order of them may differ from the op's)."""
    try:
        theirs = inspect.signature(numpy_fn)
    except (TypeError, ValueError):  # a builtin without a signature: the op takes numpy's
        return op_fn
    ours = inspect.signature(op_fn).parameters
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    if any(p.kind in variadic for p in [*theirs.parameters.values(), *ours.values()]):
        return op_fn  # *args or **kwargs: the op mirrors numpy's signature itself

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = theirs.bind(*args, **kwargs).arguments
        first, *rest = bound
        extra = [k for k in rest if k not in ours]
        if extra:
            raise TypeError(f"np.{numpy_fn.__name__} on a Tensor takes no {', '.join(extra)} "
                            f"argument (the op's parameters: {', '.join(list(ours)[1:])})")
        return op_fn(bound[first], **{k: bound[k] for k in rest})

    return call


Routes = dict[Any, Callable[..., Any]]
_ROUTES: list[Any] = [-1, {}, {}]  # the number of ops they were built from, ufuncs, functions


def _routes() -> tuple[Routes, Routes]:
    """ufunc and function routes of the registered ops (rebuilt when an op is registered)."""
    if _ROUTES[0] != len(OPS):
        ufuncs: Routes = {}
        functions: Routes = {}
        for numpy_fn, op_fn in {**numpy_routes(), **_EXTRA}.items():
            if isinstance(numpy_fn, np.ufunc):
                ufuncs[numpy_fn] = op_fn
            else:
                functions[numpy_fn] = _by_name(numpy_fn, op_fn)
        _ROUTES[:] = [len(OPS), ufuncs, functions]
    return _ROUTES[1], _ROUTES[2]


def ufunc_routes() -> Routes:
    """ufunc -> the op function ``ufunc(*tensors)`` goes to."""
    return _routes()[0]


def function_routes() -> Routes:
    """numpy function -> the op function ``func(*tensors, ...)`` goes to."""
    return _routes()[1]


def array_ufunc(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_ufunc__``."""
    ufuncs = _routes()[0]
    if method == "__call__" and not kwargs and ufunc in ufuncs:
        return ufuncs[ufunc](*inputs)
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


def array_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_function__``."""
    dsts = _destinations(func, args, kwargs)
    if dsts:
        return _write(func.__name__, dsts, func, args, kwargs)
    functions = _routes()[1]
    if func in functions:
        return functions[func](*args, **kwargs)
    if _needs_grad(args) or _needs_grad(kwargs):
        raise TypeError(
            f"np.{func.__name__} has no gradient rule in autograd_nn and an operand requires "
            "grad: use autograd_nn's functions (ag.stack, ag.concatenate, ag.reshape, ...; the one "
            "of that name if there is one), or call numpy on .detach().numpy()."
        )
    return func(*_plain(args), **_plain(kwargs))
