"""numpy's elementwise functions of two operands (broadcasting): logaddexp, logaddexp2,
arctan2, hypot, fmax, fmin, remainder (``%``) and fmod.

Each op is a primitive whose forward is numpy's ufunc and whose partial derivatives sit beside
it, written with the array namespace ``xp`` (so ``create_graph`` differentiates them again).
Conventions where a derivative does not exist are listed in docs/numpy.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from ..domains import STD, Domain, binary, distinct, nonzero
from ..function import Function, data_of
from ..registry import register
from .elementwise import _split_ties
from .elementwise_math import LN2

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..tensor import Tensor
    from ..types import TensorLike


def _value(a: Any) -> Any:
    """The array of ``a`` (a Tensor under create_graph): a mask computed from it is a constant."""
    return np.asarray(data_of(a))


# ---- binary ufuncs ------------------------------------------------------------------------------
class _Binary(Function):
    """A numpy ufunc of two operands; ``partials(xp, x, y, out)`` gives (d out/dx, d out/dy)."""

    ufunc: ClassVar[Any] = None
    forward_underflow: ClassVar[Literal["ignore"] | None] = None  # "ignore": internal (logaddexp)

    @classmethod
    def forward(cls, ctx: Any, x: Any, y: Any) -> Any:
        with np.errstate(under=cls.forward_underflow):
            out = np.asarray(cls.ufunc(x, y))
        ctx.save_for_backward(x, y, out)
        return out

    @classmethod
    def backward(cls, ctx: Any, g: Any) -> Any:
        x, y, out = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        with np.errstate(under="ignore"):  # an underflow to 0 of a partial is exact enough
            dx, dy = cls.partials(ctx.xp, x, y, out, nx, ny)
            return (g * dx if nx else None), (g * dy if ny else None)

    @staticmethod
    def partials(xp: Any, x: Any, y: Any, out: Any, nx: bool, ny: bool) -> tuple:
        raise NotImplementedError  # pragma: no cover


class Logaddexp(_Binary):
    name = "logaddexp"
    ufunc = np.logaddexp
    forward_underflow = "ignore"  # exp of the smaller operand underflows; the result is exact

    @staticmethod
    def partials(xp: Any, x: Any, y: Any, out: Any, nx: bool, ny: bool) -> tuple:
        return (xp.exp(x - out) if nx else None), (xp.exp(y - out) if ny else None)


class Logaddexp2(_Binary):
    name = "logaddexp2"
    ufunc = np.logaddexp2
    forward_underflow = "ignore"

    @staticmethod
    def partials(xp: Any, x: Any, y: Any, out: Any, nx: bool, ny: bool) -> tuple:
        return ((xp.exp((x - out) * LN2) if nx else None),
                (xp.exp((y - out) * LN2) if ny else None))


class Arctan2(_Binary):
    """arctan2(x1, x2), the angle of the point (x2, x1); its derivative at (0, 0) is taken as 0."""

    name = "arctan2"
    ufunc = np.arctan2

    @staticmethod
    def partials(xp: Any, x: Any, y: Any, out: Any, nx: bool, ny: bool) -> tuple:
        r2 = x * x + y * y
        r2 = xp.where(_value(r2) == 0, 1, r2)
        return (y / r2 if nx else None), (-x / r2 if ny else None)


class Hypot(_Binary):
    """sqrt(x1**2 + x2**2); its derivative at (0, 0) is taken as 0 (as norm's at 0)."""

    name = "hypot"
    ufunc = np.hypot

    @staticmethod
    def partials(xp: Any, x: Any, y: Any, out: Any, nx: bool, ny: bool) -> tuple:
        r = xp.where(_value(out) == 0, 1, out)
        return (x / r if nx else None), (y / r if ny else None)


class _NanExtreme(Function):
    """fmax / fmin: like maximum / minimum, but a NaN loses to a number (and gets no gradient);
    ties split the gradient half and half."""

    ufunc: ClassVar[Any] = None
    sign: ClassVar[float] = 1.0

    @classmethod
    def forward(cls, ctx: Any, x: Any, y: Any) -> Any:
        a, b = np.asarray(x) * cls.sign, np.asarray(y) * cls.sign
        ctx.save_for_backward((a > b) | np.isnan(b), (b > a) | (np.isnan(a) & ~np.isnan(b)),
                              a == b)
        return cls.ufunc(x, y)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return _split_ties(ctx, g, *ctx.saved_tensors)


class Fmax(_NanExtreme):
    name, ufunc = "fmax", np.fmax


class Fmin(_NanExtreme):
    name, ufunc, sign = "fmin", np.fmin, -1.0


class _Remainder(Function):
    """x - q y with an integer quotient q (a constant: piecewise, the gradient of y is -q)."""

    ufunc: ClassVar[Any] = None

    @classmethod
    def forward(cls, ctx: Any, x: Any, y: Any) -> Any:
        out = np.asarray(cls.ufunc(x, y))
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.save_for_backward(np.round((x - out) / np.asarray(y)))
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (q,) = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        return (g if nx else None), (-g * q if ny else None)


class Remainder(_Remainder):
    """numpy's remainder (= mod, Python's %): the result has the sign of the divisor."""

    name = "remainder"
    ufunc = np.remainder


class Fmod(_Remainder):
    """C's fmod: the result has the sign of the dividend."""

    name = "fmod"
    ufunc = np.fmod


# ---- the functions with numpy's names, registered with their gradient-check domains -------------
_DIVIDEND, _DIVISOR = nonzero(3.0, 3.3), nonzero(1.7, 2.0)  # |x / y| never an integer


def _fn2(cls: Any, domains: tuple[Domain, Domain], symbol: str = "vs",
         **registration: Any) -> Callable[[TensorLike, TensorLike], Tensor]:
    """numpy's ufunc ``cls.ufunc`` of two tensors (broadcasting), registered."""
    def f(x1: TensorLike, x2: TensorLike) -> Tensor:
        return cls.apply(x1, x2)

    f.__name__ = f.__qualname__ = cls.name
    f.__doc__ = f"numpy's {cls.name} of two tensors (broadcasting), differentiable."
    return register(cls, numpy=(cls.ufunc,), cases=binary(*domains, symbol), **registration)(f)


logaddexp = _fn2(Logaddexp, (STD, STD))
logaddexp2 = _fn2(Logaddexp2, (STD, STD))
arctan2 = _fn2(Arctan2, (STD, nonzero(0.3, 2.0)))
hypot = _fn2(Hypot, (nonzero(0.3, 2.0), STD))
fmax = _fn2(Fmax, (distinct(0), distinct(1)))
fmin = _fn2(Fmin, (distinct(0), distinct(1)))
remainder = _fn2(Remainder, (_DIVIDEND, _DIVISOR), "%", operators=("__mod__", "__rmod__"))
fmod = _fn2(Fmod, (_DIVIDEND, _DIVISOR), "fmod")
mod = remainder

__all__ = [
    "arctan2", "fmax", "fmin", "fmod", "hypot", "logaddexp", "logaddexp2", "mod", "remainder",
]
