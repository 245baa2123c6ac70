"""Argument checks shared by convolution and pooling: ints or tuples per spatial axis,
padding specs, the operand's rank and dtype. Every error names the op and the argument."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..ops import transpose
from ..tensor import Tensor

if TYPE_CHECKING:
    from collections.abc import Iterable

    from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

    from ..types import PaddingLike, TensorLike


def as_tensor(op: str, x: TensorLike, what: str = "input") -> Tensor:
    """``x`` as a Tensor of floating dtype (arrays are wrapped without copying)."""
    t = x if isinstance(x, Tensor) else Tensor._from_op(np.asarray(x), None)
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be floating point, got dtype {t.dtype}")
    return t


# Value checks of an operand's values, for a layer or loss to raise on bad values. ag.compile
# guards each of them (compile/guards.py): the compiled code computes the predicate on every
# call, and a call where it changes traces again, so the trace raises as eager mode does. A new
# value check belongs here, called as ``window_args.<name>(...)``.

def indices_in_range(arr: np.ndarray, n: int) -> bool:
    """Are all the integer indices of ``arr`` in [0, n)? (guarded by ag.compile)"""
    return not arr.size or bool(arr.min() >= 0 and arr.max() < n)


def probabilities(arr: np.ndarray) -> bool:
    """Is every element of ``arr`` in [0, 1] (NaN is not)? (guarded by ag.compile)"""
    return bool(((arr >= 0) & (arr <= 1)).all())


def whole_numbers(arr: np.ndarray) -> bool:
    """Is every element of ``arr`` finite and a whole number? (guarded by ag.compile)"""
    return bool((np.isfinite(arr) & (arr == np.round(arr))).all())


def is_int(v: object) -> TypeIs[int | np.integer]:
    """An int or numpy integer, not a bool."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def ntuple(op: str, name: str, value: object, d: int, minimum: int = 1) -> tuple[int, ...]:
    """An int (used on every axis) or a sequence of ``d`` ints, each at least ``minimum``."""
    items = (value,) * d if is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != d or not all(map(is_int, items)):
        raise ValueError(f"{op}: {name} must be an int or {d} ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{op}: {name} must be >= {minimum} on every axis, got {value!r}")
    return tuple(int(v) for v in items)


def check_rank(op: str, x: Tensor, d: int, what: str = "input") -> bool:
    """True when ``x`` is batched (N, C, *spatial), False when unbatched (C, *spatial)."""
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(f"{op}: expected {what} of {d + 2} axes (N, C, {_spatial(d)}) or "
                         f"{d + 1} unbatched, got shape {x.shape}")
    return x.ndim == d + 2


def _spatial(d: int) -> str:
    return ", ".join(("D", "H", "W")[3 - d:]) if d <= 3 else f"{d} spatial axes"


def conv_padding(op: str, padding: PaddingLike, d: int, kernel: tuple, stride: tuple,
                 dilation: tuple) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial axis from an int, ``d`` ints, 'valid' or 'same'.

    'same' (stride 1 only, as PyTorch) pads ``dilation*(k-1)`` in total, the odd element
    after, so the output has the input's size."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
            totals = [dl * (k - 1) for k, dl in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"{op}: padding must be an int, {d} ints, 'valid' or 'same', "
                         f"got {padding!r}")
    return tuple((p, p) for p in ntuple(op, "padding", padding, d, minimum=0))


def to_channels_last(x: TensorLike, d: int) -> Tensor:
    """(N, C, *spatial) -> (N, *spatial, C), a view."""
    return transpose(x, (0, *range(2, d + 2), 1))


def to_channels_first(x: TensorLike, d: int) -> Tensor:
    """(N, *spatial, C) -> (N, C, *spatial), a view."""
    return transpose(x, (0, d + 1, *range(1, d + 1)))


def check_output(op: str, spatial: tuple, out: tuple, what: str) -> None:
    if min(out, default=1) < 1:
        raise ValueError(f"{op}: {what} gives output size {out} for input size {spatial}; "
                         "the output must have at least one element per axis")


def prod(xs: Iterable[int]) -> int:
    return math.prod(xs)
