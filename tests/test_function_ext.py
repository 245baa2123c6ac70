"""User-written Functions: a correct hand-written backward agrees with finite differences, takes
part in graphs, broadcasting and second order; a wrong one (off by 0.1 %, or the wrong sign) is
caught by the same finite-difference comparison."""

from __future__ import annotations

import numpy as np
import pytest
from fd_oracle import assert_grads_match, fd_directional, fd_gradients
from hypothesis import given
from strategies import broadcastable_shape_pairs, seeds

import autograd_nn as ag


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2  # operators: recorded under create_graph


class Sine(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.cos(x)  # the array namespace: numpy, or tensors under create_graph


class ScaledProduct(ag.Function):
    """scale * x * y; gradients come back in the broadcast shape (the engine reduces them)."""

    @staticmethod
    def forward(ctx, x, y, scale=1.0):
        ctx.save_for_backward(x, y)
        ctx.scale = scale
        return scale * x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx = grad * y * ctx.scale if ctx.needs_input_grad[0] else None
        gy = grad * x * ctx.scale if ctx.needs_input_grad[1] else None
        return gx, gy


class CubeOffByATenthPercent(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.003 * x**2


class CubeWrongSign(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * 3 * x**2


def check_function_against_fd(apply, ref, xs, rng):
    """The comparison a user runs on their own Function: engine gradient vs central differences
    of the numpy reference, under a random output weighting."""
    ts = [ag.Tensor(x, requires_grad=True) for x in xs]
    out = apply(*ts)
    np.testing.assert_allclose(out.data, ref(*xs), rtol=1e-12)
    w = rng.standard_normal(out.shape)
    out.backward(w)
    want = fd_gradients(lambda *a: np.sum(w * ref(*a)), xs)
    assert_grads_match([t.grad.data for t in ts], want)


X = np.array([[0.7, -1.3, 0.2], [1.9, -0.4, 1.1]])


def test_correct_backward_agrees_with_finite_differences():
    rng = np.random.default_rng(0)
    check_function_against_fd(Cube.apply, lambda x: x**3, [X], rng)
    check_function_against_fd(Sine.apply, np.sin, [X], rng)
    check_function_against_fd(lambda x, y: ScaledProduct.apply(x, y, scale=2.5),
                              lambda x, y: 2.5 * x * y, [X, X[::-1] + 0.1], rng)


@pytest.mark.parametrize("wrong", [CubeOffByATenthPercent, CubeWrongSign])
def test_wrong_backward_is_caught_by_the_comparison(wrong):
    rng = np.random.default_rng(0)
    with pytest.raises(AssertionError, match="differs from finite differences"):
        check_function_against_fd(wrong.apply, lambda x: x**3, [X], rng)


@given(pair=broadcastable_shape_pairs(), seed=seeds())
def test_custom_function_broadcasts_like_a_builtin(pair, seed):
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-2, 2, s) for s in pair]
    check_function_against_fd(lambda x, y: ScaledProduct.apply(x, y, scale=-1.5),
                              lambda x, y: -1.5 * x * y, xs, rng)


def test_custom_function_in_a_larger_graph():
    x = ag.Tensor(X, requires_grad=True)
    h = ag.tanh(Cube.apply(x) * 0.3) + Sine.apply(x)
    assert h.grad_fn.name == "add"
    c = Cube.apply(x)
    assert c.grad_fn.name == "Cube" and c.grad_fn.inputs[0] is x
    h.sum().backward()
    t = np.tanh(0.3 * X**3)
    np.testing.assert_allclose(x.grad.data, (1 - t**2) * 0.9 * X**2 + np.cos(X), rtol=1e-14)


def test_second_order_through_a_custom_function():
    x = ag.Tensor(X, requires_grad=True)
    for fn, d2 in [(Cube.apply, 6 * X), (Sine.apply, -np.sin(X))]:
        (g,) = ag.autograd.grad(fn(x).sum(), x, create_graph=True)
        assert g.requires_grad
        (h,) = ag.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(h.data, d2, rtol=1e-13)
    np.testing.assert_allclose(ag.hessian(lambda t: Cube.apply(t).sum())(ag.Tensor([2.0])).data,
                               [[12.0]])


def test_second_order_of_a_two_operand_function_against_fd_of_its_gradient():
    rng = np.random.default_rng(1)
    x0, y0 = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3,))
    v = [rng.standard_normal((2, 3)), rng.standard_normal(3)]

    def grads(xa, ya, create_graph=False):
        x, y = ag.Tensor(xa, requires_grad=True), ag.Tensor(ya, requires_grad=True)
        out = ScaledProduct.apply(ag.sin(x), y * y, scale=2.0).sum()
        return (x, y), ag.autograd.grad(out, [x, y], create_graph=create_graph)

    (x, y), (gx, gy) = grads(x0, y0, create_graph=True)
    dot = (gx * ag.Tensor(v[0])).sum() + (gy * ag.Tensor(v[1])).sum()
    hv = [h.data for h in ag.autograd.grad(dot, [x, y])]
    want = fd_directional(lambda a, b: [g.data for g in grads(a, b)[1]], [x0, y0], v)
    assert_grads_match(hv, want, rtol=1e-6, atol=1e-8, what="Hessian-vector product")


def test_needs_input_grad_and_none_gradients():
    seen = []

    class Spy(ScaledProduct):
        @staticmethod
        def backward(ctx, grad):
            seen.append(ctx.needs_input_grad)
            return ScaledProduct.backward(ctx, grad)

    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    Spy.apply(x, np.array([3.0, 4.0])).sum().backward()
    Spy.apply(ag.Tensor([5.0, 6.0]), x).sum().backward()
    assert seen == [(True, False), (False, True)]
    np.testing.assert_allclose(x.grad.data, [3.0 + 5.0, 4.0 + 6.0])


def test_custom_function_records_nothing_without_grad():
    x = ag.Tensor(X, requires_grad=True)
    with ag.no_grad():
        y = Cube.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    z = Cube.apply(ag.Tensor(X))
    assert not z.requires_grad


def test_backward_returning_the_wrong_number_of_gradients():
    class TwoInOneOut(ScaledProduct):
        @staticmethod
        def backward(ctx, grad):
            return grad

    x = ag.Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="1 gradients for 2 operands"):
        TwoInOneOut.apply(x, x).sum().backward()


def test_backward_returning_a_gradient_of_the_wrong_shape():
    class BadShape(Cube):
        @staticmethod
        def backward(ctx, grad):
            return np.ones((5,))

    x = ag.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        BadShape.apply(x).sum().backward()
    msg = str(e.value)
    assert "BadShape" in msg and "(5,)" in msg and "(2, 3)" in msg


def test_forward_errors_name_the_custom_op():
    x = ag.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError) as e:
        ScaledProduct.apply(x, ag.Tensor(np.ones(4)))
    msg = str(e.value)
    assert "ScaledProduct" in msg and "(2, 3)" in msg and "(4,)" in msg
