"""numpy.linalg.norm: vector norms of any order and the matrix norms ('fro', 'nuc', 1, -1, 2,
-2, inf, -inf) over an axis pair, with ``keepdims``. The 2-norm is a primitive so that its
gradient at 0 is 0 (the subgradient, as PyTorch); the others are composites of abs, sums,
extremes and singular values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import calls, wellconditioned
from ..function import constant, data_of
from ..registry import register
from .axes import axis_tuple
from .decompositions import svdvals
from .elementwise import abs as _abs
from .manipulation import moveaxis
from .reduce import max, min, sum
from .reduction_rules import ReductionOnInputAndOutput
from .shape import _shape, expand_dims, squeeze

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ..types import Axis, TensorLike


class Norm2(ReductionOnInputAndOutput):
    """sqrt(sum(x ** 2)) over axes; gradient x / norm, taken as 0 where the norm is 0."""

    name = "norm"

    @staticmethod
    def reduce(x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
        return np.sqrt(np.add.reduce(x * x, axis=axes, keepdims=keepdims))  # type: ignore[call-overload]

    @staticmethod
    def derivative(xp: Any, x: Any, out: Any) -> Any:
        zero = data_of(out) == 0  # a constant mask (no np.asarray: compile interprets the rule)
        return xp.where(zero, 0, x / xp.where(zero, 1, out))


def _vector_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Tensor:
    if ord is None or ord == 2:
        return Norm2.apply(x, axis=axis, keepdims=keepdims)
    a = _abs(x)
    if ord == np.inf:
        return max(a, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return min(a, axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of nonzero entries: a constant
        count = np.sum(np.asarray(_data(x)) != 0, axis=axis, keepdims=keepdims)
        return constant(np.asarray(count, dtype=np.result_type(_data(x), 1.0)))
    if ord == 1:
        return sum(a, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    return sum(a ** float(ord), axis=axis, keepdims=keepdims) ** (1.0 / float(ord))


def _data(x: Any) -> Any:
    return data_of(x)


def _matrix_norm(x: Any, ord: Any, axes: tuple, keepdims: bool) -> Tensor:
    r, c = axes
    if ord in (None, "fro"):
        return Norm2.apply(x, axis=axes, keepdims=keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        sum_axis, pick_axis = (r, c) if ord in (1, -1) else (c, r)
        totals = sum(_abs(x), axis=sum_axis, keepdims=True)
        pick = max if ord in (1, np.inf) else min
        out = pick(totals, axis=pick_axis, keepdims=True)
        return out if keepdims else _drop(out, axes)
    if ord in (2, -2, "nuc"):
        s = svdvals(moveaxis(x, (r, c), (-2, -1)))
        out = max(s, axis=-1) if ord == 2 else min(s, axis=-1) if ord == -2 else sum(s, axis=-1)
        return expand_dims(out, tuple(sorted(axes))) if keepdims else out
    raise ValueError(f"norm: invalid norm order {ord!r} for matrices")


def _drop(x: Tensor, axes: tuple) -> Tensor:
    return squeeze(x, tuple(axes))


@register(Norm2, numpy=(np.linalg.norm,), public=False, cases=calls(*(
    (f"(3, 3) ord={o}", lambda f, a, o=o: f(a, o), ((3, 3),)) for o in (None, "nuc", 2, 1, np.inf)),
    domain=wellconditioned))
def norm(x: TensorLike, ord: float | str | None = None, axis: Axis = None,
         keepdims: bool = False) -> Tensor:
    """numpy.linalg.norm: a vector norm over one axis, a matrix norm over two (axis None: the
    2-norm of the flattened array when ord is None, else x must be 1-d or 2-d)."""
    shape = _shape(x)
    if axis is None:
        if ord is None:
            return Norm2.apply(x, axis=None, keepdims=keepdims)
        if len(shape) not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} without axis needs a 1-d or 2-d input, got "
                             f"shape {tuple(shape)}")
        axis = tuple(range(len(shape)))
    axes = axis_tuple("norm", axis, len(shape), shape)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must name 1 or 2 axes, got {axis!r}")


__all__ = ["norm"]
