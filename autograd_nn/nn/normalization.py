"""Normalisation layers and `Embedding`: `BatchNorm1d`, `BatchNorm2d`, `LayerNorm`,
`GroupNorm`, with PyTorch's arguments, parameter and buffer names.

Batch norm keeps ``running_mean``, ``running_var`` and ``num_batches_tracked`` as buffers:
``state_dict()`` and ``nn.save`` include them, ``train()`` / ``eval()`` choose batch
statistics (updating the running ones) or the running statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..mode import no_grad
from ..seeding import as_generator
from ..tensor import Tensor
from . import init as nn_init
from . import norm_functional as NF
from .module import Module, Parameter
from .window_args import is_int


class _BatchNorm(Module):
    expected_ndim: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        if not is_int(num_features) or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, "
                             f"got {num_features!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def forward(self, x: Any) -> Tensor:
        ndim = x.ndim if isinstance(x, Tensor) else np.ndim(x)
        if ndim not in self.expected_ndim:
            raise ValueError(f"{type(self).__name__}: expected input of "
                             f"{' or '.join(map(str, self.expected_ndim))} axes, got {ndim}")
        factor: float | Tensor = 0.0 if self.momentum is None else float(self.momentum)
        if self.training and self.track_running_stats:
            # tensor ops, not reads of .data: ag.compile records them (the count moves on
            # every compiled call, and 1 / count is computed from it, as PyTorch does)
            with no_grad():
                self.num_batches_tracked.add_(1)
                if self.momentum is None:  # cumulative moving average
                    factor = 1.0 / self.num_batches_tracked
        use_batch = self.training or not self.track_running_stats
        keep = not self.training or self.track_running_stats
        return NF.batch_norm(x, self.running_mean if keep else None,
                             self.running_var if keep else None, self.weight, self.bias,
                             use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): per channel, statistics over N (and L)."""

    expected_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): per channel, statistics over N, H and W."""

    expected_ndim = (4,)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` axes; elementwise weight and bias of
    that shape (ones and zeros at first)."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        shape = (normalized_shape,) if is_int(normalized_shape) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        self.weight = Parameter(np.ones(shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, dtype=dtype)) \
            if elementwise_affine and bias else None

    def forward(self, x: Any) -> Tensor:
        return NF.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise (N, C, *) over groups of channels; per-channel weight and bias."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = np.float64) -> None:
        super().__init__()
        if not is_int(num_groups) or not is_int(num_channels) or num_groups <= 0 \
                or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels!r} must be divisible "
                             f"by num_groups={num_groups!r}")
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, float(eps)
        self.affine = bool(affine)
        self.weight = Parameter(np.ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, dtype=dtype)) if affine else None

    def forward(self, x: Any) -> Tensor:
        return NF.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class Embedding(Module):
    """A lookup table: integer indices (any shape) -> rows of ``weight``
    (num_embeddings, embedding_dim), drawn from N(0, 1) as PyTorch; the row at
    ``padding_idx`` starts at zero and gets no gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, rng: Any = None,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        for arg, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not is_int(v) or v <= 0:
                raise ValueError(f"Embedding: {arg} must be a positive int, got {v!r}")
        if padding_idx is not None:
            if not is_int(padding_idx) or not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx!r}")
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        nn_init.normal_(self.weight, rng=as_generator(rng))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    def forward(self, indices: Any) -> Tensor:
        return NF.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
