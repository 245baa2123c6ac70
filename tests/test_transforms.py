"""Function transforms (grad, value_and_grad, jacobian, hessian, hvp, jvp) against central
differences of plain numpy functions and closed forms; nesting (jacobian(grad f) == hessian f)."""

from __future__ import annotations

import numpy as np
import pytest
from fd_oracle import assert_grads_match, fd_gradients, fd_jacobian

import autograd_nn as ag

RNG = np.random.default_rng(7)
X0 = RNG.uniform(-1, 1, 4)
Y0 = RNG.uniform(-1, 1, (4, 2))
V0 = RNG.standard_normal(4)


def f_ag(x, y):
    return ag.sum(ag.tanh(x @ y) ** 2) + ag.sum(x**3)


def f_np(x, y):
    return np.sum(np.tanh(x @ y) ** 2) + np.sum(x**3)


def vec_ag(x):
    return ag.sin(x) * x.sum() + ag.exp(x[::-1])


def vec_np(x):
    return np.sin(x) * x.sum() + np.exp(x[::-1])


def test_grad_matches_finite_differences():
    g = ag.grad(f_ag)(ag.Tensor(X0), ag.Tensor(Y0))
    assert isinstance(g, ag.Tensor) and g.shape == X0.shape
    assert_grads_match([g.data], fd_gradients(lambda x: f_np(x, Y0), [X0]))


def test_grad_accepts_arrays_and_leaves_inputs_untouched():
    x = ag.Tensor(X0)
    g = ag.grad(lambda t: (t * t).sum())(x)
    np.testing.assert_allclose(g.data, 2 * X0)
    assert x.grad is None and not x.requires_grad
    np.testing.assert_allclose(ag.grad(lambda t: (t * t).sum())(X0).data, 2 * X0)
    assert ag.grad(lambda t: (t * t).sum())(np.array([1, 2])).dtype == np.float64
    # a list is a structure (a pytree) of two scalars, not an array: the gradient is a list
    g = ag.grad(lambda t: t[0] * t[1])([1.0, 2.0])
    assert isinstance(g, list) and [float(v) for v in g] == [2.0, 1.0]


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0)])
def test_value_and_grad_with_argnums(argnums):
    value, grads = ag.value_and_grad(f_ag, argnums=argnums)(ag.Tensor(X0), ag.Tensor(Y0))
    np.testing.assert_allclose(value.data, f_np(X0, Y0), rtol=1e-14)
    assert not value.requires_grad
    want = fd_gradients(f_np, [X0, Y0])
    if isinstance(argnums, int):
        assert isinstance(grads, ag.Tensor)
        assert_grads_match([grads.data], [want[argnums]])
    else:
        assert isinstance(grads, tuple) and len(grads) == 2
        assert_grads_match([g.data for g in grads], [want[i] for i in argnums])


def test_grad_of_a_constant_function_is_zero():
    g = ag.grad(lambda x, y: (y * 2.0).sum())(ag.Tensor(X0), ag.Tensor(Y0))
    np.testing.assert_array_equal(g.data, np.zeros(4))


def test_jacobian_matches_finite_differences():
    j = ag.jacobian(vec_ag)(ag.Tensor(X0))
    assert j.shape == (4, 4)
    np.testing.assert_allclose(j.data, fd_jacobian(vec_np, X0), rtol=1e-6, atol=1e-8)


def test_jacobian_of_matrix_function_and_argnums_tuple():
    def g_ag(x, y):
        return ag.tanh(x @ y)

    jx, jy = ag.jacobian(g_ag, argnums=(0, 1))(ag.Tensor(X0), ag.Tensor(Y0))
    assert jx.shape == (2, 4) and jy.shape == (2, 4, 2)
    np.testing.assert_allclose(jx.data, fd_jacobian(lambda x: np.tanh(x @ Y0), X0), rtol=1e-6)
    np.testing.assert_allclose(jy.data, fd_jacobian(lambda y: np.tanh(X0 @ y), Y0), rtol=1e-6)


def test_hessian_closed_form():
    # f = sum(x^3) + (a . x)^2  ->  H = diag(6x) + 2 a a^T
    a = np.array([1.0, -2.0, 0.5, 3.0])
    h = ag.hessian(lambda x: (x**3).sum() + (x * ag.Tensor(a)).sum() ** 2)(ag.Tensor(X0))
    assert h.shape == (4, 4)
    np.testing.assert_allclose(h.data, np.diag(6 * X0) + 2 * np.outer(a, a), rtol=1e-12)


def test_hessian_of_a_matrix_argument_matches_finite_differences():
    def grad_np(y):  # the analytic gradient of f_np in y, differenced numerically below
        t = np.tanh(X0 @ y)
        return np.outer(X0, 2 * t * (1 - t**2))

    h = ag.hessian(f_ag, argnums=1)(ag.Tensor(X0), ag.Tensor(Y0))
    assert h.shape == (4, 2, 4, 2)
    np.testing.assert_allclose(h.data, fd_jacobian(grad_np, Y0), rtol=1e-6, atol=1e-8)


def test_jacobian_of_grad_equals_hessian():
    def f(x):
        return ag.sum(ag.sigmoid(x) * ag.sin(x)) + ag.logsumexp(x * x)

    x = ag.Tensor(X0)
    np.testing.assert_allclose(ag.jacobian(ag.grad(f))(x).data, ag.hessian(f)(x).data,
                               rtol=1e-13, atol=1e-14)


def test_grad_of_grad_of_scalar_function():
    d2 = ag.grad(ag.grad(lambda x: ag.sin(x) * x))(ag.Tensor(0.7))
    np.testing.assert_allclose(d2.data, 2 * np.cos(0.7) - 0.7 * np.sin(0.7), rtol=1e-14)
    d3 = ag.grad(ag.grad(ag.grad(lambda x: x**4)))(ag.Tensor(1.5))
    np.testing.assert_allclose(d3.data, 24 * 1.5)


def test_hvp_matches_hessian_times_vector():
    def f(x):
        return ag.sum(ag.exp(x) * ag.tanh(x.sum()))

    x = ag.Tensor(X0)
    value, hv = ag.hvp(f, x, ag.Tensor(V0))
    np.testing.assert_allclose(value.data, np.sum(np.exp(X0) * np.tanh(X0.sum())))
    np.testing.assert_allclose(hv.data, ag.hessian(f)(x).data @ V0, rtol=1e-12)

    def grad_np(x):
        t = np.tanh(x.sum())
        return np.exp(x) * t + np.sum(np.exp(x)) * (1 - t**2)

    np.testing.assert_allclose(hv.data, fd_jacobian(grad_np, X0) @ V0, rtol=1e-6)


def test_hvp_with_several_primals():
    def f(x, y):
        return (x * x * y).sum()

    y0 = RNG.uniform(-1, 1, 4)
    v, w = RNG.standard_normal(4), RNG.standard_normal(4)
    _, (hx, hy) = ag.hvp(f, (ag.Tensor(X0), ag.Tensor(y0)), (ag.Tensor(v), ag.Tensor(w)))
    # H = [[2 diag(y), 2 diag(x)], [2 diag(x), 0]]
    np.testing.assert_allclose(hx.data, 2 * y0 * v + 2 * X0 * w, rtol=1e-13)
    np.testing.assert_allclose(hy.data, 2 * X0 * v, rtol=1e-13)


def test_jvp_matches_jacobian_times_vector():
    value, jv = ag.jvp(vec_ag, ag.Tensor(X0), ag.Tensor(V0))
    np.testing.assert_allclose(value.data, vec_np(X0), rtol=1e-14)
    np.testing.assert_allclose(jv.data, fd_jacobian(vec_np, X0) @ V0, rtol=1e-6, atol=1e-8)
    eps = 1e-6  # forward mode: the directional derivative of the whole output
    fd = (vec_np(X0 + eps * V0) - vec_np(X0 - eps * V0)) / (2 * eps)
    np.testing.assert_allclose(jv.data, fd, rtol=1e-6, atol=1e-8)


def test_jvp_of_a_matrix_function():
    w = RNG.standard_normal((4, 2))
    value, jv = ag.jvp(lambda y: ag.tanh(ag.Tensor(X0) @ y), ag.Tensor(Y0), ag.Tensor(w))
    assert jv.shape == (2,)
    t = np.tanh(X0 @ Y0)
    np.testing.assert_allclose(jv.data, (1 - t**2) * (X0 @ w), rtol=1e-12)


def test_transforms_reject_bad_functions_and_arguments():
    with pytest.raises(ValueError, match=r"single element|\(4,\)"):
        ag.grad(lambda x: x * 2.0)(ag.Tensor(X0))
    with pytest.raises(TypeError, match="Tensor"):
        ag.grad(lambda x: 3.0)(ag.Tensor(X0))
    with pytest.raises(ValueError, match="argnums"):
        ag.grad(lambda x: x.sum(), argnums=2)(ag.Tensor(X0))
    with pytest.raises(ValueError, match="shape"):
        ag.hvp(lambda x: x.sum(), ag.Tensor(X0), ag.Tensor(np.ones(3)))
