"""Elementwise primitives, each with its derivative.

Conventions at points where the derivative does not exist (the subgradient the engine uses,
the same as PyTorch's): relu'(0) = 0; leaky_relu'(0) = negative_slope; abs'(0) = 0;
clip passes the gradient where a_min <= x <= a_max (bounds included; a bound that requires
grad gets the gradient of the elements clipped to it); maximum/minimum split the gradient
equally between tied operands; sqrt'(0) = inf. The reductions max/min (reduce.py)
share the gradient equally among tied extremes, and prod's gradient is exact when entries are 0.
Each convention is tested in tests/test_ops.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor, holds_graph
from .numpy_ns import sigmoid as _np_sigmoid


class Exp(Function):
    name = "exp"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        out = np.asarray(np.exp(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    name = "log"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    name = "sqrt"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        out = np.asarray(np.sqrt(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g / (out * 2)


class Abs(Function):
    name = "abs"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * ctx.xp.sign(x)


class Sin(Function):
    name = "sin"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * ctx.xp.cos(x)


class Cos(Function):
    name = "cos"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return -g * ctx.xp.sin(x)


class Tanh(Function):
    name = "tanh"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        out = np.asarray(np.tanh(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class Sigmoid(Function):
    """1 / (1 + exp(-x)), with no overflow at any x; the derivative comes from the output."""

    name = "sigmoid"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        out = np.asarray(_np_sigmoid(x))  # an array (0-d too): create_graph knows it as the output
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (s,) = ctx.saved_tensors
        return g * (s * (1 - s))


class Relu(Function):
    name = "relu"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        out = np.asarray(np.maximum(x, 0))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g * (out > 0)


class LeakyRelu(Function):
    name = "leaky_relu"

    @staticmethod
    def forward(ctx: Any, x: Any, negative_slope: float = 0.01) -> Any:
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return ctx.xp.where(x > 0, g, g * ctx.negative_slope)


class Softplus(Function):
    """log(1 + exp(x)), computed as numpy's logaddexp(0, x): no overflow at any x."""

    name = "softplus"

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        with np.errstate(under="ignore"):  # exp(-|x|) underflowing is harmless (softplus(1000))
            return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * ctx.xp.sigmoid(x)


class Clip(Function):
    """Bounds are constants (no gradient flows to them)."""

    name = "clip"

    @staticmethod
    def forward(ctx: Any, x: Any, a_min: Any = None, a_max: Any = None) -> Any:
        if a_min is None and a_max is None:
            raise ValueError("give at least one of a_min and a_max")
        ctx.save_for_backward(x)
        ctx.a_min, ctx.a_max = a_min, a_max
        return np.clip(x, a_min, a_max)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        x = _const(x)  # the mask is a constant (x is a Tensor under create_graph)
        lo, hi = ctx.a_min, ctx.a_max
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        return ctx.xp.where(inside, g, 0)


class Maximum(Function):
    name = "maximum"

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, y = ctx.saved_tensors
        return _split_ties(ctx, g, x > y, x < y, x == y)


class Minimum(Function):
    name = "minimum"

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, y = ctx.saved_tensors
        return _split_ties(ctx, g, x < y, x > y, x == y)


def _split_ties(ctx: Any, g: Any, x_wins: Any, y_wins: Any, tie: Any) -> tuple:
    where = ctx.xp.where
    half = where(tie, g * 0.5, 0)
    nx, ny = ctx.needs_input_grad
    return (where(x_wins, g, half) if nx else None), (where(y_wins, g, half) if ny else None)


class Where(Function):
    """where(condition, x, y): the condition is a constant."""

    name = "where"

    @staticmethod
    def forward(ctx: Any, condition: Any, x: Any, y: Any) -> Any:
        cond = np.asarray(condition).astype(bool, copy=False)
        ctx.save_for_backward(cond)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (cond,) = ctx.saved_tensors
        where = ctx.xp.where
        _, nx, ny = ctx.needs_input_grad
        return None, (where(cond, g, 0) if nx else None), (where(cond, 0, g) if ny else None)


def _const(a: Any) -> Any:
    return a._data if isinstance(a, Tensor) else a


def exp(x: Any) -> Tensor:
    return Exp.apply(x)


def log(x: Any) -> Tensor:
    return Log.apply(x)


def sqrt(x: Any) -> Tensor:
    return Sqrt.apply(x)


def abs(x: Any) -> Tensor:
    return Abs.apply(x)


def sin(x: Any) -> Tensor:
    return Sin.apply(x)


def cos(x: Any) -> Tensor:
    return Cos.apply(x)


def tanh(x: Any) -> Tensor:
    return Tanh.apply(x)


def sigmoid(x: Any) -> Tensor:
    return Sigmoid.apply(x)


def relu(x: Any) -> Tensor:
    return Relu.apply(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu.apply(x, negative_slope=negative_slope)


def softplus(x: Any) -> Tensor:
    return Softplus.apply(x)


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    """Limit values to [a_min, a_max] (either may be None). A bound that is a Tensor requiring
    grad gets the gradient of the elements clipped to it (as torch.clamp's tensor bounds)."""
    if not holds_graph([a_min, a_max]):
        return Clip.apply(x, a_min=_const(a_min), a_max=_const(a_max))
    out = x
    if a_min is not None:  # np.maximum(x, a_min), x kept at a tie, a NaN bound propagated
        lo = np.asarray(_const(a_min))
        out = where(np.less(_const(out), lo) | np.isnan(lo), a_min, out)
    if a_max is not None:
        hi = np.asarray(_const(a_max))
        out = where(np.greater(_const(out), hi) | np.isnan(hi), a_max, out)
    return out


def maximum(x: Any, y: Any) -> Tensor:
    return Maximum.apply(x, y)


def minimum(x: Any, y: Any) -> Tensor:
    return Minimum.apply(x, y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elements of x where condition holds, else of y (numpy's broadcasting)."""
    return Where.apply(condition, x, y)


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 per element; outside the graph (its derivative is zero almost everywhere)."""
    return Tensor._from_op(np.asarray(np.sign(_const(x))), None)
