"""Sliding-window primitives, from which convolution and pooling are built (`nn.functional`).

Three linear ops, each the other's adjoint, so their derivatives are themselves ops and every
order of derivative comes for free:

- ``pad_constant(x, widths, value)``: its derivative is ``pad_constant(g, -widths, 0)``
  (a negative width crops);
- ``unfold_windows(x, kernel, stride, dilation)``: channels-last windows
  ``(N, *out, *kernel, C)`` of ``x`` ``(N, *spatial, C)``, a strided view (im2col without a
  copy); its derivative is ``fold_windows``;
- ``fold_windows(cols, spatial, kernel, stride, dilation)``: adds windows back into an array
  (col2im); its derivative is ``unfold_windows``.

Arguments are checked by the ``nn.functional`` callers, which know the user's names; the
primitives check only what would otherwise give a wrong answer instead of an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from . import window_kernels as wk


class PadConstant(Function):
    name = "pad"

    @staticmethod
    def forward(ctx: Any, x: Any, widths: tuple = (), value: float = 0.0) -> Any:
        x = np.asarray(x)
        if len(widths) != x.ndim:
            raise ValueError(f"{len(widths)} (before, after) pairs for {x.ndim} axes")
        for axis, (n, (b, a)) in enumerate(zip(x.shape, widths)):
            if n + b + a < 0:
                raise ValueError(f"padding ({b}, {a}) leaves axis {axis} of size {n} with "
                                 f"{n + b + a} elements")
        ctx.widths = widths
        return wk.pad_constant(x, widths, value)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return ctx.xp.pad_constant(g, tuple((-b, -a) for b, a in ctx.widths), 0.0)


class UnfoldWindows(Function):
    name = "unfold_windows"
    is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, kernel: tuple = (), stride: tuple = (),
                dilation: tuple = ()) -> Any:
        x = np.asarray(x)
        d = len(kernel)
        if x.ndim != d + 2:
            raise ValueError(f"a {d}-d window needs (N, *spatial, C) of {d + 2} axes, got "
                             f"shape {x.shape}")
        out = wk.window_counts(x.shape[1:1 + d], kernel, stride, dilation)
        if min(out, default=1) < 1:
            raise ValueError(f"kernel {kernel} with dilation {dilation} is larger than the "
                             f"spatial size {x.shape[1:1 + d]}")
        ctx.geometry = (x.shape[1:1 + d], kernel, stride, dilation)
        return wk.unfold_windows(x, kernel, stride, dilation)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return ctx.xp.fold_windows(g, *ctx.geometry)


class FoldWindows(Function):
    name = "fold_windows"

    @staticmethod
    def forward(ctx: Any, cols: Any, spatial: tuple = (), kernel: tuple = (),
                stride: tuple = (), dilation: tuple = ()) -> Any:
        cols = np.asarray(cols)
        d = len(kernel)
        want = wk.window_counts(spatial, kernel, stride, dilation)
        if cols.ndim != 2 * d + 2 or cols.shape[1:1 + d] != want \
                or cols.shape[1 + d:1 + 2 * d] != tuple(kernel):
            raise ValueError(f"windows of shape {cols.shape} do not fit spatial size "
                             f"{tuple(spatial)} with kernel {kernel}, stride {stride}, dilation "
                             f"{dilation}: expected (N, *{want}, *{tuple(kernel)}, C)")
        ctx.geometry = (kernel, stride, dilation)
        return wk.fold_windows(cols, spatial, kernel, stride, dilation)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return ctx.xp.unfold_windows(g, *ctx.geometry)


def pad_constant(x: Any, widths: Any, value: float = 0.0) -> Tensor:
    """``x`` with ``widths[i] = (before, after)`` elements of ``value`` on axis ``i``
    (negative widths crop). ``value`` is a constant (no gradient flows to it)."""
    return PadConstant.apply(x, widths=tuple((int(b), int(a)) for b, a in widths),
                             value=float(value))


def unfold_windows(x: Any, kernel: Any, stride: Any, dilation: Any) -> Tensor:
    """The sliding windows (N, *out, *kernel, C) of channels-last ``x`` (N, *spatial, C)."""
    return UnfoldWindows.apply(x, kernel=tuple(kernel), stride=tuple(stride),
                               dilation=tuple(dilation))


def fold_windows(cols: Any, spatial: Any, kernel: Any, stride: Any, dilation: Any) -> Tensor:
    """Windows (N, *out, *kernel, C) summed back into (N, *spatial, C): unfold's adjoint."""
    return FoldWindows.apply(cols, spatial=tuple(spatial), kernel=tuple(kernel),
                             stride=tuple(stride), dilation=tuple(dilation))
