"""A global or closure name that the compiled function reads, rebound to another tensor or array
between calls: the compiled call must read the new object, as eager mode does (it traces again)."""

from __future__ import annotations

import numpy as np

import autograd_nn as ag
from autograd_nn import nn, optim

W = ag.Tensor(np.array([1.0, 2.0, 3.0]))
A = np.array([2.0, 2.0, 2.0])


def _uses_globals(x):
    return (x * W * A).sum()


def test_a_rebound_global_tensor_and_array_are_read_anew():
    global W, A
    f = ag.compile(_uses_globals)
    x = ag.Tensor(np.ones(3), requires_grad=True)
    old_w, old_a = W, A
    try:
        assert f(x).item() == _uses_globals(x).item() == 12.0
        W = ag.Tensor(np.array([10.0, 20.0, 30.0]))
        assert f(x).item() == _uses_globals(x).item() == 120.0
        A = np.array([1.0, 0.0, 1.0])
        y = f(x)
        assert y.item() == _uses_globals(x).item() == 40.0
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [10.0, 0.0, 30.0])
        traces = f.trace_count
        W, A = old_w, old_a  # back to the first objects: the first trace fits again
        assert f(x).item() == 12.0
        assert f.trace_count == traces
    finally:
        W, A = old_w, old_a


def test_an_in_place_change_is_not_a_rebinding():
    f = ag.compile(_uses_globals)
    x = ag.Tensor(np.ones(3))
    f(x)
    before = W.numpy().copy()
    try:
        with ag.no_grad():
            W[0] = 7.0
        assert f(x).item() == _uses_globals(x).item()
        assert f.trace_count == 1
    finally:
        W.data = before


def test_a_rebound_closure_tensor_is_read_anew():
    w = ag.Tensor(np.array([1.0, 2.0]))

    def g(x):
        return (x * w).sum()

    f = ag.compile(g)
    x = ag.Tensor(np.ones(2))
    assert f(x).item() == 3.0
    w = ag.Tensor(np.array([5.0, 5.0]))  # noqa: F841 - read by g through its closure
    assert f(x).item() == g(x).item() == 10.0


def test_a_training_step_reading_a_rebound_global_target():
    global TARGET
    TARGET = ag.Tensor(np.zeros((4, 1)))
    model = nn.Linear(3, 1, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    X = ag.Tensor(np.arange(12.0).reshape(4, 3) / 10)

    def step(x):
        opt.zero_grad()
        loss = ((model(x) - TARGET) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    twin = nn.Linear(3, 1, rng=0)
    twin_opt = optim.SGD(twin.parameters(), lr=0.1)
    compiled = ag.compile(step)
    for k in range(6):
        if k == 3:
            TARGET = ag.Tensor(np.ones((4, 1)))
        got = compiled(X).item()
        twin_opt.zero_grad()
        want = ((twin(X) - TARGET) ** 2).mean()
        want.backward()
        twin_opt.step()
        assert got == want.item(), k
    np.testing.assert_array_equal(model.weight.numpy(), twin.weight.numpy())


SCALE = 2.0


def test_a_rebound_global_number_is_read_anew():
    global SCALE

    def g(x):
        return (x * SCALE).sum()

    f = ag.compile(g)
    x = ag.Tensor(np.ones(3))
    try:
        assert f(x).item() == 6.0
        SCALE = 3.0
        assert f(x).item() == g(x).item() == 9.0
    finally:
        SCALE = 2.0


def test_a_name_the_trace_rebinds_itself_does_not_retrace_every_call():
    calls = []

    def g(x):
        calls.append(1)  # Python side effects run while tracing only
        return (x * 2.0).sum()

    f = ag.compile(g)
    x = ag.Tensor(np.ones(3))
    for _ in range(5):
        f(x)
    assert f.trace_count == 1


def test_a_rebound_global_read_by_a_partial_or_a_callable_object():
    import functools

    global W
    old = W

    def h(x, k):
        return (x * W).sum() * k

    class Call:
        def __call__(self, x):
            return (x * W).sum()

    x = ag.Tensor(np.ones(3))
    for fn in (functools.partial(h, k=2.0), Call()):
        f = ag.compile(fn)
        try:
            first = f(x).item()
            W = ag.Tensor(np.array([10.0, 20.0, 30.0]))
            assert f(x).item() == fn(x).item() != first
        finally:
            W = old


def test_an_argument_also_read_as_a_class_attribute_is_pinned():
    w = ag.Tensor(np.array([1.0, 2.0]))

    class K:
        held = w

    def f(x):
        return (x * K.held).sum() + (x * x).sum()

    g = ag.compile(f)
    assert g(w).item() == f(w).item()
    other = ag.Tensor(np.array([3.0, 5.0]))
    assert g(other).item() == f(other).item() == 47.0  # 68.0 before: other read as K.held


def test_an_argument_also_read_as_a_modules_attribute_is_pinned():
    # ``mymodule.w`` was not followed: a later call read its argument where f reads the module's
    # tensor (2.0 where eager gives 5.0)
    import types

    mod = types.ModuleType("user_weights")
    mod.w = ag.Tensor(np.array([2.0, 3.0]))
    mod.scale = np.array([1.0, 2.0])

    def f(x):
        return (x * mod.w).sum() + (x * mod.scale).sum()

    g = ag.compile(f)
    assert g(mod.w).item() == f(mod.w).item() == 2 * 2 + 3 * 3 + 2 * 1 + 3 * 2
    other = ag.Tensor(np.array([1.0, 1.0]))
    assert g(other).item() == f(other).item() == 5.0 + 3.0
    arr = np.array([1.0, 1.0])
    assert g(mod.scale).item() == f(mod.scale).item() == 2.0 + 6.0 + 1.0 + 4.0
    assert g(arr).item() == f(arr).item() == 8.0
