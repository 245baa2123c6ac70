"""Functions that make new leaf tensors (numpy's names; ``requires_grad`` where it makes sense)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .seeding import as_generator
from .tensor import Tensor

if TYPE_CHECKING:
    from .types import DTypeLike, RngLike, ShapeLike, TensorLike


def _shape(shape: tuple) -> tuple[int, ...]:  # ints, or one tuple or list of them
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"shape entries must be non-negative ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _leaf(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._from_op(arr, None)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data: TensorLike, requires_grad: bool = False,
           dtype: DTypeLike | None = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (same as ``Tensor(...)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape: ShapeLike, dtype: DTypeLike = np.float64, requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros(_shape(shape), dtype=dtype), requires_grad)


def ones(*shape: ShapeLike, dtype: DTypeLike = np.float64, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones(_shape(shape), dtype=dtype), requires_grad)


def zeros_like(t: TensorLike, dtype: DTypeLike | None = None,
               requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros_like(np.asarray(t), dtype=dtype), requires_grad)


def ones_like(t: TensorLike, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones_like(np.asarray(t), dtype=dtype), requires_grad)


def full(shape: ShapeLike, fill_value: float, dtype: DTypeLike = np.float64,
         requires_grad: bool = False) -> Tensor:
    shape = _shape((shape,) if not isinstance(shape, (tuple, list)) else tuple(shape))
    return _leaf(np.full(shape, fill_value, dtype=dtype), requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1,
           dtype: DTypeLike | None = None,
           requires_grad: bool = False) -> Tensor:
    """numpy's arange (integer arguments give an integer tensor unless dtype says otherwise)."""
    if stop is None:
        arr = np.arange(start, dtype=dtype)
    else:
        arr = np.arange(start, stop, step, dtype=dtype)
    return _leaf(arr, requires_grad)


def linspace(start: float, stop: float, num: int = 50, dtype: DTypeLike | None = None,
             requires_grad: bool = False) -> Tensor:
    return _leaf(np.linspace(start, stop, num, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype: DTypeLike = np.float64,
        requires_grad: bool = False) -> Tensor:
    return _leaf(np.eye(n, m, dtype=dtype), requires_grad)


def randn(*shape: ShapeLike, rng: RngLike | None = None, dtype: DTypeLike = np.float64,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples; ``rng`` is an int seed or a numpy Generator (None: numpy's
    global generator, see `autograd_nn.seeding`)."""
    arr = as_generator(rng).standard_normal(_shape(shape)).astype(dtype, copy=False)
    return _leaf(arr, requires_grad)


def rand(*shape: ShapeLike, rng: RngLike | None = None, dtype: DTypeLike = np.float64,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1); ``rng`` is an int seed or a numpy Generator (None: numpy's
    global generator, see `autograd_nn.seeding`)."""
    arr = as_generator(rng).random(_shape(shape)).astype(dtype, copy=False)
    return _leaf(arr, requires_grad)
