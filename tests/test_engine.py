"""The reverse-mode engine: topologies (fan-out, diamonds, reuse, shared weights, a 1,000,000-deep
chain), accumulation, retain_grad, grad mode (no_grad / enable_grad, thread-local), detach,
retain_graph, create_graph and the checks on backward's arguments. Expected values are
analytic or central differences of plain numpy expressions."""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pytest
from fd_oracle import assert_grads_match, fd_gradients

import autograd_nn as ag


def leaf(x) -> ag.Tensor:
    return ag.Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


X = np.array([0.3, -1.2, 2.0])


# ---- topologies ---------------------------------------------------------------------------------
def test_fan_out_sums_the_branches():
    x = leaf(X)
    (ag.sin(x) + ag.exp(x) + x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.cos(X) + np.exp(X) + 3.0, rtol=1e-14)


def test_diamond():
    x = leaf(X)
    a = x * 2.0
    b = x**2
    (a * b).sum().backward()  # 2x * x^2 = 2x^3
    np.testing.assert_allclose(x.grad.data, 6 * X**2, rtol=1e-14)


def test_nested_diamonds_against_finite_differences():
    def f_np(x):
        a = np.tanh(x)
        b, c = a * x, a + 1.0
        d = b * c + np.sin(b)
        return np.sum(d * c)

    x = leaf(X)
    a = ag.tanh(x)
    b, c = a * x, a + 1.0
    d = b * c + ag.sin(b)
    (d * c).sum().backward()
    assert_grads_match([x.grad.data], fd_gradients(f_np, [X]))


def test_reused_non_leaf():
    x = leaf(X)
    h = ag.tanh(x)
    (h * h + h).sum().backward()
    t = np.tanh(X)
    np.testing.assert_allclose(x.grad.data, (2 * t + 1) * (1 - t**2), rtol=1e-14)


def test_x_times_x():
    x = leaf(X)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * X, rtol=1e-15)
    y = leaf([3.0])
    (y * y * y).backward()
    np.testing.assert_allclose(y.grad.data, [27.0])


def test_shared_weights_in_two_layers():
    rng = np.random.default_rng(0)
    W0, v0 = rng.standard_normal((3, 3)), rng.standard_normal(3)
    W, v = leaf(W0), leaf(v0)
    ag.sum(ag.tanh(W @ ag.tanh(W @ v))).backward()
    want = fd_gradients(lambda w, u: np.sum(np.tanh(w @ np.tanh(w @ u))), [W0, v0])
    assert_grads_match([W.grad.data, v.grad.data], want)


def test_operand_used_on_both_sides_with_broadcasting():
    x = leaf([[1.0, 2.0, 3.0]])
    y = x + x.T  # (1,3) + (3,1) -> (3,3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[6.0, 6.0, 6.0]])


def test_million_deep_chain_runs_without_recursion(monkeypatch):
    """1,000,000 elementwise ops, backward without RecursionError and without touching the
    recursion limit (setting it raises here)."""
    limit = sys.getrecursionlimit()

    def refuse(n):
        raise AssertionError("the engine changed the recursion limit")

    monkeypatch.setattr(sys, "setrecursionlimit", refuse)
    a = 1.0000001
    x = leaf([0.5])
    gc.disable()  # the cyclic collector re-scanning a million live nodes would triple the time
    try:
        y = x
        for _ in range(500_000):
            y = y * a
            y = y + 1e-7
        y.backward()
    finally:
        gc.enable()
    # y = a^n x + const, so dy/dx = a^n
    np.testing.assert_allclose(x.grad.data, [a**500_000], rtol=1e-9)
    assert sys.getrecursionlimit() == limit
    del y  # freeing the chain must not recurse either


# ---- accumulation and retained grads ------------------------------------------------------------
def test_leaf_grad_accumulates_across_backward_calls():
    x = leaf(X)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 4 * X)
    (3.0 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 4 * X + 3)
    x.grad = None
    (3.0 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0, 3.0])


def test_seed_array_is_not_aliased_into_grad():
    x = leaf(X)
    seed = np.ones(3)
    (x * 1.0).backward(seed)
    (x * 1.0).backward(seed)
    np.testing.assert_array_equal(seed, np.ones(3))
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


def test_non_leaf_grads_only_with_retain_grad():
    x = leaf(X)
    h = x * 2.0
    k = h * 3.0
    k.retain_grad()
    (k * h).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad.data, 2 * X)  # d(k h)/dk = h
    np.testing.assert_allclose(x.grad.data, 24 * X)  # k h = 3 (2x)^2 = 12 x^2
    assert x.is_leaf and not h.is_leaf and h.grad_fn is not None


def test_grads_of_inputs_are_returned_without_touching_grad():
    x, y = leaf(X), leaf([1.0, 2.0, 3.0])
    gx, gy = ag.autograd.grad((x * y).sum(), [x, y])
    np.testing.assert_allclose(gx.data, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(gy.data, X)
    assert x.grad is None and y.grad is None
    z = leaf([1.0])
    with pytest.raises(ValueError, match="allow_unused"):
        ag.autograd.grad((x * 2).sum(), [x, z])
    assert ag.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None


# ---- grad mode ----------------------------------------------------------------------------------
def test_no_grad_context_records_nothing():
    x = leaf(X)
    with ag.no_grad():
        y = x * 2.0 + ag.exp(x)
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_allclose(y.data, 2 * X + np.exp(X))
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_decorator_and_enable_grad_inside():
    x = leaf(X)

    @ag.no_grad()
    def f(t):
        inner = t * 2.0
        with ag.enable_grad():
            kept = t * 3.0
        return inner, kept

    inner, kept = f(x)
    assert not inner.requires_grad
    assert kept.requires_grad
    kept.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0, 3.0])
    with ag.set_grad_enabled(False):
        assert not (x * 1.0).requires_grad
    assert (x * 1.0).requires_grad


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with ag.no_grad():
            raise ZeroDivisionError
    assert ag.is_grad_enabled()


def test_no_grad_is_thread_local():
    x = leaf(X)
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def other_thread():
        inside.wait(5)
        seen["other"] = (x * 2.0).requires_grad
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with ag.no_grad():
        inside.set()
        done.wait(5)
        seen["main"] = (x * 2.0).requires_grad
    worker.join()
    assert seen == {"other": True, "main": False}


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf(X)
    d = x.detach()
    assert d.is_leaf and not d.requires_grad
    assert np.shares_memory(d.data, x.data)
    (x * 2.0 + d * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0, 2.0])
    y = ag.exp(x)
    z = y.detach() * y  # the detached factor is a constant
    x.grad = None
    z.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(2 * X))


# ---- retain_graph and create_graph --------------------------------------------------------------
def test_second_backward_without_retain_graph_names_it():
    x = leaf(X)
    y = (ag.exp(x) * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_allclose(x.grad.data, np.exp(X) * (1 + X))  # unchanged by the failure


def test_retain_graph_allows_a_second_backward():
    x = leaf(X)
    y = (ag.exp(x) * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(X) * (1 + X))


def test_part_of_a_graph_shared_by_two_outputs():
    x = leaf(X)
    h = ag.sin(x)
    a, b = (h * 2.0).sum(), (h * h).sum()
    a.backward(retain_graph=True)
    b.backward()
    np.testing.assert_allclose(x.grad.data, np.cos(X) * (2 + 2 * np.sin(X)))


def test_create_graph_gives_grad_of_grad():
    x = leaf(X)
    (g,) = ag.autograd.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = ag.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * X)
    (gx,) = ag.autograd.grad((x**3).sum(), x)  # first order only: no graph
    assert not gx.requires_grad and gx.grad_fn is None


def test_multiple_roots_in_one_pass():
    x = leaf(X)
    a, b = x * 2.0, x**2
    ag.autograd.backward([a.sum(), b], [None, np.ones(3)])
    np.testing.assert_allclose(x.grad.data, 2 + 2 * X)


# ---- backward's arguments -----------------------------------------------------------------------
def test_backward_of_non_scalar_needs_a_gradient_of_its_shape():
    y = leaf(np.ones((2, 3))) * 2.0
    with pytest.raises(RuntimeError) as e:
        y.backward()
    msg = str(e.value)
    assert "(2, 3)" in msg and "gradient" in msg


def test_backward_with_wrong_gradient_shape_names_both_shapes():
    x = leaf(np.ones((2, 3)))
    y = x * 2.0
    with pytest.raises(ValueError) as e:
        y.backward(np.ones((3, 2)))
    assert "(3, 2)" in str(e.value) and "(2, 3)" in str(e.value)
    assert x.grad is None
    y.backward(np.ones((2, 3)))  # the failed call released nothing
    np.testing.assert_allclose(x.grad.data, np.full((2, 3), 2.0))


def test_backward_with_wrong_gradient_dtype_names_both_dtypes():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(TypeError) as e:
        y.backward(np.ones(2, dtype=np.float32))
    assert "float32" in str(e.value) and "float64" in str(e.value)
    with pytest.raises(TypeError, match="int64"):
        y.backward(np.ones(2, dtype=np.int64))


def test_backward_on_a_tensor_that_does_not_require_grad():
    for t in (ag.Tensor([1.0, 2.0]).sum(), ag.Tensor(3.0)):
        with pytest.raises(RuntimeError, match="does not require grad"):
            t.backward()


def test_backward_of_a_scalar_accepts_a_python_number_as_gradient():
    x = leaf(X)
    (x * x).sum().backward(2.0)
    np.testing.assert_allclose(x.grad.data, 4 * X)


# ---- in-place changes of saved arrays -----------------------------------------------------------
def test_in_place_change_of_a_saved_operand_is_caught():
    x = leaf(X)
    c = ag.Tensor([1.0, 2.0, 3.0])
    y = (x * c).sum()
    c.mul_(2.0)
    with pytest.raises(RuntimeError, match="in place"):
        y.backward()


def test_in_place_ops_on_a_tensor_requiring_grad_are_refused():
    x = leaf(X)
    with pytest.raises(RuntimeError, match="no_grad"):
        x.add_(1.0)
    np.testing.assert_array_equal(x.data, X)
    with ag.no_grad():
        x.add_(1.0)
    np.testing.assert_allclose(x.data, X + 1)


def test_hook_sees_and_can_replace_the_gradient():
    x = leaf(X)
    h = x * 2.0
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    handle = x.register_hook(lambda g: g * 10.0)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], np.ones(3))
    np.testing.assert_allclose(x.grad.data, np.full(3, 20.0))
    handle.remove()
    x.grad = None
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 2.0))


# ---- regressions: duplicate roots, retained grads, Python-number seeds ------------------------
def test_root_listed_twice_contributes_twice():
    x = leaf(X)
    y = (x * x).sum()
    ag.autograd.backward([y, y])
    assert x.grad is not None
    np.testing.assert_allclose(x.grad.data, 4 * X)  # as torch.autograd.backward([y, y])


def test_grad_of_an_output_listed_twice():
    x = leaf(X)
    y = (x * x).sum()
    (g,) = ag.autograd.grad([y, y], [x])
    np.testing.assert_allclose(g.data, 4 * X)


def test_retained_non_leaf_grad_accumulates_like_a_leaf():
    x = leaf(X)
    h = x * 2.0
    h.retain_grad()
    y = (h * h).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * 8 * X)
    np.testing.assert_allclose(h.grad.data, 2 * 2 * (2 * X))


def test_python_float_seed_takes_the_output_dtype():
    x = ag.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    (x * 2.0).sum().backward(1.0)
    assert x.grad.dtype == np.float32
