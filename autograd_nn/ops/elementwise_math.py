"""numpy's elementwise math of one operand beyond the core: trigonometric, hyperbolic,
logarithmic, rounding (the functions of two operands are in ``elementwise_binary.py``).

Each op is a primitive whose forward *is* numpy's ufunc (so values and dtypes are numpy's) and
whose derivative sits beside it as ``derivative(xp, x, out)``: d out / d x written with the
array namespace ``xp``, so that ``create_graph`` differentiates it again. Conventions at the
points where a derivative does not exist are listed in docs/numpy.md.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..domains import STD, Domain, away_from, nonzero, unary, uniform
from ..function import Function
from ..registry import add_to_namespaces, register
from .bases import OnInputAndOutput, UnaryWithSetting

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..tensor import Tensor
    from ..types import TensorLike

LN2 = math.log(2.0)
LN10 = math.log(10.0)


class _Ufunc(OnInputAndOutput):
    """A numpy ufunc of one operand; ``derivative(xp, x, out)`` is d out / d x."""

    ufunc: ClassVar[Any] = None

    @classmethod
    def compute(cls, ctx: Any, x: Any) -> Any:
        return cls.ufunc(x)


def _unary(name: str, ufunc: Any, derivative: Any, **harmless: str) -> type:
    """One elementwise primitive: numpy's ``ufunc`` and its derivative side by side."""
    return type(name.capitalize(), (_Ufunc,), {
        "name": name, "ufunc": ufunc, "derivative": staticmethod(derivative),
        "harmless": {"under": "ignore", **harmless},
        "__doc__": f"numpy's {name}, with its derivative.", "__module__": __name__,
    })


Tan = _unary("tan", np.tan, lambda xp, x, out: 1 + out * out)
Arcsin = _unary("arcsin", np.arcsin, lambda xp, x, out: (1 - x * x) ** -0.5)
Arccos = _unary("arccos", np.arccos, lambda xp, x, out: -((1 - x * x) ** -0.5))
Arctan = _unary("arctan", np.arctan, lambda xp, x, out: 1 / (1 + x * x), over="ignore")
Sinh = _unary("sinh", np.sinh, lambda xp, x, out: xp.cosh(x))
Cosh = _unary("cosh", np.cosh, lambda xp, x, out: xp.sinh(x))
Arcsinh = _unary("arcsinh", np.arcsinh, lambda xp, x, out: (x * x + 1) ** -0.5)
Arccosh = _unary("arccosh", np.arccosh, lambda xp, x, out: (x * x - 1) ** -0.5)
Arctanh = _unary("arctanh", np.arctanh, lambda xp, x, out: 1 / (1 - x * x))
Log2 = _unary("log2", np.log2, lambda xp, x, out: 1 / (x * LN2))
Log10 = _unary("log10", np.log10, lambda xp, x, out: 1 / (x * LN10))
Log1p = _unary("log1p", np.log1p, lambda xp, x, out: 1 / (1 + x))
Expm1 = _unary("expm1", np.expm1, lambda xp, x, out: out + 1)
Exp2 = _unary("exp2", np.exp2, lambda xp, x, out: out * LN2)
Square = _unary("square", np.square, lambda xp, x, out: x * 2)
Reciprocal = _unary("reciprocal", np.reciprocal, lambda xp, x, out: -(out * out))
Fabs = _unary("fabs", np.fabs, lambda xp, x, out: xp.sign(x))
Cbrt = _unary("cbrt", np.cbrt, lambda xp, x, out: 1 / (out * out * 3))
Deg2rad = _unary("deg2rad", np.deg2rad, lambda xp, x, out: math.pi / 180)
Rad2deg = _unary("rad2deg", np.rad2deg, lambda xp, x, out: 180 / math.pi)


# ---- sinc: every derivative order is the same primitive, exact at 0 ------------------------------
def sinc_derivative(x: Any, order: int = 0) -> Any:
    """The ``order``-th derivative of numpy's sinc(x) = sin(pi x) / (pi x), finite at x = 0.

    With u = pi x and f(u) = sin(u) / u: a Taylor series where |u| < 2, elsewhere the
    recursion u f^(n) = sin^(n)(u) - n f^(n-1) (Leibniz on u f = sin u)."""
    if order == 0:
        return np.sinc(x)
    x = np.asarray(x)
    u = np.pi * x
    small = np.abs(u) < 2
    us, ul = np.where(small, u, 0.0), np.where(small, 1.0, u)
    series = np.zeros_like(us)
    with np.errstate(under="ignore"):  # high powers of a tiny u underflow to 0: exact enough
        for k in range((order + 1) // 2, order // 2 + 26):
            p = 2 * k - order
            series = series + (-1.0) ** k / ((2 * k + 1) * math.factorial(p)) * us**p
    f = np.sin(ul) / ul
    for m in range(1, order + 1):
        f = (np.sin(ul + m * np.pi / 2) - m * f) / ul
    return (np.pi**order * np.where(small, series, f)).astype(np.result_type(x, 1.0), copy=False)


class SincDerivative(UnaryWithSetting):
    """d^order/dx^order sinc(x); its derivative is the next order (so every order is exact)."""

    name, setting = "sinc", "order"

    @staticmethod
    def compute(x: Any, order: int) -> Any:
        return sinc_derivative(x, order)

    @staticmethod
    def chain(xp: Any, g: Any, x: Any, order: int) -> Any:
        return g * xp.sinc_derivative(x, order + 1)


# ---- rounding: zero derivative wherever it exists -----------------------------------------------
class _Rounding(Function):
    """A step function: its gradient is zero (numpy's value; the step points get 0 too)."""

    ufunc: ClassVar[Any] = None

    @classmethod
    def forward(cls, ctx: Any, x: Any, **kw: Any) -> Any:
        ctx.shape, ctx.dtype = np.shape(x), np.result_type(x)
        return cls.ufunc(x, **kw)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return np.zeros(ctx.shape, ctx.dtype)


def _rounding(name: str, ufunc: Any) -> type[Function]:
    return type(name.capitalize(), (_Rounding,), {
        "name": name, "ufunc": ufunc, "__module__": __name__,
        "__doc__": f"numpy's {name}; its gradient is zero."})


Floor = _rounding("floor", np.floor)
Ceil = _rounding("ceil", np.ceil)
Trunc = _rounding("trunc", np.trunc)
Rint = _rounding("rint", np.rint)
Round = _rounding("round", np.round)


class NanToNum(Function):
    """numpy's nan_to_num: the gradient passes where x is finite, 0 where it was replaced."""

    name = "nan_to_num"

    @staticmethod
    def forward(ctx: Any, x: Any, nan: float = 0.0, posinf: Any = None,
                neginf: Any = None) -> Any:
        ctx.save_for_backward(np.isfinite(x))
        return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (finite,) = ctx.saved_tensors
        return ctx.xp.where(finite, g, 0)


# ---- the functions with numpy's names, registered with their gradient-check domains -------------
_INTEGERS = tuple(float(k) for k in range(-3, 4))
_HALVES = tuple(k + 0.5 for k in range(-3, 3))


def _fn1(cls: Any, domain: Domain, also: tuple = (),
         **registration: Any) -> Callable[[TensorLike], Tensor]:
    """numpy's ufunc ``cls.ufunc`` of one tensor, registered (``also``: other numpy names)."""
    def f(x: TensorLike) -> Tensor:
        return cls.apply(x)

    f.__name__ = f.__qualname__ = cls.name
    f.__doc__ = f"numpy's {cls.name} of a tensor, differentiable (elementwise)."
    return register(cls, numpy=(cls.ufunc, *also), cases=unary(domain), **registration)(f)


tan = _fn1(Tan, uniform(-1.2, 1.2))
arcsin = _fn1(Arcsin, uniform(-0.9, 0.9))
arccos = _fn1(Arccos, uniform(-0.9, 0.9))
arctan = _fn1(Arctan, STD)
sinh = _fn1(Sinh, STD, plain=np.sinh)
cosh = _fn1(Cosh, STD, plain=np.cosh)
arcsinh = _fn1(Arcsinh, STD)
arccosh = _fn1(Arccosh, uniform(1.2, 3.0))
arctanh = _fn1(Arctanh, uniform(-0.8, 0.8))
log2 = _fn1(Log2, uniform(0.3, 3.0))
log10 = _fn1(Log10, uniform(0.3, 3.0))
log1p = _fn1(Log1p, uniform(-0.7, 2.0))
expm1 = _fn1(Expm1, STD)
exp2 = _fn1(Exp2, STD)
square = _fn1(Square, STD)
reciprocal = _fn1(Reciprocal, nonzero(0.5, 2.0))
fabs = _fn1(Fabs, away_from((0.0,)))
cbrt = _fn1(Cbrt, nonzero(0.3, 2.0))


@register(SincDerivative, numpy=(np.sinc,), cases=unary(uniform(-2.5, 2.5)))
def sinc(x: TensorLike) -> Tensor:
    """numpy's sinc, sin(pi x) / (pi x) (1 at 0); derivatives of every order exact, at 0 too."""
    return SincDerivative.apply(x, order=0)


def sinc_derivative_op(x: TensorLike, order: int) -> Tensor:
    """The ``order``-th derivative of sinc, differentiable (sinc's rule under create_graph)."""
    return SincDerivative.apply(x, order=order)


add_to_namespaces("sinc_derivative", sinc_derivative, sinc_derivative_op)
deg2rad = _fn1(Deg2rad, STD, also=(np.radians,))
rad2deg = _fn1(Rad2deg, STD, also=(np.degrees,))
radians, degrees = deg2rad, rad2deg


@register(NanToNum, numpy=(np.nan_to_num,), cases=unary(STD))
def nan_to_num(x: TensorLike, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> ``nan``, +-inf -> ``posinf``/``neginf`` (numpy's defaults: the largest finite
    values); the gradient passes at finite entries and is 0 at replaced ones."""
    if not copy:
        raise TypeError("nan_to_num: copy=False (in place) is not supported on Tensors; "
                        "use the returned tensor")
    return NanToNum.apply(x, nan=nan, posinf=posinf, neginf=neginf)


floor = _fn1(Floor, away_from(_INTEGERS, -3, 3))
ceil = _fn1(Ceil, away_from(_INTEGERS, -3, 3))
trunc = _fn1(Trunc, away_from(_INTEGERS, -3, 3))
rint = _fn1(Rint, away_from(_HALVES, -3, 3))


@register(Round, numpy=(np.round, np.around), cases=unary(away_from(_HALVES, -3, 3)))
def round(a: TensorLike, decimals: int = 0, out: None = None) -> Tensor:
    """numpy's round (half to even), to ``decimals`` places; its gradient is zero."""
    if out is not None:
        raise TypeError("round: the out= argument is not supported on Tensors")
    return Round.apply(a, decimals=int(decimals))


around = round

__all__ = [
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "around", "cbrt", "ceil",
    "cosh", "deg2rad", "degrees", "exp2", "expm1", "fabs", "floor", "log1p", "log2", "log10",
    "nan_to_num", "rad2deg", "radians", "reciprocal", "rint", "round", "sinc", "sinh", "square",
    "tan", "trunc",
]
