"""Type aliases of the public API (for annotations; nothing here runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:
    from .tensor import Tensor

#: what an op takes as an operand: a Tensor, a numpy array, a Python or numpy number, a list
TensorLike: TypeAlias = Union["Tensor", ArrayLike]
#: numpy's ``axis``: None (all axes), an int or a tuple of ints (negatives count from the end)
Axis: TypeAlias = int | tuple[int, ...] | None
#: a shape: an int or a sequence of ints
ShapeLike: TypeAlias = int | tuple[int, ...] | list[int]
NDArray: TypeAlias = np.ndarray

__all__ = ["ArrayLike", "Axis", "DTypeLike", "NDArray", "ShapeLike", "TensorLike"]
