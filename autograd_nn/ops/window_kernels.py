"""numpy kernels of the sliding-window primitives (no autograd_nn import): constant padding,
window extraction (im2col as a strided view) and its adjoint, window folding (col2im).

Layout: channels last. An operand is ``(N, *spatial, C)``; the windows of a d-dimensional
kernel are ``(N, *out, *kernel, C)``, where ``out[i]`` counts the window positions along
spatial axis ``i``. Channels last makes the last two axes of every window ``(kernel[-1], C)``
contiguous in memory, so copying the windows into a matrix runs over long rows (the
channels-first layout copies runs of ``out[-1]`` elements: about 4x slower, measured on the
16 -> 32 channel layer of ``benchmarks`` C2).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided


def window_counts(spatial: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """Window positions along each spatial axis: ``(n - dilation*(k-1) - 1) // stride + 1``."""
    return tuple((n - d * (k - 1) - 1) // s + 1
                 for n, k, s, d in zip(spatial, kernel, stride, dilation))


def pad_constant(x: Any, widths: tuple, value: float = 0.0) -> np.ndarray:
    """``x`` with ``widths[i] = (before, after)`` elements of ``value`` added on axis ``i``; a
    negative width removes elements instead (so ``pad(pad(x, w), -w)`` is ``x``)."""
    x = np.asarray(x)
    shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
    src, dst = [], []
    for n, (b, a) in zip(x.shape, widths):
        start, stop = max(-b, 0), n - max(-a, 0)
        length = max(stop - start, 0)
        src.append(slice(start, start + length))
        dst.append(slice(max(b, 0), max(b, 0) + length))
    out = np.empty(shape, dtype=x.dtype)
    if value == 0:
        out.fill(0)
    else:
        out.fill(value)
    out[tuple(dst)] = x[tuple(src)]
    return out


def unfold_windows(x: Any, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """The windows of ``x`` (N, *spatial, C) as a read-only strided view
    (N, *out, *kernel, C) of a C-contiguous copy of ``x`` (no copy when it already is one)."""
    x = np.ascontiguousarray(x)
    d = len(kernel)
    out = window_counts(x.shape[1:1 + d], kernel, stride, dilation)
    st = x.strides
    strides = ((st[0],) + tuple(st[1 + i] * stride[i] for i in range(d))
               + tuple(st[1 + i] * dilation[i] for i in range(d)) + (st[-1],))
    shape = (x.shape[0],) + out + tuple(kernel) + (x.shape[-1],)
    return as_strided(x, shape, strides, writeable=False)


def fold_windows(cols: Any, spatial: tuple, kernel: tuple, stride: tuple,
                 dilation: tuple) -> np.ndarray:
    """The adjoint of `unfold_windows`: windows (N, *out, *kernel, C) added back into an
    array (N, *spatial, C); an element in several windows receives the sum."""
    cols = np.asarray(cols)
    d = len(kernel)
    out = cols.shape[1:1 + d]
    res = np.zeros((cols.shape[0],) + tuple(spatial) + (cols.shape[-1],), dtype=cols.dtype)
    lead = (slice(None),) * (1 + d)
    for offset in np.ndindex(*kernel):
        dst = tuple(slice(o * dl, o * dl + s * (n - 1) + 1, s)
                    for o, dl, s, n in zip(offset, dilation, stride, out))
        res[(slice(None),) + dst] += cols[lead + offset]
    return res
