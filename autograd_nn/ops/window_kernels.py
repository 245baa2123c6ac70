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


# ---- correlation: the matrix product of the windows with a weight, without materialising
# every window at once. The windows are copied a few samples at a time into one buffer of
# about CHUNK_BYTES (it stays in cache and is allocated once per call): one big im2col matrix
# per call was 2.5x slower on benchmarks C2 (16 -> 32 channels, batch 64, float32), most of it
# the page faults of a freshly allocated 2.4 MB array on every step.
CHUNK_BYTES = 1 << 18


def _samples_per_chunk(rows_per_sample: int, width: int, itemsize: int) -> int:
    return max(1, CHUNK_BYTES // max(1, rows_per_sample * width * itemsize))


def _window_chunks(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """Yield (first sample, sample count, windows as a (count * positions, k * C) matrix)."""
    win = unfold_windows(xp, kernel, stride, dilation)
    n, d = win.shape[0], len(kernel)
    per = int(np.prod(win.shape[1:1 + d]))
    width = int(np.prod(win.shape[1 + d:]))
    step = _samples_per_chunk(per, width, win.itemsize)
    buf = np.empty((min(step, n) * per, width), dtype=win.dtype)
    for s in range(0, n, step):
        m = min(step, n - s)
        b = buf[:m * per]
        np.copyto(b.reshape((m,) + win.shape[1:]), win[s:s + m])
        yield s * per, m * per, b


def correlate(xp: Any, w2: Any, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """y[n, *p, o] = sum over window offsets k and channels c of
    xp[n, *(p * stride + k * dilation), c] * w2[(k, c), o]: ``xp`` (N, *spatial, C),
    ``w2`` (prod(kernel) * C, O), ``y`` (N, *out, O)."""
    xp, w2 = np.asarray(xp), np.asarray(w2)
    out = window_counts(xp.shape[1:-1], kernel, stride, dilation)
    rows = xp.shape[0] * int(np.prod(out))
    y = np.empty((rows, w2.shape[1]), dtype=np.result_type(xp, w2))
    for r, m, b in _window_chunks(xp, kernel, stride, dilation):
        np.matmul(b, w2, out=y[r:r + m])
    return y.reshape((xp.shape[0],) + out + (w2.shape[1],))


def correlate_weight_grad(xp: Any, g: Any, kernel: tuple, stride: tuple,
                          dilation: tuple) -> np.ndarray:
    """The gradient of `correlate` in ``w2``: (prod(kernel) * C, O) = windows^T @ g."""
    xp, g = np.asarray(xp), np.asarray(g)
    g2 = g.reshape(-1, g.shape[-1])
    gw = np.zeros((int(np.prod(kernel)) * xp.shape[-1], g.shape[-1]),
                  dtype=np.result_type(xp, g))
    for r, m, b in _window_chunks(xp, kernel, stride, dilation):
        gw += b.T @ g2[r:r + m]
    return gw


def correlate_input_grad(g: Any, w2: Any, spatial: tuple, kernel: tuple, stride: tuple,
                         dilation: tuple) -> np.ndarray:
    """The gradient of `correlate` in ``xp`` (N, *spatial, C): for each window offset k,
    ``g @ w2[k].T`` added at the positions that offset reads (a strided slice)."""
    g, w2 = np.asarray(g), np.asarray(w2)
    d = len(kernel)
    n, out, o = g.shape[0], g.shape[1:1 + d], g.shape[-1]
    per = int(np.prod(out))
    c = w2.shape[0] // int(np.prod(kernel))
    wk = w2.reshape(-1, c, o)
    g2 = g.reshape(n * per, o)
    dtype = np.result_type(g, w2)
    gx = np.zeros((n,) + tuple(spatial) + (c,), dtype=dtype)
    step = _samples_per_chunk(per, max(c, o), g.itemsize)
    tmp = np.empty((min(step, n) * per, c), dtype=dtype)
    for s in range(0, n, step):
        m = min(step, n - s)
        t = tmp[:m * per]
        for k, offset in enumerate(np.ndindex(*kernel)):
            np.matmul(g2[s * per:(s + m) * per], wk[k].T, out=t)
            dst = tuple(slice(f * dl, f * dl + st * (q - 1) + 1, st)
                        for f, dl, st, q in zip(offset, dilation, stride, out))
            gx[(slice(s, s + m),) + dst] += t.reshape((m,) + out + (c,))
    return gx
