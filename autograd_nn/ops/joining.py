"""numpy's joining and splitting functions (append, block, the atleast_nd family, the vstack
family, array_split and its v/h/d variants) as composites over reshape, concatenate and
indexing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import calls
from ..function import as_tensor, is_tensor
from ..registry import register
from .axes import axis_tuple
from .shape import (
    _shape,
    check_join_arguments,
    concatenate,
    flatten,
    getitem,
    reshape,
    split,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..tensor import Tensor
    from ..types import DTypeLike, TensorLike


def _tensor(a: Any) -> Tensor:
    return as_tensor(a)


def _at_least(a: Any, n: int) -> Tensor:
    shape = _shape(a)
    if len(shape) >= n:
        return _tensor(a)
    if n == 3 and len(shape) == 2:  # numpy's atleast_3d: (M, N) -> (M, N, 1)
        return reshape(a, shape + (1,))
    if n == 3 and len(shape) == 1:  # (N,) -> (1, N, 1)
        return reshape(a, (1,) + shape + (1,))
    return reshape(a, (1,) * (n - len(shape)) + shape)


def _each(n: int, arys: tuple) -> Tensor | tuple[Tensor, ...]:
    out = tuple(_at_least(a, n) for a in arys)
    return out[0] if len(out) == 1 else out


@register(numpy=(np.atleast_1d,), checked=False)
def atleast_1d(*arys: TensorLike) -> Tensor | tuple[Tensor, ...]:
    """Each input as a tensor with at least one axis (a tuple for several inputs)."""
    return _each(1, arys)


@register(numpy=(np.atleast_2d,), checked=False)
def atleast_2d(*arys: TensorLike) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least two axes: (N,) becomes (1, N)."""
    return _each(2, arys)


@register(numpy=(np.atleast_3d,), checked=False)
def atleast_3d(*arys: TensorLike) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least three axes: (N,) -> (1, N, 1), (M, N) -> (M, N, 1)."""
    return _each(3, arys)


def _sequence(op: str, tup: Any) -> list:
    if is_tensor(tup) or isinstance(tup, np.ndarray):
        raise TypeError(f"{op}: arrays to stack must be passed as a sequence (list or tuple)")
    items = list(tup)
    if not items:
        raise ValueError(f"{op}: need at least one array to concatenate")
    return items


@register(numpy=(np.vstack,),
          cases=calls(("(3,) (2, 3)", lambda f, a, b: f([a, b]), ((3,), (2, 3)))))
def vstack(tup: Sequence[TensorLike], *, dtype: DTypeLike | None = None,
           casting: str = "same_kind") -> Tensor:
    """Stack along the first axis after atleast_2d (rows)."""
    check_join_arguments("vstack", None, dtype, casting)
    return concatenate([_at_least(a, 2) for a in _sequence("vstack", tup)], axis=0)


@register(numpy=(np.hstack,),
          cases=calls(("(2, 1) (2, 3)", lambda f, a, b: f([a, b]), ((2, 1), (2, 3)))))
def hstack(tup: Sequence[TensorLike], *, dtype: DTypeLike | None = None,
           casting: str = "same_kind") -> Tensor:
    """Stack along the second axis (the first for 1-d inputs)."""
    check_join_arguments("hstack", None, dtype, casting)
    arrs = [_at_least(a, 1) for a in _sequence("hstack", tup)]
    return concatenate(arrs, axis=0 if arrs[0].ndim == 1 else 1)


@register(numpy=(np.dstack,),
          cases=calls(("(2,) (1, 2, 2)", lambda f, a, b: f([a, b]), ((2,), (1, 2, 2)))))
def dstack(tup: Sequence[TensorLike]) -> Tensor:
    """Stack along the third axis after atleast_3d (depth)."""
    return concatenate([_at_least(a, 3) for a in _sequence("dstack", tup)], axis=2)


@register(numpy=(np.column_stack,),
          cases=calls(("(3,) (3, 2)", lambda f, a, b: f([a, b]), ((3,), (3, 2)))))
def column_stack(tup: Sequence[TensorLike]) -> Tensor:
    """1-d inputs become columns; 2-d inputs are stacked as they are (along axis 1)."""
    cols = []
    for a in _sequence("column_stack", tup):
        shape = _shape(a)
        cols.append(reshape(a, (shape[0], 1)) if len(shape) < 2 else _at_least(a, 2))
    return concatenate(cols, axis=1)


@register(numpy=(np.append,), cases=calls(("(2, 3) (4,) flat", None, ((2, 3), (4,)))))
def append(arr: TensorLike, values: TensorLike, axis: int | None = None) -> Tensor:
    """``values`` appended to ``arr`` (both flattened when ``axis`` is None)."""
    if axis is None:
        return concatenate([flatten(arr), flatten(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def _block_depth(arrays: Any, path: str, leaves: list) -> int:
    """How deeply ``arrays`` nests lists (checked equal everywhere, as numpy); its leaves are
    appended to ``leaves``."""
    if isinstance(arrays, tuple):
        raise TypeError(f"block: {path} is a tuple; only lists can be used to arrange blocks "
                        "(np.block does not convert a tuple to an array)")
    if not isinstance(arrays, list):
        leaves.append(arrays)
        return 0
    if not arrays:
        raise ValueError(f"block: the list at {path} cannot be empty")
    depths = [_block_depth(a, f"{path}[{i}]", leaves) for i, a in enumerate(arrays)]
    for i, d in enumerate(depths):
        if d != depths[0]:
            raise ValueError(f"block: list depths are mismatched: {path}[0] nests lists "
                             f"{depths[0]} deep but {path}[{i}] {d} deep")
    return depths[0] + 1


def _join_blocks(arrays: Any, depth: int, ndim: int) -> Tensor:
    if depth == 0:
        shape = _shape(arrays)
        return reshape(arrays, (1,) * (ndim - len(shape)) + shape)
    return concatenate([_join_blocks(a, depth - 1, ndim) for a in arrays], axis=-depth)


@register(numpy=(np.block,), cases=calls(
    ("[[(2, 2), (2, 1)], [(3,)]]", lambda f, a, b, c: f([[a, b], [c]]), ((2, 2), (2, 1), (3,)))))
def block(arrays: TensorLike) -> Tensor:  # nested lists of blocks
    """numpy's block: an array assembled from nested lists of blocks. The innermost lists are
    joined along the last axis, the next ones along the second last, and so on; every block is
    first given as many axes as the result has (leading axes of size 1)."""
    leaves: list = []
    depth = _block_depth(arrays, "arrays", leaves)
    ndim = max([depth] + [len(_shape(a)) for a in leaves])
    return _join_blocks(arrays, depth, ndim)


@register(numpy=(np.array_split,),
          cases=calls(("(5, 2) 3 sections", lambda f, x: f(x, 3)[1], ((5, 2),))))
def array_split(ary: TensorLike, indices_or_sections: int | Sequence[int],
                axis: int = 0) -> list[Tensor]:
    """numpy's array_split: like split, but ``k`` sections need not divide the axis (the first
    ``n % k`` parts are one longer)."""
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(ary, indices_or_sections, axis)
    shape = _shape(ary)
    ax = axis_tuple("array_split", axis, len(shape), shape)[0]
    k = int(indices_or_sections)
    if k <= 0:
        raise ValueError(f"array_split: the number of sections must be larger than 0, got {k}")
    n = shape[ax]
    sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
    bounds = np.cumsum([0] + sizes)
    lead = (slice(None),) * ax
    return [getitem(ary, lead + (slice(int(a), int(b)),)) for a, b in zip(bounds, bounds[1:])]


def _split_at(op: str, ary: Any, ios: Any, axis: int, min_dims: int) -> list[Tensor]:
    if len(_shape(ary)) < min_dims:
        raise ValueError(f"{op} only works on arrays of {min_dims} or more dimensions")
    return split(ary, ios, axis)


@register(numpy=(np.vsplit,), checked=False)
def vsplit(ary: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    return _split_at("vsplit", ary, indices_or_sections, 0, 2)


@register(numpy=(np.hsplit,), checked=False)
def hsplit(ary: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    axis = 1 if len(_shape(ary)) > 1 else 0
    return _split_at("hsplit", ary, indices_or_sections, axis, 1)


@register(numpy=(np.dsplit,), checked=False)
def dsplit(ary: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    return _split_at("dsplit", ary, indices_or_sections, 2, 3)


__all__ = [
    "append", "array_split", "atleast_1d", "atleast_2d", "atleast_3d", "block", "column_stack",
    "dsplit", "dstack", "hsplit", "hstack", "vsplit", "vstack",
]
