"""The array namespace backward rules use in a plain (first-order) pass: numpy, plus the few
kernels numpy lacks. `tensor_ns` mirrors every name with a differentiable function."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

# exp's argument above which the result overflows, per float dtype
_EXP_MAX = {np.dtype(np.float16): 11.0, np.dtype(np.float32): 88.7, np.dtype(np.float64): 709.7}


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow: exp's argument is capped where it would overflow,
    which changes results only below the smallest normal float (e.g. x < -709 in float64)."""
    x = np.asarray(x)
    cap = _EXP_MAX.get(x.dtype, 709.7)
    e = np.minimum(np.negative(x), cap)
    if type(e) is not np.ndarray:  # 0-d input gives a numpy scalar
        return 1.0 / (1.0 + np.exp(e))
    np.exp(e, out=e)
    e += 1.0
    return np.reciprocal(e, out=e)


def exclusive_prod(x: Any) -> Any:
    """out[..., i] = prod of x[..., k] for k != i along the last axis, exact when x has zeros."""
    x = np.asarray(x)
    out = np.ones_like(x)
    if x.shape[-1] > 1:
        out[..., 1:] = np.cumprod(x[..., :-1], axis=-1)
        out[..., :-1] *= np.cumprod(x[..., ::-1], axis=-1)[..., :-1][..., ::-1]
    return out


def index_add(g: Any, shape: tuple, index: Any, basic: bool) -> Any:
    """zeros(shape) with g added at index; repeated indices add up (the adjoint of x[index])."""
    out = np.zeros(shape, dtype=np.asarray(g).dtype)
    if basic:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def sign(x: Any) -> Any:
    return np.sign(x)


NUMPY_NS = SimpleNamespace(
    exp=np.exp,
    log=np.log,
    sin=np.sin,
    cos=np.cos,
    sigmoid=sigmoid,
    sign=sign,
    where=np.where,
    sum=np.sum,
    reshape=np.reshape,
    transpose=np.transpose,
    swapaxes=np.swapaxes,
    expand_dims=np.expand_dims,
    squeeze=np.squeeze,
    broadcast_to=np.broadcast_to,
    matmul=np.matmul,
    exclusive_prod=exclusive_prod,
    index_add=index_add,
)
