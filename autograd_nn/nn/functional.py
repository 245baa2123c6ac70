"""Functional forms of the layers and losses (``import autograd_nn.nn.functional as F``).

Activations are the engine's primitives; ``linear`` and ``dropout`` are composites of them.
The losses are documented in `autograd_nn.nn.losses`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np

from ..ops import (
    leaky_relu,
    log_softmax,
    matmul,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from ..seeding import as_generator
from ..tensor import Tensor
from .conv_functional import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    pad,
    unfold,
)
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from .norm_functional import batch_norm, embedding, group_norm, layer_norm
from .pool_functional import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)

if TYPE_CHECKING:
    from ..types import RngLike, TensorLike

    X = TypeVar("X", bound=TensorLike)  # dropout returns its input itself when it does nothing

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "dropout",
    "l1_loss", "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "relu", "sigmoid",
    "softmax", "softplus", "tanh",
    # layers beyond the MLP (conv_functional, pool_functional, norm_functional)
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm",
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "embedding", "fold",
    "group_norm", "layer_norm", "max_pool1d", "max_pool2d", "pad", "unfold",
]


def linear(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """``x @ weight + bias`` with ``weight`` of shape ``(in_features, out_features)``."""
    out = matmul(x, weight)
    return out if bias is None else out + bias


def check_dropout_p(p: object) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) \
            or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")


def dropout(x: X, p: float = 0.5, training: bool = True,
            rng: RngLike | None = None) -> X | Tensor:
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the
    others by 1/(1-p); otherwise (or with p=0) return ``x`` unchanged. p=1 gives zeros."""
    check_dropout_p(p)
    if not training or p == 0:
        return x
    t = x if isinstance(x, Tensor) else Tensor(x)
    if p == 1:
        return t * np.zeros(t.shape, dtype=t.dtype)
    keep = as_generator(rng).random(t.shape) >= p
    return t * (keep / (1.0 - p)).astype(t.dtype, copy=False)
