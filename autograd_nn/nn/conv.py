"""Convolution and pooling layers: `Conv1d`, `Conv2d`, `ConvTranspose1d`, `ConvTranspose2d`,
`MaxPool1d`, `MaxPool2d`, `AvgPool1d`, `AvgPool2d`, `AdaptiveAvgPool1d`, `AdaptiveAvgPool2d`.

Weights keep PyTorch's layout, ``(C_out, C_in / groups, *kernel)`` (transposed convolution:
``(C_in, C_out / groups, *kernel)``), so a PyTorch state dict loads as it is; they are
initialised as PyTorch does: uniform on +-1/sqrt(fan_in) with
``fan_in = weight.shape[1] * prod(kernel)``, the bias too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..seeding import as_generator
from ..tensor import Tensor
from . import conv_functional as CF
from . import init as nn_init
from . import pool_functional as PF
from .module import Module, Parameter
from .window_args import conv_padding, is_int, ntuple

if TYPE_CHECKING:
    from ..types import DTypeLike, IntOrTuple, PaddingLike, RngLike, TensorLike
    from .pool_functional import AdaptiveSize

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What every convolution shares: arguments checked once, weight and bias, PyTorch's
    initialisation, ``extra_repr`` and the line a collapsed graph box shows."""

    dims = 2
    transposed = False
    functional: Callable[..., Tensor] = staticmethod(CF.conv2d)  # conv1d, conv_transpose2d, ...

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: PaddingLike = 0, dilation: IntOrTuple = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 output_padding: IntOrTuple = 0, rng: RngLike | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        super().__init__()
        name, d = type(self).__name__, self.dims
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels),
                       ("groups", groups)):
            if not is_int(v) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} and out_channels="
                             f"{out_channels} must both be divisible by groups={groups}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, d)
        self.stride = ntuple(name, "stride", stride, d)
        self.dilation = ntuple(name, "dilation", dilation, d)
        self.padding = padding if isinstance(padding, str) else \
            ntuple(name, "padding", padding, d, minimum=0)
        self._pads = conv_padding(name, self.padding, d, self.kernel_size, self.stride,
                                  self.dilation)
        self.output_padding = ntuple(name, "output_padding", output_padding, d, minimum=0)
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if self.transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng: RngLike | None = None) -> None:
        """PyTorch's initialisation: weight and bias uniform on +-1/sqrt(fan_in)."""
        gen = as_generator(rng)
        bound = 1.0 / math.sqrt(self.weight.shape[1] * math.prod(self.kernel_size))
        nn_init.uniform_(self.weight, -bound, bound, rng=gen)
        if self.bias is not None:
            nn_init.uniform_(self.bias, -bound, bound, rng=gen)

    def forward(self, x: TensorLike) -> Tensor:
        """The convolution (``functional``); non-zero padding modes pad the input first."""
        padding: PaddingLike = self.padding
        if self.padding_mode != "zeros":
            flat = [w for pair in reversed(self._pads) for w in pair]
            x, padding = CF.pad(x, flat, mode=self.padding_mode), 0
        return self.functional(x, self.weight, self.bias, self.stride, padding, self.dilation,
                               self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.transposed and self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s

    def box_note(self) -> str:
        """The line a collapsed module box shows in a drawn graph (`autograd_nn.viz`)."""
        k = "x".join(map(str, self.kernel_size))
        note = f"kernel {k}, stride {_compact(self.stride)}"
        if self.padding != (0,) * self.dims:
            note += f", padding {_compact(self.padding)}"
        return note


def _compact(v: object) -> str:
    if isinstance(v, tuple) and len(set(v)) == 1:
        return str(v[0])
    return str(v)


class Conv1d(_ConvNd):
    """1-d convolution over (N, C_in, L); weight (C_out, C_in / groups, k)."""

    dims = 1
    functional = staticmethod(CF.conv1d)


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W), PyTorch's arguments: ``kernel_size``,
    ``stride``, ``padding`` (int, pair, 'valid', 'same'), ``dilation``, ``groups``,
    ``bias``, ``padding_mode`` ('zeros', 'reflect', 'replicate', 'circular'); weight
    (C_out, C_in / groups, kH, kW) as PyTorch's."""

    dims = 2
    functional = staticmethod(CF.conv2d)


class _ConvTransposeNd(_ConvNd):
    transposed = True
    functional: Callable[..., Tensor] = staticmethod(CF.conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple = 0, output_padding: IntOrTuple = 0,
                 groups: int = 1, bias: bool = True, dilation: IntOrTuple = 1,
                 padding_mode: str = "zeros", rng: RngLike | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        if padding_mode != "zeros" or isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' and integer "
                             "padding are supported (as PyTorch)")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, rng, dtype)

    def forward(self, x: TensorLike) -> Tensor:
        return self.functional(x, self.weight, self.bias, self.stride, self.padding,
                               self.output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution; weight (C_in, C_out / groups, k)."""

    dims = 1
    functional = staticmethod(CF.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution (the gradient of `Conv2d` in its input, used to upsample);
    weight (C_in, C_out / groups, kH, kW) as PyTorch's."""

    dims = 2
    functional = staticmethod(CF.conv_transpose2d)


class _PoolNd(Module):
    dims = 2
    kind = "max"

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = ntuple(name, "kernel_size", kernel_size, self.dims)
        self.stride = self.kernel_size if stride is None else \
            ntuple(name, "stride", stride, self.dims)
        self.padding = ntuple(name, "padding", padding, self.dims, minimum=0)
        self.dilation = ntuple(name, "dilation", dilation, self.dims)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: TensorLike) -> Tensor:
        if self.kind == "max":
            fn = PF.max_pool2d if self.dims == 2 else PF.max_pool1d
            return fn(x, self.kernel_size, self.stride, self.padding, self.dilation,
                      self.ceil_mode)
        if self.dims == 2:
            return PF.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                                 self.ceil_mode, self.count_include_pad, self.divisor_override)
        return PF.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad)

    def extra_repr(self) -> str:
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.kind == "max" and self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        return s + (", ceil_mode=True" if self.ceil_mode else "")

    def box_note(self) -> str:
        k = "x".join(map(str, self.kernel_size))
        return f"{self.kind} {k}, stride {_compact(self.stride)}"


class MaxPool1d(_PoolNd):
    """Maximum over windows of (N, C, L); tied maxima share the gradient equally."""

    dims, kind = 1, "max"

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
                 ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)


class MaxPool2d(MaxPool1d):
    """Maximum over windows of (N, C, H, W) (``stride`` defaults to ``kernel_size``); tied
    maxima share the gradient equally."""

    dims = 2


class AvgPool1d(_PoolNd):
    """Mean over windows of (N, C, L)."""

    dims, kind = 1, "avg"

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, 1, ceil_mode, count_include_pad)


class AvgPool2d(_PoolNd):
    """Mean over windows of (N, C, H, W), PyTorch's ``count_include_pad`` and
    ``divisor_override``."""

    dims, kind = 2, "avg"

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
                 padding: IntOrTuple = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding, 1, ceil_mode, count_include_pad,
                         divisor_override)


class AdaptiveAvgPool1d(Module):
    """Mean over ``output_size`` near-equal windows of (N, C, L)."""

    dims = 1

    def __init__(self, output_size: AdaptiveSize) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: TensorLike) -> Tensor:
        fn = PF.adaptive_avg_pool2d if self.dims == 2 else PF.adaptive_avg_pool1d
        return fn(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(AdaptiveAvgPool1d):
    """Mean over near-equal windows of (N, C, H, W) giving (N, C, *output_size)."""

    dims = 2
