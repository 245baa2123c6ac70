"""Convolution, padding and patch extraction, with `torch.nn.functional`'s names, argument
names and layouts: input ``(N, C, *spatial)`` (or unbatched ``(C, *spatial)``), weight
``(C_out, C_in / groups, *kernel)`` for convolution and ``(C_in, C_out / groups, *kernel)``
for transposed convolution.

Composites of three linear primitives (`autograd_nn.ops.windows`) and one matrix product:
the input is moved to channels last (a view), padded (one copy), cut into windows (a strided
view), copied once into a ``(N * out_positions, kernel_size * C_in)`` matrix, and multiplied
by the weight. The gradients are the primitives' adjoints (fold for unfold, crop for pad) and
matmul's, so second derivatives come for free. Transposed convolution is the adjoint:
matrix product first, then fold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..domains import calls
from ..ops import getitem, matmul, reshape, tanh, transpose
from ..ops.window_kernels import window_counts
from ..ops.windows import (
    correlate,
    correlate_input_grad,
    fold_windows,
    pad_constant,
    unfold_windows,
)
from ..registry import register
from ..tensor import Tensor
from .window_args import (
    as_tensor,
    check_output,
    check_rank,
    conv_padding,
    is_int,
    ntuple,
    prod,
    to_channels_first,
    to_channels_last,
)

if TYPE_CHECKING:
    from ..types import IntOrTuple, PaddingLike, TensorLike

PAD_MODES = ("constant", "reflect", "replicate", "circular")


# ---- padding ------------------------------------------------------------------------------------
def pad(input: TensorLike, pad: tuple[int, ...] | list[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` axes: ``pad = (left_last, right_last, left_2nd_last,
    right_2nd_last, ...)`` as PyTorch. Negative amounts crop. ``mode``: 'constant' (with
    ``value``, default 0), 'reflect' (mirror without repeating the edge), 'replicate' (repeat
    the edge), 'circular' (wrap around)."""
    x = input if isinstance(input, Tensor) else Tensor._from_op(np.asarray(input), None)
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or not all(map(is_int, pad)):
        raise ValueError(f"pad: pad must be a sequence of an even number of ints, got {pad!r}")
    k = len(pad) // 2
    if k > x.ndim:
        raise ValueError(f"pad: {len(pad)} values pad {k} axes but the input has shape "
                         f"{x.shape}")
    if mode not in PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; use one of {PAD_MODES}")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: value={value!r} is only used with mode='constant'")
    widths = [(0, 0)] * (x.ndim - k) + [(int(pad[2 * i]), int(pad[2 * i + 1]))
                                        for i in reversed(range(k))]
    if mode == "constant":
        return pad_constant(x, widths, 0.0 if value is None else value)
    for axis, (b, a) in enumerate(widths):
        if (b, a) != (0, 0):
            x = getitem(x, (slice(None),) * axis + (_pad_index(mode, x.shape[axis], b, a),))
    return x


def _pad_index(mode: str, n: int, before: int, after: int) -> np.ndarray:
    """Source positions of the padded axis (non-constant modes), checked against its size."""
    limit = n - 1 if mode == "reflect" else n
    if max(before, after) > limit or n + before + after < 0:
        raise ValueError(f"pad: mode={mode!r} pads at most {limit} on an axis of size {n}, "
                         f"got ({before}, {after})")
    p = np.arange(-before, n + after)
    if mode == "reflect":
        return np.abs(np.where(p >= n, 2 * (n - 1) - p, p))
    if mode == "replicate":
        return np.clip(p, 0, n - 1)
    return p % n


# ---- patches ------------------------------------------------------------------------------------
def unfold(input: TensorLike, kernel_size: IntOrTuple, dilation: IntOrTuple = 1,
           padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> Tensor:
    """Sliding patches as PyTorch's ``F.unfold``: (N, C, H, W) -> (N, C * kH * kW, L), each
    column one patch, rows ordered (channel, kernel row, kernel column)."""
    x = as_tensor("unfold", input)
    if x.ndim != 4:
        raise ValueError(f"unfold: expected input of shape (N, C, H, W), got {x.shape}")
    kernel, stride, dilation, pads = _geometry("unfold", kernel_size, stride, dilation,
                                               padding, 2)
    cols = _windows("unfold", to_channels_last(x, 2), kernel, stride, dilation, pads)
    n, oh, ow, kh, kw, c = cols.shape
    return reshape(transpose(cols, (0, 5, 3, 4, 1, 2)), (n, c * kh * kw, oh * ow))


def fold(input: TensorLike, output_size: IntOrTuple, kernel_size: IntOrTuple,
         dilation: IntOrTuple = 1, padding: IntOrTuple = 0, stride: IntOrTuple = 1) -> Tensor:
    """PyTorch's ``F.fold``, the adjoint of `unfold`: (N, C * kH * kW, L) patches summed into
    (N, C, H, W) with ``(H, W) = output_size``."""
    x = as_tensor("fold", input)
    size = ntuple("fold", "output_size", output_size, 2)
    kernel, stride, dilation, pads = _geometry("fold", kernel_size, stride, dilation,
                                               padding, 2)
    padded = tuple(n + b + a for n, (b, a) in zip(size, pads))
    out = window_counts(padded, kernel, stride, dilation)
    k = prod(kernel)
    if x.ndim != 3 or x.shape[1] % k or x.shape[2] != prod(out):
        raise ValueError(f"fold: input of shape {x.shape} does not hold (N, C * {k}, "
                         f"{prod(out)}) patches for output_size {size}, kernel {kernel}")
    c = x.shape[1] // k
    cols = transpose(reshape(x, (x.shape[0], c, *kernel, *out)), (0, 4, 5, 2, 3, 1))
    full = fold_windows(cols, padded, kernel, stride, dilation)
    return to_channels_first(pad_constant(full, ((0, 0),) + _neg(pads) + ((0, 0),)), 2)


def _neg(pads: tuple) -> tuple:
    return tuple((-b, -a) for b, a in pads)


def _geometry(op: str, kernel_size: IntOrTuple, stride: IntOrTuple, dilation: IntOrTuple,
              padding: PaddingLike, d: int
              ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...],
                         tuple[tuple[int, int], ...]]:
    kernel = ntuple(op, "kernel_size", kernel_size, d)
    stride = ntuple(op, "stride", stride, d)
    dilation = ntuple(op, "dilation", dilation, d)
    return kernel, stride, dilation, conv_padding(op, padding, d, kernel, stride, dilation)


def _padded(op: str, xt: Tensor, kernel: tuple, stride: tuple, dilation: tuple,
            pads: tuple, value: float = 0.0) -> Tensor:
    """Channels-last ``xt`` padded by ``pads``, checked to hold at least one window."""
    d = len(kernel)
    spatial = tuple(n + b + a for n, (b, a) in zip(xt.shape[1:1 + d], pads))
    check_output(op, xt.shape[1:1 + d], window_counts(spatial, kernel, stride, dilation),
                 f"kernel {kernel}, stride {stride}, dilation {dilation}, padding {pads}")
    if any(p != (0, 0) for p in pads):
        xt = pad_constant(xt, ((0, 0),) + tuple(pads) + ((0, 0),), value)
    return xt


def _windows(op: str, xt: Tensor, kernel: tuple, stride: tuple, dilation: tuple,
             pads: tuple, value: float = 0.0) -> Tensor:
    """Windows (N, *out, *kernel, C) of channels-last ``xt`` padded by ``pads``."""
    return unfold_windows(_padded(op, xt, kernel, stride, dilation, pads, value), kernel,
                          stride, dilation)


# ---- convolution --------------------------------------------------------------------------------
@register(public=False, cases=calls(
    ("(1, 2, 5) * (3, 2, 2) stride 2 padding 1",
     lambda f, x, w: tanh(f(x, w, stride=2, padding=1)), ((1, 2, 5), (3, 2, 2)))))
def conv1d(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None,
           stride: IntOrTuple = 1, padding: PaddingLike = 0, dilation: IntOrTuple = 1,
           groups: int = 1) -> Tensor:
    """1-d convolution (cross-correlation, as PyTorch): input (N, C_in, L), weight
    (C_out, C_in / groups, k)."""
    return _conv("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


@register(public=False, cases=calls(
    ("(1, 2, 4, 3) * (2, 2, 2, 2) padding 1 dilation (1, 2)",
     lambda f, x, w: tanh(f(x, w, padding=1, dilation=(1, 2))), ((1, 2, 4, 3), (2, 2, 2, 2))),
    ("(1, 4, 3, 3) * (2, 2, 2, 2) groups 2 stride 2",
     lambda f, x, w: tanh(f(x, w, stride=2, groups=2)), ((1, 4, 3, 3), (2, 2, 2, 2)))))
def conv2d(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None,
           stride: IntOrTuple = 1, padding: PaddingLike = 0, dilation: IntOrTuple = 1,
           groups: int = 1) -> Tensor:
    """2-d convolution (cross-correlation, as PyTorch): input (N, C_in, H, W), weight
    (C_out, C_in / groups, kH, kW), bias (C_out,). ``stride``, ``dilation``: int or pair;
    ``padding``: int, pair, 'valid' or 'same' (stride 1)."""
    return _conv("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None,
           stride: IntOrTuple = 1, padding: PaddingLike = 0, dilation: IntOrTuple = 1,
           groups: int = 1) -> Tensor:
    """3-d convolution: input (N, C_in, D, H, W), weight (C_out, C_in / groups, kD, kH, kW)."""
    return _conv("conv3d", input, weight, bias, stride, padding, dilation, groups, 3)


def _check_weight(op: str, x: Tensor, w: Tensor, bias: TensorLike | None, groups: int, d: int,
                  transposed: bool) -> Tensor | None:
    if w.ndim != d + 2:
        raise ValueError(f"{op}: weight must have {d + 2} axes, got shape {w.shape}")
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    c_in = x.shape[1]
    if transposed:
        ok = w.shape[0] == c_in and c_in % groups == 0
        want = f"(C_in={c_in}, C_out/groups, *kernel) with C_in divisible by groups={groups}"
    else:
        ok = w.shape[1] * groups == c_in and w.shape[0] % groups == 0
        want = (f"(C_out, C_in/groups={c_in / groups:g}, *kernel) with C_out divisible by "
                f"groups={groups}")
    if not ok:
        raise ValueError(f"{op}: weight of shape {w.shape} does not fit input of shape "
                         f"{x.shape}: expected {want}")
    if x.dtype != w.dtype:
        raise TypeError(f"{op}: input dtype {x.dtype} and weight dtype {w.dtype} differ")
    if bias is None:
        return None
    b = as_tensor(op, bias, "bias")
    c_out = w.shape[1] * groups if transposed else w.shape[0]
    if b.shape != (c_out,):
        raise ValueError(f"{op}: bias must have shape ({c_out},), got {b.shape}")
    return b


def _conv(op: str, input: TensorLike, weight: TensorLike, bias: TensorLike | None,
          stride: IntOrTuple, padding: PaddingLike, dilation: IntOrTuple, groups: int,
          d: int) -> Tensor:
    x, w = as_tensor(op, input), as_tensor(op, weight, "weight")
    batched = check_rank(op, x, d)
    x = x if batched else reshape(x, (1, *x.shape))
    b = _check_weight(op, x, w, bias, groups, d, transposed=False)
    kernel, stride, dilation, pads = _geometry(op, w.shape[2:], stride, dilation, padding, d)
    c_out = w.shape[0]
    if groups == 1:  # one op: padding, windows and the matrix product happen inside
        padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
        check_output(op, x.shape[2:], window_counts(padded, kernel, stride, dilation),
                     f"kernel {kernel}, stride {stride}, dilation {dilation}, padding {pads}")
        y = correlate(x, w, stride, pads, dilation, b)
        return y if batched else reshape(y, y.shape[1:])
    # groups: one product per group, batched: (G, rows, kernel * C_in/G) @ (G, ., C_out/G)
    cols = _windows(op, to_channels_last(x, d), kernel, stride, dilation, pads)
    n, out = cols.shape[0], cols.shape[1:1 + d]
    rows, cg = n * prod(out), w.shape[1]
    g_cols = reshape(cols, (rows, prod(kernel), groups, cg))
    g_cols = reshape(transpose(g_cols, (2, 0, 1, 3)), (groups, rows, -1))
    g_w = reshape(w, (groups, c_out // groups, cg, *kernel))
    g_w = reshape(transpose(g_w, (0, *range(3, d + 3), 2, 1)), (groups, -1, c_out // groups))
    y = reshape(transpose(matmul(g_cols, g_w), (1, 0, 2)), (rows, c_out))
    if b is not None:
        y = y + b
    y = to_channels_first(reshape(y, (n, *out, c_out)), d)
    return y if batched else reshape(y, y.shape[1:])


def conv_transpose1d(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """1-d transposed convolution: input (N, C_in, L), weight (C_in, C_out / groups, k)."""
    return _conv_transpose("conv_transpose1d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation, 1)


@register(public=False, cases=calls(
    ("(1, 2, 2, 2) * (2, 2, 2, 2) stride 2 output_padding 1",
     lambda f, x, w: tanh(f(x, w, stride=2, output_padding=1)), ((1, 2, 2, 2), (2, 2, 2, 2)))))
def conv_transpose2d(input: TensorLike, weight: TensorLike, bias: TensorLike | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Tensor:
    """2-d transposed convolution (the adjoint of `conv2d` in its input): input
    (N, C_in, H, W), weight (C_in, C_out / groups, kH, kW); output size per axis
    ``(H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``."""
    return _conv_transpose("conv_transpose2d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation, 2)


def _conv_transpose(op: str, input: TensorLike, weight: TensorLike, bias: TensorLike | None,
                    stride: IntOrTuple, padding: IntOrTuple, output_padding: IntOrTuple,
                    groups: int, dilation: IntOrTuple, d: int) -> Tensor:
    x, w = as_tensor(op, input), as_tensor(op, weight, "weight")
    batched = check_rank(op, x, d)
    x = x if batched else reshape(x, (1, *x.shape))
    b = _check_weight(op, x, w, bias, groups, d, transposed=True)
    kernel = w.shape[2:]
    stride = ntuple(op, "stride", stride, d)
    dilation = ntuple(op, "dilation", dilation, d)
    pads = ntuple(op, "padding", padding, d, minimum=0)
    extra = ntuple(op, "output_padding", output_padding, d, minimum=0)
    if any(e >= max(s, dl) for e, s, dl in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than stride {stride} "
                         f"or dilation {dilation} on every axis")
    spatial = x.shape[2:]
    full = tuple((n - 1) * s + dl * (k - 1) + 1
                 for n, s, dl, k in zip(spatial, stride, dilation, kernel))
    check_output(op, spatial, tuple(f - 2 * p + e for f, p, e in zip(full, pads, extra)),
                 f"padding {pads}")
    n, c_in = x.shape[0], x.shape[1]
    rows = n * prod(spatial)
    og = w.shape[1]
    c_out = og * groups
    if groups == 1:  # the input gradient of the conv whose weight (C_in, C_out, *kernel) is w
        size = tuple(f - 2 * p + e for f, p, e in zip(full, pads, extra))
        out = correlate_input_grad(x, w, size, stride,
                                   tuple((p, p - e) for p, e in zip(pads, extra)), dilation)
        if b is not None:
            out = out + reshape(b, (c_out,) + (1,) * d)
        return out if batched else reshape(out, out.shape[1:])
    # groups: one product per group, batched, then the windows folded back
    x2 = reshape(to_channels_last(x, d), (rows, c_in))
    g_x = transpose(reshape(x2, (rows, groups, c_in // groups)), (1, 0, 2))
    g_w = reshape(transpose(w, (0, *range(2, d + 2), 1)), (groups, c_in // groups, -1))
    y = reshape(matmul(g_x, g_w), (groups, rows, prod(kernel), og))
    y = transpose(y, (1, 2, 0, 3))
    cols = reshape(y, (n, *spatial, *kernel, c_out))
    out = fold_windows(cols, full, kernel, stride, dilation)
    out = pad_constant(out, ((0, 0),) + tuple((-p, e - p) for p, e in zip(pads, extra))
                       + ((0, 0),))
    if b is not None:
        out = out + b
    out = to_channels_first(out, d)
    return out if batched else reshape(out, out.shape[1:])


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "fold", "pad",
           "unfold"]
