"""Type aliases of the public API (for annotations; nothing here runs).

Signatures name these aliases, e.g. ``conv2d(input: TensorLike, weight: TensorLike,
bias: TensorLike | None = None, stride: IntOrTuple = 1, padding: PaddingLike = 0, ...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:
    from types import EllipsisType

    from .tensor import Tensor

TensorLike: TypeAlias = Union["Tensor", ArrayLike]
"""What an op takes as an operand: a Tensor, a numpy array, a Python or numpy number, a list."""
Axis: TypeAlias = int | tuple[int, ...] | None
"""numpy's ``axis``: None (all axes), an int or a tuple of ints (negatives count from the end)."""
ShapeLike: TypeAlias = int | tuple[int, ...] | list[int]
"""A shape: an int or a sequence of ints."""
NDArray: TypeAlias = np.ndarray
IntOrTuple: TypeAlias = int | tuple[int, ...] | list[int]
"""A size per spatial axis (``kernel_size``, ``stride``, ``dilation``, ``padding``): one int
used on every axis, or one int per axis."""
PaddingLike: TypeAlias = IntOrTuple | Literal["same", "valid"]
"""Convolution's ``padding``: an int or one per axis, 'valid' (none) or 'same' (stride 1)."""
RngLike: TypeAlias = int | np.integer | np.random.Generator
"""``rng=``: an int seed (a fresh ``np.random.default_rng(seed)``) or a Generator used as is;
None, where accepted, draws from numpy's global generator (see `autograd_nn.seeding`)."""
IndexItem: TypeAlias = Union[int, np.integer, slice, "EllipsisType", None, TensorLike]
"""One entry of an index: an int, a slice, ``...``, None (a new axis), or an integer or
boolean array (a Tensor or a list too)."""
IndexLike: TypeAlias = IndexItem | tuple[IndexItem, ...]
"""numpy's index: one entry or a tuple of them."""

__all__ = ["ArrayLike", "Axis", "DTypeLike", "IndexItem", "IndexLike", "IntOrTuple", "NDArray",
           "PaddingLike", "RngLike", "ShapeLike", "TensorLike"]
