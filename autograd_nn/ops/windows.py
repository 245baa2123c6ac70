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

Convolution proper uses three bilinear primitives (`correlate` and its two gradients); the
derivative of each is made of the other two, so they too close under differentiation:

- ``correlate(xp, w2)``: ``y[n, *p, o] = sum_{k, c} xp[n, *(p*stride + k*dilation), c]
  * w2[(k, c), o]``, i.e. the windows of ``xp`` times the weight matrix ``w2``
  (prod(kernel) * C, O), computed a few samples at a time (see `window_kernels`);
- ``correlate_input_grad(g, w2, spatial)``: its gradient in ``xp`` (transposed convolution);
- ``correlate_weight_grad(xp, g)``: its gradient in ``w2``.

Arguments are checked by the ``nn.functional`` callers, which know the user's names; the
primitives check only what would otherwise give a wrong answer instead of an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import calls
from ..function import Function
from ..registry import register
from . import window_kernels as wk
from .elementwise import tanh

if TYPE_CHECKING:
    from ..tensor import Tensor


class PadConstant(Function):
    name = "pad_constant"

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


class Correlate(Function):
    """``correlate(xp, w2)``, plus a bias ``(O,)`` when given as a third operand (added in
    place: one output array fewer per step)."""

    name = "correlate"

    @staticmethod
    def forward(ctx: Any, xp: Any, w2: Any, *bias: Any, kernel: tuple = (), stride: tuple = (),
                dilation: tuple = ()) -> Any:
        ctx.save_for_backward(xp, w2)
        ctx.geometry = (kernel, stride, dilation)
        y = wk.correlate(xp, w2, kernel, stride, dilation)
        if bias:
            y += bias[0]
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp, w2 = ctx.saved_tensors
        nx, nw, *nb = ctx.needs_input_grad
        if type(g) is np.ndarray:  # one contiguous copy serves both products (not two)
            g = np.ascontiguousarray(g)
        spatial = xp.shape[1:-1]
        grads: tuple[Any, ...] = (
            ctx.xp.correlate_input_grad(g, w2, spatial, *ctx.geometry) if nx else None,
            ctx.xp.correlate_weight_grad(xp, g, *ctx.geometry) if nw else None)
        if nb:
            grads += (ctx.xp.sum(g, axis=tuple(range(g.ndim - 1))) if nb[0] else None,)
        return grads


class CorrelateInputGrad(Function):
    name = "correlate_input_grad"

    @staticmethod
    def forward(ctx: Any, g: Any, w2: Any, spatial: tuple = (), kernel: tuple = (),
                stride: tuple = (), dilation: tuple = ()) -> Any:
        ctx.save_for_backward(g, w2)
        ctx.geometry = (kernel, stride, dilation)
        return wk.correlate_input_grad(g, w2, spatial, kernel, stride, dilation)

    @staticmethod
    def backward(ctx: Any, h: Any) -> Any:
        g, w2 = ctx.saved_tensors
        ng, nw = ctx.needs_input_grad
        return (ctx.xp.correlate(h, w2, *ctx.geometry) if ng else None,
                ctx.xp.correlate_weight_grad(h, g, *ctx.geometry) if nw else None)


class CorrelateWeightGrad(Function):
    name = "correlate_weight_grad"

    @staticmethod
    def forward(ctx: Any, xp: Any, g: Any, kernel: tuple = (), stride: tuple = (),
                dilation: tuple = ()) -> Any:
        ctx.save_for_backward(xp, g)
        ctx.geometry = (kernel, stride, dilation)
        return wk.correlate_weight_grad(xp, g, kernel, stride, dilation)

    @staticmethod
    def backward(ctx: Any, h: Any) -> Any:
        xp, g = ctx.saved_tensors
        nx, ng = ctx.needs_input_grad
        spatial = xp.shape[1:-1]
        return (ctx.xp.correlate_input_grad(g, h, spatial, *ctx.geometry) if nx else None,
                ctx.xp.correlate(xp, h, *ctx.geometry) if ng else None)


# The backward rules reach each other through ctx.xp (``plain=``): the kernel in a plain pass,
# the differentiable function under create_graph (so every derivative order comes from these
# rules). The gradient checks' geometry: kernel 2x2, stride 1, dilation 1, and the results go
# through tanh so that the second derivatives are not all zero.
_G = ((2, 2), (1, 1), (1, 1))


@register(Correlate, plain=wk.correlate, public=False, cases=calls(
    ("(1, 4, 3, 2) x (8, 3) kernel 2x2", lambda f, x, w: tanh(f(x, w, *_G)),
     ((1, 4, 3, 2), (8, 3)))))
def correlate(xp: Any, w2: Any, kernel: Any, stride: Any, dilation: Any,
              bias: Any = None) -> Tensor:
    """Windows of channels-last ``xp`` (N, *spatial, C) times ``w2`` (prod(kernel) * C, O),
    plus ``bias`` (O,) if given."""
    extra = () if bias is None else (bias,)
    return Correlate.apply(xp, w2, *extra, kernel=tuple(kernel), stride=tuple(stride),
                           dilation=tuple(dilation))


@register(CorrelateInputGrad, plain=wk.correlate_input_grad, public=False, cases=calls(
    ("(1, 3, 2, 3) x (8, 3) -> (1, 4, 3, 2)", lambda f, y, w: tanh(f(y, w, (4, 3), *_G)),
     ((1, 3, 2, 3), (8, 3)))))
def correlate_input_grad(g: Any, w2: Any, spatial: Any, kernel: Any, stride: Any,
                         dilation: Any) -> Tensor:
    """`correlate`'s gradient in its input: (N, *out, O) -> (N, *spatial, C)."""
    return CorrelateInputGrad.apply(g, w2, spatial=tuple(spatial), kernel=tuple(kernel),
                                    stride=tuple(stride), dilation=tuple(dilation))


@register(CorrelateWeightGrad, plain=wk.correlate_weight_grad, public=False, cases=calls(
    ("(1, 4, 3, 2), (1, 3, 2, 3) -> (8, 3)", lambda f, x, y: tanh(f(x, y, *_G)),
     ((1, 4, 3, 2), (1, 3, 2, 3)))))
def correlate_weight_grad(xp: Any, g: Any, kernel: Any, stride: Any, dilation: Any) -> Tensor:
    """`correlate`'s gradient in its weight: (prod(kernel) * C, O)."""
    return CorrelateWeightGrad.apply(xp, g, kernel=tuple(kernel), stride=tuple(stride),
                                     dilation=tuple(dilation))


@register(PadConstant, plain=wk.pad_constant, public=False, cases=calls(
    ("(2, 3, 2) widths ((0, 0), (1, 2), (-1, 1))",
     lambda f, x: f(x, ((0, 0), (1, 2), (-1, 1)), 0.5), ((2, 3, 2),))))
def pad_constant(x: Any, widths: Any, value: float = 0.0) -> Tensor:
    """``x`` with ``widths[i] = (before, after)`` elements of ``value`` on axis ``i``
    (negative widths crop). ``value`` is a constant (no gradient flows to it)."""
    return PadConstant.apply(x, widths=tuple((int(b), int(a)) for b, a in widths),
                             value=float(value))


@register(UnfoldWindows, plain=wk.unfold_windows, public=False, cases=calls(
    ("(1, 4, 3, 2) kernel 2x2", lambda f, x: tanh(f(x, *_G)), ((1, 4, 3, 2),))))
def unfold_windows(x: Any, kernel: Any, stride: Any, dilation: Any) -> Tensor:
    """The sliding windows (N, *out, *kernel, C) of channels-last ``x`` (N, *spatial, C)."""
    return UnfoldWindows.apply(x, kernel=tuple(kernel), stride=tuple(stride),
                               dilation=tuple(dilation))


@register(FoldWindows, plain=wk.fold_windows, public=False, cases=calls(
    ("(1, 3, 2, 2, 2, 2) -> (1, 4, 3, 2)", lambda f, x: tanh(f(x, (4, 3), *_G)),
     ((1, 3, 2, 2, 2, 2),))))
def fold_windows(cols: Any, spatial: Any, kernel: Any, stride: Any, dilation: Any) -> Tensor:
    """Windows (N, *out, *kernel, C) summed back into (N, *spatial, C): unfold's adjoint."""
    return FoldWindows.apply(cols, spatial=tuple(spatial), kernel=tuple(kernel),
                             stride=tuple(stride), dilation=tuple(dilation))
