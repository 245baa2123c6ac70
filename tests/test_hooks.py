"""Tensor hooks: ``register_hook(fn)`` calls ``fn(grad)`` during backward; a returned value
replaces the gradient (and so changes every gradient upstream); ``remove()`` unregisters;
hooks run in registration order on leaves and non-leaves; a wrong shape is an error.
Expected values are analytic."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag


def leaf(x) -> ag.Tensor:
    return ag.Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


X = np.array([0.5, -1.5, 2.0])


def test_leaf_hook_sees_the_gradient_once_per_backward():
    x = leaf(X)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x * x).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], 2 * X)
    np.testing.assert_array_equal(x.grad.data, 2 * X)
    (x * 3.0).sum().backward()
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[1], [3.0, 3.0, 3.0])  # this pass's gradient, not .grad


def test_the_hook_argument_is_a_tensor_of_the_tensors_shape_and_dtype():
    x = ag.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    got = []
    x.register_hook(lambda g: got.append((type(g), g.shape, g.dtype)))
    (x * 2.0).sum().backward()
    assert got == [(ag.Tensor, (2, 3), np.dtype(np.float32))]


def test_leaf_hook_return_value_replaces_what_is_accumulated():
    x = leaf(X)
    x.register_hook(lambda g: g * 10.0)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 20 * X)


def test_non_leaf_hook_replacement_flows_upstream():
    x = leaf(X)
    a = ag.sin(x)
    seen = []

    def double(g):
        seen.append(g.data.copy())
        return g * 2.0

    a.register_hook(double)
    (a * a).sum().backward()  # d/da = 2 sin x; doubled; times cos x
    np.testing.assert_allclose(seen[0], 2 * np.sin(X), rtol=1e-15)
    np.testing.assert_allclose(x.grad.data, 4 * np.sin(X) * np.cos(X), rtol=1e-14)
    assert a.grad is None  # a hook does not make a non-leaf keep its gradient


def test_non_leaf_hook_with_retain_grad_stores_the_replaced_gradient():
    x = leaf(X)
    a = x * 3.0
    a.retain_grad()
    a.register_hook(lambda g: g + 1.0)
    a.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0, 6.0])


def test_hook_on_a_tensor_used_twice_sees_the_summed_gradient_once():
    x = leaf(X)
    a = x * 2.0
    calls = []
    a.register_hook(lambda g: calls.append(g.data.copy()))
    (a * 3.0 + a * a).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 3.0 + 2 * (2 * X), rtol=1e-15)


def test_multiple_hooks_run_in_registration_order_and_chain():
    x = leaf(X)
    order = []

    def make(tag, factor):
        def hook(g):
            order.append((tag, g.data.copy()))
            return g * factor
        return hook

    x.register_hook(make("a", 2.0))
    x.register_hook(lambda g: order.append(("none", g.data.copy())))  # returns None: unchanged
    x.register_hook(make("b", 5.0))
    x.sum().backward()
    assert [t for t, _ in order] == ["a", "none", "b"]
    np.testing.assert_array_equal(order[1][1], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(order[2][1], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [10.0, 10.0, 10.0])


def test_remove_unregisters_only_that_hook_and_is_idempotent():
    x = leaf(X)
    h1 = x.register_hook(lambda g: g * 2.0)
    x.register_hook(lambda g: g + 1.0)
    h1.remove()
    h1.remove()
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


def test_a_hook_may_remove_itself_during_backward():
    x = leaf(X)
    calls = []
    handle = None

    def once(g):
        calls.append(1)
        handle.remove()

    handle = x.register_hook(once)
    x.sum().backward()
    x.sum().backward()
    assert calls == [1]


def test_hook_returning_an_ndarray_or_a_list_is_accepted_and_cast_to_the_dtype():
    x = ag.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    x.register_hook(lambda g: np.array([1.0, 2.0, 3.0]))  # float64 array for a float32 tensor
    (x * 4.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("bad, shape", [
    (lambda g: g[:2], r"\(2,\)"),
    (lambda g: g.sum(), r"\(\)"),
    (lambda g: g.reshape(3, 1), r"\(3, 1\)"),
    (lambda g: 5.0, r"\(\)"),
])
def test_hook_returning_a_wrong_shape_raises_naming_both_shapes(bad, shape):
    x = leaf(X)
    a = x * 2.0
    a.register_hook(bad)
    with pytest.raises(RuntimeError, match=rf"returned a gradient of shape {shape} for a tensor "
                                           r"of shape \(3,\)"):
        a.sum().backward()
    assert x.grad is None


def test_hooks_work_under_create_graph_and_their_result_is_differentiable():
    x = leaf(X)
    x.register_hook(lambda g: g * x)  # the replacement depends on x
    (g,) = ag.autograd.grad((x**3).sum(), [x], create_graph=True)  # 3x^2, times x by the hook
    np.testing.assert_allclose(g.data, 3 * X**3, rtol=1e-14)
    (gg,) = ag.autograd.grad(g.sum(), [x])
    # d/dx (3x^2 * x) = 9x^2, and the hook multiplies by x once more
    np.testing.assert_allclose(gg.data, 9 * X**3, rtol=1e-14)


def test_autograd_grad_runs_hooks_but_leaves_grad_untouched():
    x = leaf(X)
    x.register_hook(lambda g: g * 0.5)
    (g,) = ag.autograd.grad((x * 4.0).sum(), [x])
    np.testing.assert_array_equal(g.data, [2.0, 2.0, 2.0])
    assert x.grad is None


def test_gradient_clipping_by_hook():
    x = leaf([0.1, 10.0, -10.0])
    x.register_hook(lambda g: ag.clip(g, -1.0, 1.0))
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.2, 1.0, -1.0])


def test_register_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="register_hook.*does not require grad"):
        ag.Tensor(X).register_hook(lambda g: g)


def test_a_hook_cannot_change_the_gradient_in_place():
    """The array a hook sees may also be another tensor's gradient (both operands of add get
    the same one), so it is read-only: return a new value instead."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])

    def scribble(g):
        g.data[...] = 100.0

    a.register_hook(scribble)
    with pytest.raises(ValueError, match="read-only"):
        (a + b).sum().backward()
    assert b.grad is None or np.array_equal(b.grad.data, [1.0, 1.0])
