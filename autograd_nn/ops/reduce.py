"""Reductions (numpy's ``axis``/``keepdims``) and the softmax family, with their derivatives.

max and min share the gradient equally among tied maxima (minima); prod's gradient is the
product of the other elements, exact when some are zero; softmax, log_softmax and logsumexp
shift by the maximum, so logits of +-1000 are fine.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..domains import STD, Case, distinct, nonzero, reduction, shape_label
from ..function import Function, data_of
from ..registry import register
from .arithmetic import divide, multiply, subtract
from .axes import axis_tuple, reduction_axes
from .elementwise import sqrt
from .reduction_rules import ReductionOnInputAndOutput, record_reduction, unreduce, unreduce_axes

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ..types import Axis, DTypeLike, TensorLike

__all__ = ["amax", "amin", "log_softmax", "logsumexp", "max", "mean", "min", "prod", "softmax",
           "std", "sum", "var"]


def numpy_exclusive_prod(x: Any) -> np.ndarray:
    """out[..., i] = prod of x[..., k] for k != i along the last axis, exact when x has zeros."""
    x = np.asarray(x)
    out = np.ones_like(x)
    if x.shape[-1] > 1:
        out[..., 1:] = np.cumprod(x[..., :-1], axis=-1)
        out[..., :-1] *= np.cumprod(x[..., ::-1], axis=-1)[..., :-1][..., ::-1]
    return out


def numpy_sum(a: Any, axis: Axis = None, keepdims: bool = False) -> Any:
    """np.sum without its Python wrapper (the backward's reductions to operand shapes):
    6% of W2s's step, 0 on W1 (side by side, 11 interleaved samples, 2026-12-01)."""
    return np.add.reduce(a, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]


class Sum(Function):
    """sum over axes; its gradient is g broadcast back to the operand's shape."""

    name = "sum"
    divide_by_count: ClassVar[bool] = False  # Mean: the sum over count, and g / count back

    @classmethod
    def forward(cls, ctx: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        x = np.asarray(x)
        ctx.axes = reduction_axes(axis, x.ndim)
        ctx.keepdims = keepdims
        ctx.in_shape = x.shape
        # np.asarray: a full reduction's numpy scalar as a 0-d array here, not in _as_output
        if not cls.divide_by_count:
            return np.asarray(np.add.reduce(x, axis=ctx.axes, keepdims=keepdims))  # type: ignore[call-overload]
        ctx.count = x.size if len(ctx.axes) == x.ndim else math.prod(x.shape[a] for a in ctx.axes)
        if ctx.count == 0:
            raise ValueError(f"the mean over an empty selection of shape {x.shape} is undefined")
        total = np.add.reduce(x, axis=ctx.axes, keepdims=keepdims)  # type: ignore[call-overload]
        return np.asarray(total / ctx.count)

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        if cls.divide_by_count:
            g = g / ctx.count
        return xp.broadcast_to(unreduce_axes(g, ctx.axes, ctx.keepdims, xp), ctx.in_shape)


class Mean(Sum):
    """mean over axes: the sum divided by the count of elements it combines."""

    name = "mean"
    divide_by_count = True


class _Extreme(Function):
    """max/min: the gradient goes to the extreme elements, split equally among ties; where a
    NaN makes the result NaN, it goes to the NaN entries only (as ``torch.max``)."""

    reduce: Any = None

    @classmethod
    def forward(cls, ctx: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        x = np.asarray(x)
        record_reduction(ctx, x.ndim, axis, keepdims)
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
        return unreduce(ctx, g) * w


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
        record_reduction(ctx, x.ndim, axis, keepdims)
        ctx.save_for_backward(x)
        return np.multiply.reduce(x, axis=ctx.axes, keepdims=keepdims)  # type: ignore[call-overload]

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
        return unreduce(ctx, g) * others


class ExclusiveProd(Function):
    """out[..., i] = product of x[..., k] for k != i along the last axis (prod's gradient)."""

    name = "exclusive_prod"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return numpy_exclusive_prod(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        # d out_i / d x_j = product of x_k for k not in {i, j} (j != i), 0 for j == i
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        eye = np.eye(x.shape[-1], dtype=bool)
        rows = xp.where(eye, 1, xp.expand_dims(x, -2))  # row i: x with x_i set to 1
        pair = xp.where(eye, 0, xp.exclusive_prod(rows))
        return xp.sum(xp.expand_dims(g, -1) * pair, axis=-2)


class LogSumExp(ReductionOnInputAndOutput):
    """log(sum(exp(x))), shifted by the maximum; d out / d x = softmax(x) = exp(x - out)."""

    name = "logsumexp"
    harmless = {"under": "ignore"}  # softmax weights of the small terms underflow to 0

    @staticmethod
    def reduce(x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
        m = np.maximum.reduce(x, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        # an all -inf slice gives -inf, as numpy's log(0); exp of the small terms may underflow
        with np.errstate(divide="ignore", under="ignore"):
            out = np.log(np.add.reduce(np.exp(x - m), axis=axes, keepdims=True)) + m
        return out if keepdims else out.squeeze(axis=axes)

    @staticmethod
    def derivative(xp: Any, x: Any, out: Any) -> Any:
        return xp.exp(x - out)


class _SoftmaxFamily(Function):
    """softmax and log_softmax over ``axis`` (an int, a tuple or None), shifted by the
    maximum: ``compute(x, axes)`` is the forward and ``chain(xp, g, out, axes)`` the gradient,
    read off the output. exp of the small terms underflows to 0, harmlessly, in both."""

    @classmethod
    def forward(cls, ctx: Any, x: Any, axis: Any = -1) -> Any:
        x = np.asarray(x)
        ctx.axis = reduction_axes(axis, x.ndim)
        with np.errstate(under="ignore"):
            out = cls.compute(x, ctx.axis)
        ctx.save_for_backward(out)
        return out

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        with np.errstate(under="ignore"):
            return cls.chain(ctx.xp, g, out, ctx.axis)

    @staticmethod
    def compute(x: Any, axes: tuple[int, ...]) -> Any:  # pragma: no cover - every op has one
        raise NotImplementedError

    @staticmethod
    def chain(xp: Any, g: Any, out: Any, axes: tuple[int, ...]) -> Any:  # pragma: no cover
        raise NotImplementedError  # every op has one


class Softmax(_SoftmaxFamily):
    name = "softmax"

    @staticmethod
    def compute(x: Any, axes: tuple[int, ...]) -> Any:
        e = np.exp(x - np.maximum.reduce(x, axis=axes, keepdims=True))
        e /= np.add.reduce(e, axis=axes, keepdims=True)
        return e

    @staticmethod
    def chain(xp: Any, g: Any, s: Any, axes: tuple[int, ...]) -> Any:
        return s * (g - xp.sum(g * s, axis=axes, keepdims=True))


class LogSoftmax(_SoftmaxFamily):
    name = "log_softmax"

    @staticmethod
    def compute(x: Any, axes: tuple[int, ...]) -> Any:
        shifted = x - np.maximum.reduce(x, axis=axes, keepdims=True)
        return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axes, keepdims=True))

    @staticmethod
    def chain(xp: Any, g: Any, out: Any, axes: tuple[int, ...]) -> Any:
        return g - xp.exp(out) * xp.sum(g, axis=axes, keepdims=True)


def _no_dtype_or_out(op: str, dtype: Any, out: Any) -> None:
    if out is not None or dtype is not None:
        raise TypeError(f"{op}: the out= and dtype= arguments are not supported on Tensors")


@register(Sum, plain=numpy_sum, numpy=(np.sum,), methods=("sum",),
          derivative="broadcast g to {shape}", cases=reduction())
def sum(x: TensorLike, axis: Axis = None, keepdims: bool = False, dtype: DTypeLike | None = None,
        out: None = None) -> Tensor:
    _no_dtype_or_out("sum", dtype, out)
    return Sum.apply(x, axis=axis, keepdims=keepdims)


@register(Mean, numpy=(np.mean,), methods=("mean",), derivative="broadcast g/{count} to {shape}",
          cases=reduction())
def mean(x: TensorLike, axis: Axis = None, keepdims: bool = False, dtype: DTypeLike | None = None,
         out: None = None) -> Tensor:
    _no_dtype_or_out("mean", dtype, out)
    return Mean.apply(x, axis=axis, keepdims=keepdims)


@register(Max, numpy=(np.max, np.amax), methods=("max",),
          derivative="g to the maxima of {0} (shared at ties)", cases=reduction(distinct()))
def max(x: TensorLike, axis: Axis = None, keepdims: bool = False, out: None = None) -> Tensor:
    _no_dtype_or_out("max", None, out)
    return Max.apply(x, axis=axis, keepdims=keepdims)


@register(Min, numpy=(np.min, np.amin), methods=("min",),
          derivative="g to the minima of {0} (shared at ties)", cases=reduction(distinct()))
def min(x: TensorLike, axis: Axis = None, keepdims: bool = False, out: None = None) -> Tensor:
    _no_dtype_or_out("min", None, out)
    return Min.apply(x, axis=axis, keepdims=keepdims)


amax, amin = max, min


@register(Prod, numpy=(np.prod,), methods=("prod",),
          derivative="g ⊙ product of the other elements", cases=reduction(nonzero(0.6, 1.4)))
def prod(x: TensorLike, axis: Axis = None, keepdims: bool = False, dtype: DTypeLike | None = None,
         out: None = None) -> Tensor:
    _no_dtype_or_out("prod", dtype, out)
    return Prod.apply(x, axis=axis, keepdims=keepdims)


@register(ExclusiveProd, plain=numpy_exclusive_prod,
          derivative="g ⊙ product of the other elements", checked=False, public=False)
def exclusive_prod(x: TensorLike) -> Tensor:
    return ExclusiveProd.apply(x)


@register(numpy=(np.var,), methods=("var",), cases=reduction())
def var(x: TensorLike, axis: Axis = None, ddof: int = 0, keepdims: bool = False,
        dtype: DTypeLike | None = None, out: None = None) -> Tensor:
    """Variance, ``sum((x - mean)**2) / (N - ddof)`` as numpy; N - ddof must be positive."""
    _no_dtype_or_out("var", dtype, out)
    return _var("var", x, axis, ddof, keepdims)


@register(numpy=(np.std,), methods=("std",), cases=reduction())
def std(x: TensorLike, axis: Axis = None, ddof: int = 0, keepdims: bool = False,
        dtype: DTypeLike | None = None, out: None = None) -> Tensor:
    """Standard deviation: sqrt(var). Its derivative is infinite where the variance is 0
    (e.g. over a single element), as sqrt's at 0."""
    _no_dtype_or_out("std", dtype, out)
    v = _var("std", x, axis, ddof, keepdims)
    if _count(x, axis) == 1:  # one element: std is identically 0, as is var (sqrt' would be
        return v               # inf at 0, and inf * 0 a NaN gradient)
    return sqrt(v)


def _count(x: TensorLike, axis: Axis, op: str = "std") -> int:
    """How many elements each result of a reduction over ``axis`` (None: all) combines."""
    return _axes_and_count(op, x, axis)[1]


def _axes_and_count(op: str, x: TensorLike, axis: Axis) -> tuple[tuple[int, ...], int]:
    """The axes a reduction over ``axis`` (None: all) runs over, and the elements per result."""
    shape = np.shape(data_of(x))
    axes = tuple(range(len(shape))) if axis is None else axis_tuple(op, axis, len(shape), shape)
    return axes, math.prod(shape[a] for a in axes)


def _var(op: str, x: TensorLike, axis: Axis, ddof: int, keepdims: bool) -> Tensor:
    axes, n = _axes_and_count(op, x, axis)
    if n - ddof <= 0:
        raise ValueError(f"{op}: {n} elements with ddof={ddof} leave no degrees of freedom")
    d = subtract(x, mean(x, axis=axes, keepdims=True))
    return divide(sum(multiply(d, d), axis=axes, keepdims=keepdims), n - ddof)


@register(LogSumExp, methods=("logsumexp",), derivative="g ⊙ softmax({0})", cases=reduction())
def logsumexp(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, stable for large |x|."""
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


def _softmax_cases(fn: Any) -> list[Case]:
    return [Case(f"{shape_label(s)} axis={a}", lambda x, a=a: fn(x, axis=a), (s,), (STD,))
            for s, a in [((5,), -1), ((2, 3, 4), 0), ((2, 3, 4), -1)]]


@register(Softmax, methods=("softmax",), derivative="s ⊙ (g - Σ g⊙s), s = softmax({0})",
          cases=_softmax_cases)
def softmax(x: TensorLike, axis: Axis = -1) -> Tensor:
    """exp(x) / sum(exp(x)) over ``axis`` (default the last; a tuple or None for several),
    stable for large |x|."""
    return Softmax.apply(x, axis=axis)


@register(LogSoftmax, methods=("log_softmax",), derivative="g - softmax({0})·Σ g",
          cases=_softmax_cases)
def log_softmax(x: TensorLike, axis: Axis = -1) -> Tensor:
    """x - logsumexp(x) over ``axis`` (default the last; a tuple or None for several)."""
    return LogSoftmax.apply(x, axis=axis)
