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

Convolution proper uses three bilinear primitives (`correlate` and its two gradients), in
PyTorch's layout, with the zero padding built in; the derivative of each is made of the other
two, so they too close under differentiation:

- ``correlate(x, w, stride, pads, dilation, bias)``: ``y[n, o, *p] = sum_{c, k}
  xpad[n, c, *(p*stride + k*dilation)] * w[o, c, *k]`` (+ ``bias[o]``), ``x`` (N, C, *spatial)
  zero-padded by ``pads`` into ``xpad``, ``w`` (O, C, *kernel), ``y`` (N, O, *out)
  (im2col a few samples at a time and one matrix product each, see `window_kernels`);
- ``correlate_input_grad(g, w, spatial, ...)``: its gradient in ``x`` (transposed convolution);
- ``correlate_weight_grad(x, g, kernel, ...)``: its gradient in ``w``.

``conv2d`` is one op, not six (the transposes to and from channels last, the pad, the weight's
transpose and reshape, and the product): the layout changes happen inside the kernels, on
copies they make anyway, and the output is C-contiguous for the ops after it.

Arguments are checked by the ``nn.functional`` callers, which know the user's names; the
primitives check only what would otherwise give a wrong answer instead of an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import calls
from ..function import Function, ViewFunction
from ..registry import register
from . import window_kernels as wk
from .elementwise import tanh

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..tensor import Tensor

    Sizes = Sequence[int]  # one int per spatial axis
    Pads = Sequence[tuple[int, int]]  # (before, after) per spatial axis
    from ..types import TensorLike


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


class UnfoldWindows(ViewFunction):
    name = "unfold_windows"

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


def _check_windows(op: str, spatial: tuple, pads: tuple, kernel: tuple, stride: tuple,
                   dilation: tuple, want: tuple | None = None) -> None:
    """The padded ``spatial`` holds at least one window (and ``want`` windows, if given)."""
    padded = tuple(n + b + a for n, (b, a) in zip(spatial, pads))
    got = wk.window_counts(padded, kernel, stride, dilation)
    if min(got, default=1) < 1 or (want is not None and got != tuple(want)):
        raise ValueError(f"{op}: spatial size {tuple(spatial)} padded by {pads} holds {got} "
                         f"windows of kernel {kernel}, stride {stride}, dilation {dilation}"
                         + ("" if want is None else f"; the gradient has {tuple(want)}"))


class Correlate(Function):
    """``correlate(x, w)``, plus a bias ``(O,)`` when given as a third operand."""

    name = "correlate"

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, *bias: Any, stride: tuple = (), pads: tuple = (),
                dilation: tuple = ()) -> Any:
        _check_windows("correlate", x.shape[2:], pads, w.shape[2:], stride, dilation)
        ctx.save_for_backward(x, w)
        ctx.geometry = (stride, pads, dilation)
        return wk.correlate(x, w, stride, pads, dilation, *bias)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, w = ctx.saved_tensors
        nx, nw, *nb = ctx.needs_input_grad
        grads: tuple[Any, ...] = (
            ctx.xp.correlate_input_grad(g, w, x.shape[2:], *ctx.geometry) if nx else None,
            ctx.xp.correlate_weight_grad(x, g, w.shape[2:], *ctx.geometry) if nw else None)
        if nb:  # summed over samples first: one pass over contiguous rows, 4x quicker on C2
            grads += (ctx.xp.sum(ctx.xp.sum(g, axis=0), axis=tuple(range(1, g.ndim - 1)))
                      if nb[0] else None,)
        return grads


class CorrelateInputGrad(Function):
    name = "correlate_input_grad"

    @staticmethod
    def forward(ctx: Any, g: Any, w: Any, spatial: tuple = (), stride: tuple = (),
                pads: tuple = (), dilation: tuple = ()) -> Any:
        _check_windows("correlate_input_grad", spatial, pads, w.shape[2:], stride, dilation,
                       g.shape[2:])
        ctx.save_for_backward(g, w)
        ctx.geometry = (stride, pads, dilation)
        return wk.correlate_input_grad(g, w, spatial, stride, pads, dilation)

    @staticmethod
    def backward(ctx: Any, h: Any) -> Any:
        g, w = ctx.saved_tensors
        ng, nw = ctx.needs_input_grad
        return (ctx.xp.correlate(h, w, *ctx.geometry) if ng else None,
                ctx.xp.correlate_weight_grad(h, g, w.shape[2:], *ctx.geometry) if nw else None)


class CorrelateWeightGrad(Function):
    name = "correlate_weight_grad"

    @staticmethod
    def forward(ctx: Any, x: Any, g: Any, kernel: tuple = (), stride: tuple = (),
                pads: tuple = (), dilation: tuple = ()) -> Any:
        _check_windows("correlate_weight_grad", x.shape[2:], pads, kernel, stride, dilation,
                       g.shape[2:])
        ctx.save_for_backward(x, g)
        ctx.geometry = (stride, pads, dilation)
        return wk.correlate_weight_grad(x, g, kernel, stride, pads, dilation)

    @staticmethod
    def backward(ctx: Any, h: Any) -> Any:
        x, g = ctx.saved_tensors
        nx, ng = ctx.needs_input_grad
        return (ctx.xp.correlate_input_grad(g, h, x.shape[2:], *ctx.geometry) if nx else None,
                ctx.xp.correlate(x, h, *ctx.geometry) if ng else None)


# The backward rules reach each other through ctx.xp (``plain=``): the kernel in a plain pass,
# the differentiable function under create_graph (so every derivative order comes from these
# rules). The gradient checks' geometry: stride 1, padding (1, 0) and (0, 1), dilation 1 (for
# the windowing ops below: kernel 2x2, stride 1, dilation 1), and the results go through tanh
# so that the second derivatives are not all zero.
_G = ((2, 2), (1, 1), (1, 1))
_C = ((1, 1), ((1, 0), (0, 1)), (1, 1))


def _geometry(stride: Sizes, pads: Pads, dilation: Sizes) -> dict[str, tuple]:
    return {"stride": tuple(int(s) for s in stride), "dilation": tuple(int(d) for d in dilation),
            "pads": tuple((int(b), int(a)) for b, a in pads)}


@register(Correlate, plain=wk.correlate, public=False, cases=calls(
    ("(1, 2, 4, 3) * (3, 2, 2, 2) padding ((1, 0), (0, 1))",
     lambda f, x, w: tanh(f(x, w, *_C)), ((1, 2, 4, 3), (3, 2, 2, 2))),
    ("(2, 2, 5) * (3, 2, 2) stride 2 dilation 2, bias",
     lambda f, x, w, b: tanh(f(x, w, (2,), ((1, 1),), (2,), b)), ((2, 2, 5), (3, 2, 2), (3,)))))
def correlate(x: TensorLike, w: TensorLike, stride: Sizes, pads: Pads, dilation: Sizes,
              bias: TensorLike | None = None) -> Tensor:
    """Convolution's product (cross-correlation, PyTorch's layout): ``x`` (N, C, *spatial)
    zero-padded by ``pads`` ((before, after) per spatial axis) times ``w`` (O, C, *kernel),
    (N, O, *out), plus ``bias`` (O,) if given."""
    extra = () if bias is None else (bias,)
    return Correlate.apply(x, w, *extra, **_geometry(stride, pads, dilation))


@register(CorrelateInputGrad, plain=wk.correlate_input_grad, public=False, cases=calls(
    ("(1, 3, 4, 3) * (3, 2, 2, 2) -> (1, 2, 4, 3)",
     lambda f, g, w: tanh(f(g, w, (4, 3), *_C)), ((1, 3, 4, 3), (3, 2, 2, 2))),
    ("(2, 3, 3) * (3, 2, 2) stride 2 -> (2, 2, 6)",
     lambda f, g, w: tanh(f(g, w, (6,), (2,), ((0, 0),), (1,))), ((2, 3, 3), (3, 2, 2)))))
def correlate_input_grad(g: TensorLike, w: TensorLike, spatial: Sizes, stride: Sizes,
                         pads: Pads, dilation: Sizes) -> Tensor:
    """`correlate`'s gradient in its input: (N, O, *out) -> (N, C, *spatial)."""
    return CorrelateInputGrad.apply(g, w, spatial=tuple(int(n) for n in spatial),
                                    **_geometry(stride, pads, dilation))


@register(CorrelateWeightGrad, plain=wk.correlate_weight_grad, public=False, cases=calls(
    ("(1, 2, 4, 3), (1, 3, 4, 3) -> (3, 2, 2, 2)",
     lambda f, x, g: tanh(f(x, g, (2, 2), *_C)), ((1, 2, 4, 3), (1, 3, 4, 3))),))
def correlate_weight_grad(x: TensorLike, g: TensorLike, kernel: Sizes, stride: Sizes,
                          pads: Pads, dilation: Sizes) -> Tensor:
    """`correlate`'s gradient in its weight: (O, C, *kernel)."""
    return CorrelateWeightGrad.apply(x, g, kernel=tuple(int(k) for k in kernel),
                                     **_geometry(stride, pads, dilation))


@register(PadConstant, plain=wk.pad_constant, public=False, cases=calls(
    ("(2, 3, 2) widths ((0, 0), (1, 2), (-1, 1))",
     lambda f, x: f(x, ((0, 0), (1, 2), (-1, 1)), 0.5), ((2, 3, 2),))))
def pad_constant(x: TensorLike, widths: Pads, value: float = 0.0) -> Tensor:
    """``x`` with ``widths[i] = (before, after)`` elements of ``value`` on axis ``i``
    (negative widths crop). ``value`` is a constant (no gradient flows to it)."""
    return PadConstant.apply(x, widths=tuple((int(b), int(a)) for b, a in widths),
                             value=float(value))


@register(UnfoldWindows, plain=wk.unfold_windows, public=False, cases=calls(
    ("(1, 4, 3, 2) kernel 2x2", lambda f, x: tanh(f(x, *_G)), ((1, 4, 3, 2),))))
def unfold_windows(x: TensorLike, kernel: Sizes, stride: Sizes, dilation: Sizes) -> Tensor:
    """The sliding windows (N, *out, *kernel, C) of channels-last ``x`` (N, *spatial, C)."""
    return UnfoldWindows.apply(x, kernel=tuple(kernel), stride=tuple(stride),
                               dilation=tuple(dilation))


@register(FoldWindows, plain=wk.fold_windows, public=False, cases=calls(
    ("(1, 3, 2, 2, 2, 2) -> (1, 4, 3, 2)", lambda f, x: tanh(f(x, (4, 3), *_G)),
     ((1, 3, 2, 2, 2, 2),))))
def fold_windows(cols: TensorLike, spatial: Sizes, kernel: Sizes, stride: Sizes,
                 dilation: Sizes) -> Tensor:
    """Windows (N, *out, *kernel, C) summed back into (N, *spatial, C): unfold's adjoint."""
    return FoldWindows.apply(cols, spatial=tuple(spatial), kernel=tuple(kernel),
                             stride=tuple(stride), dilation=tuple(dilation))
