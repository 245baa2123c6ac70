"""The convolution kernels (autograd_nn.ops.window_kernels) against plain-loop definitions:
across several chunks, with the per-thread scratch buffers reused between calls of different
shapes and dtypes, in float32 (which must stay float32), and from several threads at once."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from layer_refs import conv2d_ref

from autograd_nn.ops import window_kernels as wk

STRIDE, PADS, DILATION = (2, 1), ((1, 2), (0, 1)), (1, 2)


def _operands(rng, n, c, o, dtype=np.float64):
    x = rng.standard_normal((n, c, 7, 6)).astype(dtype)
    w = rng.standard_normal((o, c, 3, 2)).astype(dtype)
    return x, w


def _ref(x, w):
    return conv2d_ref(x, w, None, STRIDE, PADS, DILATION)


def _check_all_three(x, w, rtol):
    y = wk.correlate(x, w, STRIDE, PADS, DILATION)
    want = _ref(x, w)
    np.testing.assert_allclose(y, want, rtol=rtol, atol=rtol)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    # the gradients through <g, correlate(x, w)>, bilinear: exact by the adjoint identities
    gx = wk.correlate_input_grad(g, w, x.shape[2:], STRIDE, PADS, DILATION)
    gw = wk.correlate_weight_grad(x, g, w.shape[2:], STRIDE, PADS, DILATION)
    assert gx.shape == x.shape and gw.shape == w.shape
    assert y.dtype == gx.dtype == gw.dtype == x.dtype
    total = float(np.sum(want * g))
    np.testing.assert_allclose(np.sum(gx * x), total, rtol=rtol * 10)
    np.testing.assert_allclose(np.sum(gw * w), total, rtol=rtol * 10)
    # and elementwise against the loop definition, by linearity in each operand
    for grad, operand, call in ((gw, w, lambda e: _ref(x, e)), (gx, x, lambda e: _ref(e, w))):
        for idx in [(0,) * operand.ndim, tuple(n - 1 for n in operand.shape)]:
            e = np.zeros(operand.shape)
            e[idx] = 1
            np.testing.assert_allclose(grad[idx], np.sum(call(e) * g), rtol=rtol * 10,
                                       atol=rtol * 10)
    return y, gx, gw


@pytest.mark.parametrize("c", [1, 2, 5])  # below and above FEW_CHANNELS
def test_kernels_match_the_loops_over_several_chunks(monkeypatch, c):
    monkeypatch.setattr(wk, "CHUNK_BYTES", 512)  # a few samples per chunk, the last one short
    x, w = _operands(np.random.default_rng(c), 7, c, 3)
    _check_all_three(x, w, 1e-12)


def test_reused_buffers_do_not_leak_between_calls_or_into_results(monkeypatch):
    monkeypatch.setattr(wk, "CHUNK_BYTES", 2048)
    rng = np.random.default_rng(3)
    big = _operands(rng, 5, 4, 6)
    small32 = _operands(rng, 2, 1, 2, np.float32)
    first = [a.copy() for a in _check_all_three(*big, 1e-12)]
    _check_all_three(*small32, 1e-5)  # other shapes and dtype through the same buffers
    again = _check_all_three(*big, 1e-12)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    # results are fresh arrays: a later call does not write into an earlier result
    y = wk.correlate(*big, STRIDE, PADS, DILATION)
    kept = y.copy()
    wk.correlate(*_operands(rng, 5, 4, 6), STRIDE, PADS, DILATION)
    np.testing.assert_array_equal(y, kept)


def test_kernels_from_several_threads_at_once():
    """Each thread has its own buffers (a shared pool fails this test)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        _run_threads()
    finally:
        sys.setswitchinterval(old)


def _run_threads():
    rng = np.random.default_rng(4)
    jobs = [_operands(rng, 40, c, 8) for c in (1, 3, 6, 2)]
    want = [wk.correlate(x, w, STRIDE, PADS, DILATION) for x, w in jobs]
    errors: list[BaseException] = []

    def run(k):
        try:
            for _ in range(20):
                got = wk.correlate(*jobs[k], STRIDE, PADS, DILATION)
                np.testing.assert_array_equal(got, want[k])
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
