"""The array namespace backward rules use in a plain (first-order) pass: numpy, plus the few
kernels numpy lacks. `tensor_ns` mirrors every name with a differentiable function.

Several names are leaner versions of numpy's own (numpy's ``broadcast_to``, ``expand_dims``
and ``sum`` cost microseconds of Python on small arrays, which is the engine's speed on small
networks); they accept arrays and numpy scalars alike.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from . import window_kernels as _wk

_ndarray = np.ndarray


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) at every x, without warnings or errors (also under
    ``np.errstate(all='raise')``): where exp(-x) overflows (x < -709.8 in float64, where the true
    value is below 1e-308) the result is 1 / inf = 0; where it underflows the result is 1."""
    e = np.negative(x)
    with np.errstate(over="ignore", under="ignore"):
        if type(e) is not _ndarray:  # 0-d input gives a numpy scalar
            return 1.0 / (1.0 + np.exp(e))
        np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


def exclusive_prod(x: Any) -> Any:
    """out[..., i] = prod of x[..., k] for k != i along the last axis, exact when x has zeros."""
    x = np.asarray(x)
    out = np.ones_like(x)
    if x.shape[-1] > 1:
        out[..., 1:] = np.cumprod(x[..., :-1], axis=-1)
        out[..., :-1] *= np.cumprod(x[..., ::-1], axis=-1)[..., :-1][..., ::-1]
    return out


def index_add(g: Any, shape: tuple, index: Any, basic: bool) -> Any:
    """zeros(shape) with g added at index; repeated indices add up (the adjoint of x[index])."""
    out = np.zeros(shape, dtype=np.asarray(g).dtype)
    if basic:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def broadcast_to(a: Any, shape: tuple) -> Any:
    """A read-only view of ``a`` broadcast to ``shape`` (numpy's rules), without copying."""
    if type(a) is not _ndarray:
        a = np.asarray(a)
    if a.shape == shape:
        return a
    if not a.ndim:  # the common case: a scalar gradient from sum or mean
        view = _ndarray(shape, a.dtype, a, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    lead = len(shape) - a.ndim
    if lead < 0 or any(n != 1 and n != shape[k + lead] for k, n in enumerate(a.shape)):
        return np.broadcast_to(a, shape)  # numpy raises its error
    if not a.flags.c_contiguous:
        return np.broadcast_to(a, shape)
    strides = (0,) * lead + tuple(0 if n == 1 else s for n, s in zip(a.shape, a.strides))
    view = _ndarray(shape, a.dtype, a, 0, strides)
    view.flags.writeable = False
    return view


def expand_dims(a: Any, axis: Any) -> Any:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = np.ndim(a) + len(axes)
    axes = tuple(sorted(x % ndim for x in axes))
    shape = list(np.shape(a))
    for x in axes:
        shape.insert(x, 1)
    return np.reshape(a, shape)


def sum(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.add.reduce(a, axis=axis, keepdims=keepdims)


def sign(x: Any) -> Any:
    return np.sign(x)


NUMPY_NS = SimpleNamespace(
    exp=np.exp,
    log=np.log,
    sin=np.sin,
    cos=np.cos,
    sigmoid=sigmoid,
    sign=sign,
    where=np.where,
    sum=sum,
    reshape=np.reshape,
    transpose=np.transpose,
    swapaxes=np.swapaxes,
    expand_dims=expand_dims,
    squeeze=np.squeeze,
    broadcast_to=broadcast_to,
    matmul=np.matmul,
    exclusive_prod=exclusive_prod,
    index_add=index_add,
    pad_constant=_wk.pad_constant,
    unfold_windows=_wk.unfold_windows,
    fold_windows=_wk.fold_windows,
    correlate=_wk.correlate,
    correlate_input_grad=_wk.correlate_input_grad,
    correlate_weight_grad=_wk.correlate_weight_grad,
)
