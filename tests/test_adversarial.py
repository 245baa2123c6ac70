"""Adversarial review of issue 10 ("never silently wrong"): each test is a member of one of the
issue's classes that gave a silent wrong answer, or a check that passed what it could not
vouch for, found by trying the public API as a new user would. Oracles: float64 central
differences (tests/fd_oracle.py) and the derivative worked by hand, stated beside each test."""

from __future__ import annotations

import numpy as np
import pytest
from fd_oracle import fd_gradients

import autograd_nn as ag

# ---- gradcheck must not pass what it cannot vouch for ---------------------------------------

class _WrongSqrt(ag.Function):
    """sqrt with a wrong backward (3 / sqrt(1 + y) instead of 1 / (2 y))."""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * 3.0 / (1.0 + y) ** 0.5


class _WrongLog(ag.Function):
    """log with a backward off by a factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 / x


@pytest.mark.parametrize("fn, x0", [(_WrongSqrt.apply, 1e-7), (_WrongSqrt.apply, 0.0),
                                    (_WrongLog.apply, 1e-7)])
def test_gradcheck_fails_a_wrong_derivative_next_to_a_domain_edge(fn, x0):
    # At x = 1e-7 the stencil x +- 2 eps leaves the domain of sqrt/log: the finite differences
    # measure nothing there. d sqrt/dx(1e-7) = 1581.1 and d log/dx(1e-7) = 1e7, the engine
    # says ~3 and 2e7; the check used to report "gradcheck passed" (a "domain edge").
    x = ag.Tensor(np.array([x0]), requires_grad=True)
    result = ag.gradcheck(fn, x, raise_exception=False)
    assert not result
    assert "edge of f's domain" in str(result)


# ---- arguments of numpy-surface functions must not drop their graph --------------------------

def test_clip_bound_that_requires_grad_gets_its_gradient():
    # d/d hi of sum(clip(x, -1, hi)) + hi at x = [-2, 0.5, 3], hi = 1: one element (3) is clipped
    # to hi, so the derivative is 1 + 1 = 2 (torch.clamp with tensor bounds agrees); the bound
    # used to be read as a constant and hi.grad was 1.
    x = ag.Tensor([-2.0, 0.5, 3.0], requires_grad=True)
    hi = ag.Tensor(1.0, requires_grad=True)
    (np.clip(x, -1.0, hi).sum() + hi).backward()
    assert float(hi.grad.data) == 2.0
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])


def test_clip_tensor_bounds_match_finite_differences():
    x0 = np.array([-2.0, 0.5, 3.0, -0.4])
    lo0 = np.array([-1.0, 0.7, -1.0, -1.0])
    hi0 = np.array(1.5)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    x, lo, hi = (ag.Tensor(a, requires_grad=True) for a in (x0, lo0, hi0))
    (ag.clip(x, lo, hi) * w).sum().backward()
    oracle = fd_gradients(lambda a, b, c: (np.clip(a, b, c) * w).sum(), [x0, lo0, hi0])
    for t, o in zip((x, lo, hi), oracle):
        np.testing.assert_allclose(t.grad.data, o, atol=1e-7)


def test_clip_tensor_bounds_keep_numpy_values():
    x = ag.Tensor([-2.0, 0.5, 3.0, np.nan], requires_grad=True)
    for lo, hi in [(2.0, 1.0), (np.nan, 1.0), (-1.0, np.nan)]:
        out = ag.clip(x, ag.Tensor(lo, requires_grad=True), ag.Tensor(hi, requires_grad=True))
        np.testing.assert_array_equal(out.data, np.clip(x.data, lo, hi))


def test_gradient_refuses_a_spacing_that_requires_grad():
    # np.gradient(f, h) with h a Tensor requiring grad used to treat h as a constant: h.grad
    # missed d/dh (sum(gradient(f, h))) = -sum(gradient(f, 1)) / h**2.
    f = np.array([3.0, 1.0, 2.0, 1.0, 5.0, 0.0])
    h = ag.Tensor(0.7, requires_grad=True)
    with pytest.raises(TypeError, match="gradient: a spacing"):
        np.gradient(f, h)
    with pytest.raises(TypeError, match="gradient: a spacing"):
        ag.gradient(ag.Tensor(f, requires_grad=True), ag.Tensor(np.arange(6.0), requires_grad=True))


# ---- np.errstate(all="raise") hygiene: harmless underflow in a derivative's formula ---------

@pytest.mark.parametrize("fn, x0, value, slope", [
    # (op, point, exact value, exact derivative): the derivative formulas square a tiny x or
    # the output (1 - 1e-400 = 1 in float64) or divide by an overflowing 1 + x*x (1e-400 -> 0).
    # (tanh's backward at |x| < 1e-154 is documented as raising, for speed.)
    (ag.arcsin, 1e-200, 1e-200, 1.0),
    (ag.arctanh, 1e-200, 1e-200, 1.0),
    (ag.arctan, 1e200, np.pi / 2, 0.0),
    (ag.reciprocal, 1e200, 1e-200, -0.0),
    (ag.sinc, 1e-200, 1.0, -np.pi ** 2 / 3 * 1e-200),
])
def test_unary_gradient_does_not_raise_on_harmless_underflow(fn, x0, value, slope):
    x = ag.Tensor(np.array([x0]), requires_grad=True)
    with np.errstate(all="raise"):
        y = fn(x)
        y.sum().backward()
    np.testing.assert_allclose(y.data, [value], rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, [slope], rtol=1e-12, atol=0)


def test_binary_ops_do_not_raise_on_harmless_underflow():
    # logaddexp(1000, -1000) = 1000 exactly, d/dx = 1, d/dy = exp(-2000) = 0 in float64;
    # arctan2(1e-200, 1): d/dx = 1 / (1 + 1e-400) = 1, d/dy = -1e-200
    for op, x0, y0, value, dx, dy in [
        (ag.logaddexp, 1000.0, -1000.0, 1000.0, 1.0, 0.0),
        (ag.logaddexp2, 1000.0, -1000.0, 1000.0, 1.0, 0.0),
        (ag.arctan2, 1e-200, 1.0, 1e-200, 1.0, -1e-200),
    ]:
        x = ag.Tensor(x0, requires_grad=True)
        y = ag.Tensor(y0, requires_grad=True)
        with np.errstate(all="raise"):
            out = op(x, y)
            out.backward()
        assert float(out.data) == pytest.approx(value, rel=1e-12)
        assert float(x.grad.data) == pytest.approx(dx, rel=1e-12)
        assert float(y.grad.data) == pytest.approx(dy, rel=1e-12, abs=0)
