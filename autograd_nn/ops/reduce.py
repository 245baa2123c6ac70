"""Reductions (numpy's ``axis``/``keepdims``) and the softmax family, with their derivatives.

max and min share the gradient equally among tied maxima (minima); prod's gradient is the
product of the other elements, exact when some are zero; softmax, log_softmax and logsumexp
shift by the maximum, so logits of +-1000 are fine.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..function import Function
from ..tensor import Tensor
from .numpy_ns import exclusive_prod as _np_exclusive_prod
from .shape import axis_tuple, refuse_bool_axis


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """axis (None, int or tuple, negatives allowed) as a sorted tuple of non-negative ints."""
    refuse_bool_axis("", axis)
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    return tuple(sorted(normalize_axis_tuple(axis, ndim)))


def _unreduce(g: Any, axes: tuple, keepdims: bool, xp: Any) -> Any:
    """A reduced gradient with the reduced axes put back as size-1 axes."""
    if keepdims or not axes or not g.ndim:  # a 0-d gradient broadcasts as it is
        return g
    return xp.expand_dims(g, axes)


class Sum(Function):
    name = "sum"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        x = np.asarray(x)
        ctx.axes = _axes(axis, x.ndim)
        ctx.keepdims = keepdims
        ctx.in_shape = x.shape
        return np.add.reduce(x, axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        return xp.broadcast_to(_unreduce(g, ctx.axes, ctx.keepdims, xp), ctx.in_shape)


class Mean(Function):
    name = "mean"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        x = np.asarray(x)
        ctx.axes = _axes(axis, x.ndim)
        ctx.keepdims = keepdims
        ctx.in_shape = x.shape
        ctx.count = math.prod(x.shape[a] for a in ctx.axes)
        if ctx.count == 0:
            raise ValueError(f"the mean over an empty selection of shape {x.shape} is undefined")
        return np.add.reduce(x, axis=ctx.axes, keepdims=keepdims) / ctx.count

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        return xp.broadcast_to(_unreduce(g / ctx.count, ctx.axes, ctx.keepdims, xp), ctx.in_shape)


class _Extreme(Function):
    """max/min: the gradient goes to the extreme elements, split equally among ties; where a
    NaN makes the result NaN, it goes to the NaN entries only (as ``torch.max``)."""

    reduce: Any = None

    @classmethod
    def forward(cls, ctx: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        x = np.asarray(x)
        ctx.axes = _axes(axis, x.ndim)
        ctx.keepdims = keepdims
        m = cls.reduce(x, axis=ctx.axes, keepdims=True)
        hit = x == m
        if x.dtype.kind == "f" and np.isnan(m).any():  # NaN wins (numpy), and gets the gradient
            hit |= np.isnan(x) & np.isnan(m)
        weights = hit / np.add.reduce(hit, axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(weights.astype(x.dtype, copy=False))
        return m if keepdims else m.squeeze(axis=ctx.axes)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (w,) = ctx.saved_tensors
        return _unreduce(g, ctx.axes, ctx.keepdims, ctx.xp) * w


class Max(_Extreme):
    name = "max"
    reduce = np.maximum.reduce


class Min(_Extreme):
    name = "min"
    reduce = np.minimum.reduce


class Prod(Function):
    name = "prod"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        x = np.asarray(x)
        ctx.axes = _axes(axis, x.ndim)
        ctx.keepdims = keepdims
        ctx.save_for_backward(x)
        return np.multiply.reduce(x, axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        axes = ctx.axes
        if not axes:
            return g
        rest = tuple(a for a in range(x.ndim) if a not in axes)
        perm = rest + axes
        moved = xp.transpose(x, perm)
        flat_shape = moved.shape[: len(rest)] + (-1,)
        others = xp.exclusive_prod(xp.reshape(moved, flat_shape))
        others = xp.transpose(xp.reshape(others, moved.shape), tuple(np.argsort(perm)))
        return _unreduce(g, axes, ctx.keepdims, xp) * others


class ExclusiveProd(Function):
    """out[..., i] = product of x[..., k] for k != i along the last axis (prod's gradient)."""

    name = "exclusive_prod"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return _np_exclusive_prod(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        # d out_i / d x_j = product of x_k for k not in {i, j} (j != i), 0 for j == i
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        eye = np.eye(x.shape[-1], dtype=bool)
        rows = xp.where(eye, 1, xp.expand_dims(x, -2))  # row i: x with x_i set to 1
        pair = xp.where(eye, 0, xp.exclusive_prod(rows))
        return xp.sum(xp.expand_dims(g, -1) * pair, axis=-2)


class LogSumExp(Function):
    name = "logsumexp"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        x = np.asarray(x)
        ctx.axes = _axes(axis, x.ndim)
        ctx.keepdims = keepdims
        m = np.maximum.reduce(x, axis=ctx.axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        # an all -inf slice gives -inf, as numpy's log(0); exp of the small terms may underflow
        with np.errstate(divide="ignore", under="ignore"):
            out = np.log(np.add.reduce(np.exp(x - m), axis=ctx.axes, keepdims=True)) + m
        out = out if keepdims else out.squeeze(axis=ctx.axes)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        x, out = ctx.saved_tensors
        with np.errstate(under="ignore"):  # softmax weights of the small terms underflow to 0
            return _unreduce(g, ctx.axes, ctx.keepdims, xp) * xp.exp(
                x - _unreduce(out, ctx.axes, ctx.keepdims, xp)
            )


class Softmax(Function):
    name = "softmax"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: Any = -1) -> Any:
        x = np.asarray(x)
        ctx.axis = _axes(axis, x.ndim)
        with np.errstate(under="ignore"):  # exp of the small terms underflows to 0
            e = np.exp(x - np.maximum.reduce(x, axis=ctx.axis, keepdims=True))
            e /= np.add.reduce(e, axis=ctx.axis, keepdims=True)
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (s,) = ctx.saved_tensors
        return s * (g - ctx.xp.sum(g * s, axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    name = "log_softmax"

    @staticmethod
    def forward(ctx: Any, x: Any, axis: Any = -1) -> Any:
        x = np.asarray(x)
        ctx.axis = _axes(axis, x.ndim)
        shifted = x - np.maximum.reduce(x, axis=ctx.axis, keepdims=True)
        with np.errstate(under="ignore"):  # exp of the small terms underflowing is harmless
            out = shifted - np.log(np.add.reduce(np.exp(shifted), axis=ctx.axis, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        (out,) = ctx.saved_tensors
        with np.errstate(under="ignore"):  # exp(out) of the small terms underflows to 0
            return g - xp.exp(out) * xp.sum(g, axis=ctx.axis, keepdims=True)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return Min.apply(x, axis=axis, keepdims=keepdims)


amax, amin = max, min


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return Prod.apply(x, axis=axis, keepdims=keepdims)


def exclusive_prod(x: Any) -> Tensor:
    return ExclusiveProd.apply(x)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance, ``sum((x - mean)**2) / (N - ddof)`` as numpy; N - ddof must be positive."""
    return _var("var", x, axis, ddof, keepdims)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation: sqrt(var). Its derivative is infinite where the variance is 0
    (e.g. over a single element), as sqrt's at 0."""
    from .elementwise import sqrt

    v = _var("std", x, axis, ddof, keepdims)
    if _count(x, axis) == 1:  # one element: std is identically 0, as is var (sqrt' would be
        return v               # inf at 0, and inf * 0 a NaN gradient)
    return sqrt(v)


def _count(x: Any, axis: Any, op: str = "std") -> int:
    """How many elements each result of a reduction over ``axis`` (None: all) combines."""
    shape = np.shape(x._data if isinstance(x, Tensor) else x)
    axes = tuple(range(len(shape))) if axis is None else axis_tuple(op, axis, len(shape), shape)
    return math.prod(shape[a] for a in axes)


def _var(op: str, x: Any, axis: Any, ddof: int, keepdims: bool) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor(x)
    axes = tuple(range(x.ndim)) if axis is None else axis_tuple(op, axis, x.ndim, x.shape)
    n = math.prod(x.shape[a] for a in axes)
    if n - ddof <= 0:
        raise ValueError(f"{op}: {n} elements with ddof={ddof} leave no degrees of freedom")
    d = x - mean(x, axis=axes, keepdims=True)
    return sum(d * d, axis=axes, keepdims=keepdims) / (n - ddof)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, stable for large |x|."""
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


def softmax(x: Any, axis: Any = -1) -> Tensor:
    """exp(x) / sum(exp(x)) over ``axis`` (default the last; a tuple or None for several),
    stable for large |x|."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Any, axis: Any = -1) -> Tensor:
    """x - logsumexp(x) over ``axis`` (default the last; a tuple or None for several)."""
    return LogSoftmax.apply(x, axis=axis)

