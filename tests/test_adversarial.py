"""Adversarial review of issue 10 ("never silently wrong"): each test is a member of one of the
issue's classes that gave a silent wrong answer, or a check that passed what it could not
vouch for, found by trying the public API as a new user would. Oracles: float64 central
differences (tests/fd_oracle.py) and the derivative worked by hand, stated beside each test."""

from __future__ import annotations

import numpy as np
import pytest

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
