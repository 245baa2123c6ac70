"""Type aliases of the public API (for annotations; nothing here runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:
    from types import EllipsisType

    from .tensor import Tensor

#: what an op takes as an operand: a Tensor, a numpy array, a Python or numpy number, a list
TensorLike: TypeAlias = Union["Tensor", ArrayLike]
#: numpy's ``axis``: None (all axes), an int or a tuple of ints (negatives count from the end)
Axis: TypeAlias = int | tuple[int, ...] | None
#: a shape: an int or a sequence of ints
ShapeLike: TypeAlias = int | tuple[int, ...] | list[int]
NDArray: TypeAlias = np.ndarray
#: a size per spatial axis (``kernel_size``, ``stride``, ``dilation``, ``padding``): one int
#: used on every axis, or one int per axis
IntOrTuple: TypeAlias = int | tuple[int, ...] | list[int]
#: convolution's ``padding``: an int or one per axis, 'valid' (none) or 'same' (stride 1)
PaddingLike: TypeAlias = IntOrTuple | Literal["same", "valid"]
#: ``rng=``: an int seed (a fresh ``np.random.default_rng(seed)``) or a Generator used as is;
#: None (where accepted) draws from numpy's global generator (see `autograd_nn.seeding`)
RngLike: TypeAlias = int | np.integer | np.random.Generator
#: one entry of an index: an int, a slice, ``...``, None (a new axis), or an integer or boolean
#: array (a Tensor or a list too)
IndexItem: TypeAlias = Union[int, np.integer, slice, "EllipsisType", None, TensorLike]
#: numpy's index: one entry or a tuple of them
IndexLike: TypeAlias = IndexItem | tuple[IndexItem, ...]

__all__ = ["ArrayLike", "Axis", "DTypeLike", "IndexItem", "IndexLike", "IntOrTuple", "NDArray",
           "PaddingLike", "RngLike", "ShapeLike", "TensorLike"]
