"""Triangles and diagonals with numpy's signatures, as composites: ``tril``/``triu`` are a
``where`` with numpy's triangle mask, ``diagonal`` is integer indexing (its adjoint scatters
back, exact under create_graph), ``trace`` sums a diagonal, ``diag`` builds or reads one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import calls, shape_label
from ..function import as_tensor
from ..registry import register
from .axes import axis_tuple
from .elementwise import where
from .reduce import sum as _sum
from .shape import _shape, getitem, index_add, transpose

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ..types import DTypeLike, TensorLike


def _as_tensor(x: Any) -> Any:
    return as_tensor(x)


@register(numpy=(np.tril,), cases=calls(*(
    (f"{shape_label(s)} k={k}", lambda f, x, k=k: f(x, k), (s,))
    for s, k in [((3, 4), 0), ((2, 3, 3), -1), ((4,), 1)])))
def tril(m: TensorLike, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes (entries above diagonal ``k`` set to 0); a 1-d
    input is taken as a row broadcast to a square, as numpy does."""
    shape = _shape(m)
    rows, cols = (shape[-2], shape[-1]) if len(shape) >= 2 else (shape[-1], shape[-1])
    return where(np.tri(rows, cols, k, dtype=bool), m, 0)


@register(numpy=(np.triu,), cases=calls(*(
    (f"{shape_label(s)} k={k}", lambda f, x, k=k: f(x, k), (s,))
    for s, k in [((3, 4), 0), ((2, 3, 3), 1)])))
def triu(m: TensorLike, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes (entries below diagonal ``k`` set to 0)."""
    shape = _shape(m)
    rows, cols = (shape[-2], shape[-1]) if len(shape) >= 2 else (shape[-1], shape[-1])
    return where(np.tri(rows, cols, k - 1, dtype=bool), 0, m)


def _diagonal_index(n1: int, n2: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of diagonal ``offset`` of an n1 x n2 matrix."""
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(n1 - start_r, n2 - start_c))
    i = np.arange(n)
    return i + start_r, i + start_c


@register(numpy=(np.diagonal,), methods=("diagonal",), cases=calls(*(
    (f"{shape_label(s)} offset={o} axes={a}", lambda f, x, o=o, a=a: f(x, o, *a), (s,))
    for s, o, a in [((3, 4), 1, (0, 1)), ((2, 3, 3), 0, (-2, -1))])))
def diagonal(a: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """numpy's diagonal: the diagonal of axes (axis1, axis2) becomes the last axis."""
    shape = _shape(a)
    if len(shape) < 2:
        raise ValueError(f"diagonal: the operand needs at least 2 axes, shape is {shape}")
    a1, a2 = (axis_tuple("diagonal", ax, len(shape), shape)[0] for ax in (axis1, axis2))
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({a1})")
    rest = [i for i in range(len(shape)) if i not in (a1, a2)]
    moved = transpose(a, rest + [a1, a2])
    r, c = _diagonal_index(shape[a1], shape[a2], int(offset))
    return getitem(moved, (Ellipsis, r, c))


@register(numpy=(np.trace,), methods=("trace",),
          cases=calls(*((shape_label(s), None, (s,)) for s in [(3, 3), (3, 4, 2)])))
def trace(a: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1,
          dtype: DTypeLike | None = None, out: None = None) -> Tensor:
    """The sum along a diagonal (numpy's trace: stacked over the other axes)."""
    if dtype is not None or out is not None:
        raise TypeError("trace: the dtype= and out= arguments are not supported on Tensors")
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1)


@register(numpy=(np.diag,), cases=calls(*(
    (f"{shape_label(s)} k={k}", lambda f, x, k=k: f(x, k), (s,))
    for s, k in [((3,), 0), ((2,), -1), ((3, 4), 1)])))
def diag(v: TensorLike, k: int = 0) -> Tensor:
    """numpy's diag: a 1-d ``v`` gives the square matrix with ``v`` on diagonal ``k``; a 2-d
    ``v`` gives its diagonal ``k``."""
    shape = _shape(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError(f"diag: the input must be 1-d or 2-d, shape is {shape}")
    n = shape[0] + abs(int(k))
    r, c = _diagonal_index(n, n, int(k))
    return index_add(_as_tensor(v), (n, n), (r, c), False)


__all__ = ["diag", "diagonal", "trace", "tril", "triu"]
