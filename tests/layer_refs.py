"""Plain-loop numpy references for the layer tests: convolution, transposed convolution and
pooling written out element by element from their definitions. They share no code with
autograd_nn (no strided views, no matrix products), so agreement is independent evidence."""

from __future__ import annotations

import numpy as np


def conv2d_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride=(1, 1),
               padding=((0, 0), (0, 0)), dilation=(1, 1), groups: int = 1) -> np.ndarray:
    """out[n, o, i, j] = b[o] + sum over c, p, q of
    xpad[n, g*Cg + c, i*s + p*d, j*s + q*d] * w[o, c, p, q]."""
    n, c_in, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    (pt, pb), (pl, pr) = padding
    xp = np.zeros((n, c_in, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    oh = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, c_out, oh, ow))
    og = c_out // groups
    for o in range(c_out):
        g = o // og
        for i in range(oh):
            for j in range(ow):
                for p in range(kh):
                    for q in range(kw):
                        r, s = i * stride[0] + p * dilation[0], j * stride[1] + q * dilation[1]
                        out[:, o, i, j] += xp[:, g * cg:(g + 1) * cg, r, s] @ w[o, :, p, q]
        if b is not None:
            out[:, o] += b[o]
    return out


def conv_transpose2d_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride=(1, 1),
                         padding=(0, 0), output_padding=(0, 0), dilation=(1, 1),
                         groups: int = 1) -> np.ndarray:
    """Scatter form: each input pixel adds w[c] (scaled) at i*s + p*d - pad."""
    n, c_in, h, wd = x.shape
    _, og, kh, kw = w.shape
    cig = c_in // groups
    oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    ow = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    out = np.zeros((n, og * groups, oh, ow))
    for c in range(c_in):
        g = c // cig
        for i in range(h):
            for j in range(wd):
                for p in range(kh):
                    for q in range(kw):
                        r = i * stride[0] + p * dilation[0] - padding[0]
                        s = j * stride[1] + q * dilation[1] - padding[1]
                        if 0 <= r < oh and 0 <= s < ow:
                            out[:, g * og:(g + 1) * og, r, s] += np.outer(x[:, c, i, j],
                                                                          w[c, :, p, q])
    if b is not None:
        out += b[None, :, None, None]
    return out


def max_pool2d_ref(x: np.ndarray, k, s, p) -> np.ndarray:
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * p[0], w + 2 * p[1]), -np.inf)
    xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x
    oh, ow = (xp.shape[2] - k[0]) // s[0] + 1, (xp.shape[3] - k[1]) // s[1] + 1
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]].max(
                axis=(2, 3))
    return out


def avg_pool2d_ref(x: np.ndarray, k, s, p) -> np.ndarray:
    """count_include_pad=True, ceil_mode=False: every window divides by k[0] * k[1]."""
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * p[0], w + 2 * p[1]))
    xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x
    oh, ow = (xp.shape[2] - k[0]) // s[0] + 1, (xp.shape[3] - k[1]) // s[1] + 1
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]].mean(
                axis=(2, 3))
    return out


def lstm_step_ref(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's LSTM equations with (in, out) weights, gates (i, f, g, o)."""
    z = x @ w_ih + b_ih + h @ w_hh + b_hh
    i, f, g, o = np.split(z, 4, axis=-1)

    def sig(v):
        return 1 / (1 + np.exp(-v))

    c2 = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c2), c2
