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

import operator
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..domains import PAIRS, STD, Case, away_from, binary, distinct, shape_label, unary, uniform
from ..function import Function, constant, data_of, holds_graph, is_tensor
from ..registry import register
from .bases import UnaryWithSetting

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ..types import TensorLike

__all__ = ["abs", "clip", "cos", "exp", "leaky_relu", "log", "maximum", "minimum", "relu",
           "sigmoid", "sign", "sin", "softplus", "sqrt", "tanh", "where"]


def numpy_sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) at every x, without warnings or errors (also under
    ``np.errstate(all='raise')``): where exp(-x) overflows (x < -709.8 in float64, where the true
    value is below 1e-308) the result is 1 / inf = 0; where it underflows the result is 1."""
    e = np.negative(x)
    with np.errstate(over="ignore", under="ignore"):
        if type(e) is not np.ndarray:  # 0-d input gives a numpy scalar
            return 1.0 / (1.0 + np.exp(e))
        np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


class _Unary(Function):
    """A unary op ``ufunc`` whose derivative is read off its input x, or off its output when
    ``on_output`` (then out is saved as an array, 0-d too: create_graph maps it as the output).
    Each op writes its ``backward`` (g * f'(x) from the one saved array) itself: a shared
    backward calling a per-op formula was one more Python call a node (-0.7% instructions on
    W3, whose every third op is tanh)."""

    ufunc: ClassVar[Any] = None
    on_output: ClassVar[bool] = False

    @classmethod
    def forward(cls, ctx: Any, x: Any) -> Any:
        if not cls.on_output:
            ctx.save_for_backward(x)
            return cls.ufunc(x)
        out = np.asarray(cls.ufunc(x))
        ctx.save_for_backward(out)
        return out


class Exp(_Unary):
    name, ufunc, on_output = "exp", np.exp, True

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g * out


class Log(_Unary):
    name, ufunc = "log", np.log

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(_Unary):
    name, ufunc, on_output = "sqrt", np.sqrt, True

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g / (out * 2)


class Abs(_Unary):
    name, ufunc = "abs", np.abs

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * ctx.xp.sign(x)


class Sin(_Unary):
    name, ufunc = "sin", np.sin

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * ctx.xp.cos(x)


class Cos(_Unary):
    name, ufunc = "cos", np.cos

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return -g * ctx.xp.sin(x)


class Tanh(_Unary):
    name, ufunc, on_output = "tanh", np.tanh, True

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


class Sigmoid(_Unary):
    """1 / (1 + exp(-x)), with no overflow at any x; the derivative comes from the output."""

    name, ufunc, on_output = "sigmoid", staticmethod(numpy_sigmoid), True

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
        # mask cast first: float times bool is a buffered cast, 3.9 -> 2.9 µs on (1, 16)
        return g * (out > 0).astype(g.dtype)


class LeakyRelu(UnaryWithSetting):
    name, setting = "leaky_relu", "negative_slope"

    @staticmethod
    def compute(x: Any, negative_slope: float) -> Any:
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def chain(xp: Any, g: Any, x: Any, negative_slope: float) -> Any:
        return xp.where(x > 0, g, g * negative_slope)


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
        x = np.asarray(data_of(x))  # the mask is a constant (x is a Tensor under create_graph)
        lo, hi = ctx.a_min, ctx.a_max
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        return ctx.xp.where(inside, g, 0)


class _Extreme(Function):
    """maximum / minimum: the gradient goes to the operand that ``wins`` (ties split it)."""

    ufunc: ClassVar[Any] = None
    wins: ClassVar[Any] = None  # operator.gt for maximum, operator.lt for minimum

    @classmethod
    def forward(cls, ctx: Any, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return cls.ufunc(x, y)

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        x, y = ctx.saved_tensors
        return _split_ties(ctx, g, cls.wins(x, y), cls.wins(y, x), x == y)


class Maximum(_Extreme):
    name, ufunc, wins = "maximum", np.maximum, operator.gt


class Minimum(_Extreme):
    name, ufunc, wins = "minimum", np.minimum, operator.lt


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


@register(Exp, plain=np.exp, numpy=(np.exp,), methods=("exp",), derivative=("exp({0})",))
def exp(x: TensorLike) -> Tensor:
    return Exp.apply(x)


@register(Log, plain=np.log, numpy=(np.log,), methods=("log",), derivative=("1/{0}",),
          cases=unary(uniform(0.3, 3.0)))
def log(x: TensorLike) -> Tensor:
    return Log.apply(x)


@register(Sqrt, numpy=(np.sqrt,), methods=("sqrt",), derivative=("1/(2·sqrt({0}))",),
          cases=unary(uniform(0.3, 3.0)))
def sqrt(x: TensorLike) -> Tensor:
    return Sqrt.apply(x)


@register(Abs, numpy=(np.absolute,), methods=("abs",), operators=("__abs__",),
          derivative=("sign({0})",), cases=unary(away_from((0.0,))))
def abs(x: TensorLike) -> Tensor:
    return Abs.apply(x)


@register(Sin, plain=np.sin, numpy=(np.sin,), methods=("sin",), derivative=("cos({0})",))
def sin(x: TensorLike) -> Tensor:
    return Sin.apply(x)


@register(Cos, plain=np.cos, numpy=(np.cos,), methods=("cos",), derivative=("-sin({0})",))
def cos(x: TensorLike) -> Tensor:
    return Cos.apply(x)


@register(Tanh, numpy=(np.tanh,), methods=("tanh",), derivative=("1 - tanh({0})²",))
def tanh(x: TensorLike) -> Tensor:
    return Tanh.apply(x)


@register(Sigmoid, plain=numpy_sigmoid, methods=("sigmoid",),
          derivative=("σ({0})·(1 - σ({0}))",), cases=unary(uniform(-4.0, 4.0)))
def sigmoid(x: TensorLike) -> Tensor:
    return Sigmoid.apply(x)


@register(Relu, methods=("relu",), derivative=("1[{0} > 0]",), cases=unary(away_from((0.0,))))
def relu(x: TensorLike) -> Tensor:
    return Relu.apply(x)


@register(LeakyRelu, methods=("leaky_relu",), derivative=("1[{0} > 0] or slope",),
          cases=lambda fn: unary(away_from((0.0,)))(lambda x: fn(x, 0.1)))
def leaky_relu(x: TensorLike, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu.apply(x, negative_slope=negative_slope)


@register(Softplus, methods=("softplus",), derivative=("σ({0})",),
          cases=unary(uniform(-4.0, 4.0)))
def softplus(x: TensorLike) -> Tensor:
    return Softplus.apply(x)


@register(Clip, numpy=(np.clip,), methods=("clip",), derivative=("1[a_min ≤ {0} ≤ a_max]",),
          cases=lambda fn: unary(away_from((-0.5, 0.7)))(lambda x: fn(x, -0.5, 0.7)))
def clip(x: TensorLike, a_min: TensorLike | None = None,
         a_max: TensorLike | None = None) -> Tensor:
    """Limit values to [a_min, a_max] (either may be None). A bound that is a Tensor requiring
    grad gets the gradient of the elements clipped to it (as torch.clamp's tensor bounds)."""
    if not holds_graph([a_min, a_max]):
        return Clip.apply(x, a_min=data_of(a_min), a_max=data_of(a_max))
    out: Any = x
    # the masks are computed on the tensors (comparisons ag.compile follows), not their data
    if a_min is not None:  # np.maximum(x, a_min), x kept at a tie, a NaN bound propagated
        lo = a_min if is_tensor(a_min) else np.asarray(a_min)
        out = where(np.less(out, lo) | np.isnan(lo), a_min, out)
    if a_max is not None:
        hi = a_max if is_tensor(a_max) else np.asarray(a_max)
        out = where(np.greater(out, hi) | np.isnan(hi), a_max, out)
    return out


@register(Maximum, numpy=(np.maximum,), derivative=("1[{0} > {1}] (½ at ties)",
                                                     "1[{1} > {0}] (½ at ties)"),
          cases=binary(distinct(0), distinct(1), "vs"))
def maximum(x: TensorLike, y: TensorLike) -> Tensor:
    return Maximum.apply(x, y)


@register(Minimum, numpy=(np.minimum,), derivative=("1[{0} < {1}] (½ at ties)",
                                                     "1[{1} < {0}] (½ at ties)"),
          cases=binary(distinct(0), distinct(1), "vs"))
def minimum(x: TensorLike, y: TensorLike) -> Tensor:
    return Minimum.apply(x, y)


def _where_cases(fn: Any) -> list[Case]:
    def condition(shape: tuple[int, ...]) -> Any:
        return lambda rng: {"cond": rng.random(shape) < 0.5}

    return [Case(f"where(cond, {shape_label(a)}, {shape_label(b)})",
                 lambda x, y, cond: fn(cond, x, y), (a, b), (STD, STD),
                 condition(np.broadcast_shapes(a, b))) for a, b in PAIRS]


@register(Where, plain=np.where, numpy=(np.where,), derivative=("-", "1[cond]", "1[not cond]"),
          cases=_where_cases)
def where(condition: TensorLike, x: TensorLike, y: TensorLike) -> Tensor:
    """Elements of x where condition holds, else of y (numpy's broadcasting)."""
    return Where.apply(condition, x, y)


@register(plain=np.sign, checked=False)  # np.sign(t): a constant ufunc (ops/interop.py)
def sign(x: TensorLike) -> Tensor:
    """-1, 0 or 1 per element; outside the graph (its derivative is zero almost everywhere)."""
    return constant(np.sign(data_of(x)))
