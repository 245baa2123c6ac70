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

import math
import threading
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided


def window_counts(spatial: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """Window positions along each spatial axis: ``(n - dilation*(k-1) - 1) // stride + 1``."""
    return tuple((n - d * (k - 1) - 1) // s + 1
                 for n, k, s, d in zip(spatial, kernel, stride, dilation))


def pad_slices(shape: tuple, widths: tuple) -> tuple[tuple, tuple, tuple]:
    """The padded shape, and the source and destination slices that copy an array of
    ``shape`` into it, for ``widths[i] = (before, after)`` (negative widths crop)."""
    out, src, dst = [], [], []
    for n, (b, a) in zip(shape, widths):
        start, stop = max(-b, 0), n - max(-a, 0)
        length = max(stop - start, 0)
        out.append(n + b + a)
        src.append(slice(start, start + length))
        dst.append(slice(max(b, 0), max(b, 0) + length))
    return tuple(out), tuple(src), tuple(dst)


def pad_constant(x: Any, widths: tuple, value: float = 0.0) -> np.ndarray:
    """``x`` with ``widths[i] = (before, after)`` elements of ``value`` added on axis ``i``; a
    negative width removes elements instead (so ``pad(pad(x, w), -w)`` is ``x``)."""
    x = np.asarray(x)
    shape, src, dst = pad_slices(x.shape, widths)
    out = np.empty(shape, dtype=x.dtype)
    if value == 0:
        out.fill(0)
    else:
        out.fill(value)
    out[dst] = x[src]
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


# ---- correlation (convolution's product) in PyTorch's layout: input (N, C, *spatial), weight
# (O, C, *kernel), output (N, O, *out), zero padding ``pads`` ((before, after) per spatial axis,
# negative crops). Inside, the padded input is copied once to channels last, so that a window's
# last two axes (kernel[-1], C) are contiguous, and its windows (im2col, a strided view) are
# copied a few samples at a time into one reused buffer of about CHUNK_BYTES, each chunk times
# the weight matrix in one matrix product. 1 MB chunks were about 4% quicker than 256 KB ones
# on benchmarks C2 (16 -> 32 channels, batch 64, float32), and keep the buffer bounded.
CHUNK_BYTES = 1 << 20
# Below this many channels a window's contiguous runs are too short for one strided copy to be
# quick: the windows are copied one kernel offset at a time instead (benchmarks C1, one input
# channel: 31 us instead of 61 us per step; with 16 channels the single copy is 3x faster).
FEW_CHANNELS = 4


# The kernels' temporaries (window buffer, transposed gradient, products, fold buffer) never
# leave the call, so each thread keeps one buffer per role and reuses it. Allocated afresh,
# they cost about 160 page faults per step of benchmarks C1 (glibc hands the freed memory back
# to the system between steps): 1.1 ms per step instead of 0.45 ms, measured side by side (C2:
# 4.6 ms instead of 3.3 ms). Buffers above SCRATCH_LIMIT are not kept.
SCRATCH_LIMIT = 1 << 22
_SCRATCH = threading.local()


def _scratch(role: str, shape: tuple, dtype: Any) -> np.ndarray:
    """An uninitialised array of ``shape`` and ``dtype``, this thread's buffer for ``role``."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > SCRATCH_LIMIT:
        return np.empty(shape, dtype=dtype)
    pool = _SCRATCH.__dict__
    buf = pool.get(role)
    if buf is None or buf.nbytes < nbytes:
        buf = pool[role] = np.empty(max(nbytes, 1 << 12), dtype=np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def _samples_per_chunk(rows_per_sample: int, width: int, itemsize: int) -> int:
    return max(1, CHUNK_BYTES // max(1, rows_per_sample * width * itemsize))


def _offset_slices(offset: tuple, stride: tuple, dilation: tuple, out: tuple) -> tuple:
    """The slices of the positions that kernel offset ``offset`` reads, one per spatial axis."""
    return tuple(slice(f * dl, f * dl + st * (q - 1) + 1, st)
                 for f, dl, st, q in zip(offset, dilation, stride, out))


def _copy_windows(dst: np.ndarray, win: np.ndarray, xp: np.ndarray, kernel: tuple,
                  stride: tuple, dilation: tuple) -> None:
    """Copy the windows ``win`` (m, *out, *kernel, C) of channels-last ``xp`` (m, *spatial, C)
    into ``dst``: one strided copy, or with few channels one copy per kernel offset."""
    d = len(kernel)
    if xp.shape[-1] >= FEW_CHANNELS:
        np.copyto(dst, win)
        return
    out = dst.shape[1:1 + d]
    lead = (slice(None),) * (1 + d)
    for offset in np.ndindex(*kernel):
        dst[lead + offset] = xp[(slice(None),) + _offset_slices(offset, stride, dilation, out)]


def _window_chunks(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """Yield (first sample, sample count, windows as a (count * positions, k * C) matrix)."""
    win = unfold_windows(xp, kernel, stride, dilation)  # one view, sliced per chunk
    d = len(kernel)
    n, out = xp.shape[0], win.shape[1:1 + d]
    per, width = math.prod(out), math.prod(win.shape[1 + d:])
    step = _samples_per_chunk(per, width, xp.itemsize)
    buf = _scratch("windows", (min(step, n) * per, width), xp.dtype)
    for s in range(0, n, step):
        m = min(step, n - s)
        b = buf[:m * per]
        _copy_windows(b.reshape((m,) + win.shape[1:]), win[s:s + m], xp[s:s + m], kernel,
                      stride, dilation)
        yield s, m, b


def _channels_last(x: np.ndarray, pads: tuple) -> np.ndarray:
    """(N, C, *spatial) as a C-contiguous channels-last copy (N, *padded, C)."""
    return pad_constant(np.moveaxis(x, 1, -1), ((0, 0),) + tuple(pads) + ((0, 0),))


def correlate(x: Any, w: Any, stride: tuple, pads: tuple, dilation: tuple,
              bias: Any = None) -> np.ndarray:
    """``y[n, o, *p] = sum_{c, k} xpad[n, c, *(p * stride + k * dilation)] * w[o, c, *k]``
    (+ ``bias[o]``), ``xpad`` being ``x`` zero-padded by ``pads``: x (N, C, *spatial),
    w (O, C, *kernel), y (N, O, *out), C-contiguous."""
    x, w = np.asarray(x), np.asarray(w)
    n, o, d = x.shape[0], w.shape[0], x.ndim - 2
    kernel = w.shape[2:]
    xp = _channels_last(x, pads)
    out = window_counts(xp.shape[1:1 + d], kernel, stride, dilation)
    per = math.prod(out)
    w2 = w.transpose(*range(2, d + 2), 1, 0).reshape(-1, o)  # (prod(kernel) * C, O)
    y = np.empty((n, o, per), dtype=np.result_type(x, w))
    for s, m, b in _window_chunks(xp, kernel, stride, dilation):
        # one (O, k*C) @ (k*C, positions) product per sample, written straight into y's
        # channels-first layout (BLAS takes the transposed views): C2 forward 530 -> 390 us
        np.matmul(w2.T, b.reshape(m, per, -1).transpose(0, 2, 1), out=y[s:s + m])
    if bias is not None:
        y += np.asarray(bias).reshape(o, 1)
    return y.reshape((n, o) + out)


def correlate_weight_grad(x: Any, g: Any, kernel: tuple, stride: tuple, pads: tuple,
                          dilation: tuple) -> np.ndarray:
    """The gradient of `correlate` in ``w``, (O, C, *kernel): the windows of ``x`` times
    ``g`` (N, O, *out), summed over samples and positions."""
    x, g = np.asarray(x), np.asarray(g)
    n, o, d = g.shape[0], g.shape[1], x.ndim - 2
    c = x.shape[1]
    g3 = g.reshape(n, o, -1)
    per = g3.shape[2]
    gw = np.zeros((o, math.prod(kernel) * c), dtype=np.result_type(x, g))
    prod = None
    for s, m, b in _window_chunks(_channels_last(x, pads), kernel, stride, dilation):
        # one (O, positions) @ (positions, k*C) product per sample, then summed over samples:
        # no transposing copy of g (C2 weight grad kernel 710 -> 630 us, microbenchmark)
        prod = _scratch("product", (m,) + gw.shape, gw.dtype) if prod is None else prod
        gw += np.matmul(g3[s:s + m], b.reshape(m, per, -1), out=prod[:m]).sum(axis=0)
    # gw[o, (k, c)] -> (O, C, *kernel)
    gw = gw.reshape((o,) + tuple(kernel) + (c,))
    return np.ascontiguousarray(gw.transpose(0, d + 1, *range(1, d + 1)))


def correlate_input_grad(g: Any, w: Any, spatial: tuple, stride: tuple, pads: tuple,
                         dilation: tuple) -> np.ndarray:
    """The gradient of `correlate` in ``x`` (N, C, *spatial) (transposed convolution): for
    each kernel offset k, ``g @ w[:, :, k]`` added at the positions that offset reads (a
    strided slice of the padded input), then the padding cut off."""
    g, w = np.asarray(g), np.asarray(w)
    n, o = g.shape[0], g.shape[1]
    c, kernel, out = w.shape[1], w.shape[2:], g.shape[2:]
    per = math.prod(out)
    padded = tuple(sp + b + a for sp, (b, a) in zip(spatial, pads))
    _, src, dst = pad_slices(padded, tuple((-b, -a) for b, a in pads))
    wk = np.ascontiguousarray(w.reshape(o, c, -1).transpose(2, 0, 1))  # (prod(kernel), O, C)
    dtype = np.result_type(g, w)
    gx = np.zeros((n, c) + tuple(spatial), dtype=dtype)
    step = _samples_per_chunk(per, max(c, o), g.itemsize)
    m0 = min(step, n)
    tmp = _scratch("product", (m0, per, c), dtype)
    fold = _scratch("fold", (m0,) + padded + (c,), dtype)  # channels-last, padded
    g3 = g.reshape(n, o, per)
    for s in range(0, n, step):
        m = min(step, n - s)
        # per-sample products of g's transposed view (BLAS takes it as is), no transposing
        # copy of g: C2's 9 products 585 -> 380 us
        gc = g3[s:s + m].transpose(0, 2, 1)
        f = fold[:m]
        f.fill(0)
        for k, offset in enumerate(np.ndindex(*kernel)):
            t = np.matmul(gc, wk[k], out=tmp[:m])
            f[(slice(None),) + _offset_slices(offset, stride, dilation, out)] += \
                t.reshape((m,) + out + (c,))
        gx[(slice(s, s + m), slice(None)) + dst] = np.moveaxis(f, -1, 1)[(slice(None),) * 2 + src]
    return gx
