"""Pooling with `torch.nn.functional`'s names and arguments: ``max_pool1d/2d``,
``avg_pool1d/2d``, ``adaptive_avg_pool1d/2d``. Input ``(N, C, *spatial)`` or unbatched.

Composites of the window primitives: pad (with -inf for max, 0 for average), cut into
windows, reduce over the window axes. Output sizes follow PyTorch, ``ceil_mode`` included
(a last window that would start in the right padding is dropped).

Ties: where several elements of a window share its maximum, max pooling gives each an equal
share of the gradient (the convention of `autograd_nn.max`). PyTorch gives all of it to the
first; the two agree wherever the maximum is unique.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from ..domains import calls, distinct
from ..ops import amax, matmul, reshape, tanh
from ..ops import sum as tensor_sum
from ..registry import register
from ..tensor import Tensor
from .conv_functional import _windows
from .window_args import (
    as_tensor,
    check_output,
    check_rank,
    is_int,
    ntuple,
    to_channels_first,
    to_channels_last,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..types import DTypeLike, IntOrTuple, TensorLike

#: adaptive pooling's ``output_size``: an int (every axis) or one per axis; None keeps an axis
AdaptiveSize: TypeAlias = "int | Sequence[int | None] | None"


def _pool_size(n: int, k: int, s: int, p: int, dl: int, ceil_mode: bool) -> int:
    span = n + 2 * p - dl * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_geometry(op: str, x: Tensor, kernel_size: IntOrTuple, stride: IntOrTuple | None,
                   padding: IntOrTuple, dilation: IntOrTuple, ceil_mode: bool, d: int
                   ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...],
                              tuple[tuple[int, int], ...], tuple[int, ...]]:
    kernel = ntuple(op, "kernel_size", kernel_size, d)
    stride = kernel if stride is None or stride == () or stride == [] else \
        ntuple(op, "stride", stride, d)
    pads = ntuple(op, "padding", padding, d, minimum=0)
    dilation = ntuple(op, "dilation", dilation, d)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{op}: padding {pads} must be at most half of kernel_size {kernel}")
    spatial = x.shape[-d:]
    out = tuple(_pool_size(n, k, s, p, dl, bool(ceil_mode))
                for n, k, s, p, dl in zip(spatial, kernel, stride, pads, dilation))
    check_output(op, spatial, out, f"kernel_size {kernel}, stride {stride}, padding {pads}")
    # right padding: p, plus what the last (ceil_mode) window needs beyond it
    right = tuple(max(p, (o - 1) * s + dl * (k - 1) + 1 - n - p)
                  for n, k, s, p, dl, o in zip(spatial, kernel, stride, pads, dilation, out))
    return kernel, stride, dilation, tuple(zip(pads, right)), out


def _batched(op: str, input: TensorLike, d: int) -> tuple[Tensor, bool]:
    x = as_tensor(op, input)
    batched = check_rank(op, x, d)
    return (x if batched else reshape(x, (1, *x.shape))), batched


def _finish(y: Tensor, d: int, batched: bool) -> Tensor:
    y = to_channels_first(y, d)
    return y if batched else reshape(y, y.shape[1:])


def _max_pool(op: str, input: TensorLike, kernel_size: IntOrTuple, stride: IntOrTuple | None,
              padding: IntOrTuple, dilation: IntOrTuple, ceil_mode: bool, return_indices: bool,
              d: int) -> Tensor:
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices=True is not supported")
    x, batched = _batched(op, input, d)
    kernel, stride, dilation, pads, out = _pool_geometry(op, x, kernel_size, stride, padding,
                                                         dilation, ceil_mode, d)
    windows = _windows(op, to_channels_last(x, d), kernel, stride, dilation, pads,
                       value=-np.inf)
    return _finish(amax(windows, axis=tuple(range(d + 1, 2 * d + 1))), d, batched)


def max_pool1d(input: TensorLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """Maximum over each window of (N, C, L)."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 1)


@register(public=False, cases=calls(
    ("(1, 2, 4, 4) kernel 2 (values without ties)", lambda f, x: f(x, 2) ** 2, ((1, 2, 4, 4),)),
    domain=distinct()))
def max_pool2d(input: TensorLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """Maximum over each window of (N, C, H, W); ``stride`` defaults to ``kernel_size``,
    padding (at most half the kernel) is -inf. Tied maxima share the gradient equally."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 2)


def _window_counts_1d(n: int, k: int, s: int, pads: tuple, out: int,
                      include_pad: bool) -> np.ndarray:
    """Per window, how many of its positions PyTorch counts in the divisor (one axis)."""
    start = np.arange(out) * s - pads[0]
    if include_pad:  # positions inside the symmetrically padded input
        return np.minimum(start + k, n + pads[0]) - start
    return np.minimum(start + k, n) - np.maximum(start, 0)


def _avg_pool(op: str, input: TensorLike, kernel_size: IntOrTuple, stride: IntOrTuple | None,
              padding: IntOrTuple, ceil_mode: bool, count_include_pad: bool,
              divisor_override: int | None, d: int) -> Tensor:
    x, batched = _batched(op, input, d)
    kernel, stride, dilation, pads, out = _pool_geometry(op, x, kernel_size, stride, padding,
                                                         1, ceil_mode, d)
    windows = _windows(op, to_channels_last(x, d), kernel, stride, dilation, pads)
    total = tensor_sum(windows, axis=tuple(range(d + 1, 2 * d + 1)))
    if divisor_override is not None:
        if not is_int(divisor_override) or divisor_override <= 0:
            raise ValueError(f"{op}: divisor_override must be a positive int, got "
                             f"{divisor_override!r}")
        return _finish(total / divisor_override, d, batched)
    divisor = np.ones((), dtype=x.dtype)
    for n, k, s, p, o in zip(x.shape[2:], kernel, stride, pads, out):
        counts = _window_counts_1d(n, k, s, p, o, bool(count_include_pad))
        divisor = np.multiply.outer(divisor, counts.astype(x.dtype))
    return _finish(total / divisor[..., None], d, batched)


def avg_pool1d(input: TensorLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each window of (N, C, L)."""
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None, 1)


@register(public=False, cases=calls(
    ("(1, 2, 4, 3) kernel 3 stride 2 padding 1 ceil_mode",
     lambda f, x: tanh(f(x, 3, 2, 1, ceil_mode=True)), ((1, 2, 4, 3),))))
def avg_pool2d(input: TensorLike, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each window of (N, C, H, W). Zero padding; ``count_include_pad`` decides
    whether padded positions count in the divisor (PyTorch's rule, ceil_mode included)."""
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override, 2)


def _adaptive_matrix(n: int, m: int, dtype: DTypeLike) -> np.ndarray:
    """(m, n): row i averages positions floor(i n / m) .. ceil((i + 1) n / m) - 1."""
    a = np.zeros((m, n), dtype=dtype)
    for i in range(m):
        lo, hi = (i * n) // m, -((-(i + 1) * n) // m)
        a[i, lo:hi] = 1.0 / (hi - lo)
    return a


def _adaptive(op: str, input: TensorLike, output_size: AdaptiveSize, d: int) -> Tensor:
    x = as_tensor(op, input)
    check_rank(op, x, d)
    given = (output_size,) * d if is_int(output_size) or output_size is None \
        else tuple(output_size)
    if len(given) != d or not all(s is None or (is_int(s) and s >= 1) for s in given):
        raise ValueError(f"{op}: output_size must be a positive int or {d} of them (None "
                         f"keeps an axis), got {output_size!r}")
    spatial = x.shape[-d:]
    sizes = tuple(n if s is None else int(s) for n, s in zip(spatial, given))
    y = x
    if d == 2:  # rows: A_h @ y averages the second-last axis
        y = matmul(_adaptive_matrix(spatial[0], sizes[0], x.dtype), y)
    return matmul(y, _adaptive_matrix(spatial[-1], sizes[-1], x.dtype).T)


def adaptive_avg_pool1d(input: TensorLike, output_size: AdaptiveSize) -> Tensor:
    """Mean over ``output_size`` near-equal windows of (N, C, L) (PyTorch's window bounds)."""
    return _adaptive("adaptive_avg_pool1d", input, output_size, 1)


@register(public=False, cases=calls(
    ("(1, 2, 5, 3) -> (2, 2)", lambda f, x: tanh(f(x, 2)), ((1, 2, 5, 3),))))
def adaptive_avg_pool2d(input: TensorLike, output_size: AdaptiveSize) -> Tensor:
    """Mean over near-equal windows giving (N, C, *output_size); None keeps an axis."""
    return _adaptive("adaptive_avg_pool2d", input, output_size, 2)


__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d",
           "max_pool1d", "max_pool2d"]
