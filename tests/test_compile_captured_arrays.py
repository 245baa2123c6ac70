"""A plain numpy array the compiled function reads through a global or a closure (not an
argument): read at each call, and the backward uses the values of its own call, as eager mode's
private copy (`Function.apply`) does."""

import numpy as np
import pytest

import autograd_nn as ag

A = np.ones(3)


def _scaled_sum(x):
    return (x * A).sum()


def _grad_after_write(fn, create_graph=False):
    A[:] = 1.0
    x = ag.Tensor(np.arange(3.0), requires_grad=True)
    fn(x)  # traces (compiled)
    A[:] = 1.0
    x = ag.Tensor(np.arange(3.0), requires_grad=True)
    y = fn(x)
    A[:] = 5.0  # between the forward and its backward
    if create_graph:
        (g,) = ag.autograd.grad(y, [x], create_graph=True)
        return g.detach().numpy()
    y.backward()
    return x.grad.numpy()


def test_global_array_written_before_backward_first_order():
    eager = _grad_after_write(_scaled_sum)
    compiled = _grad_after_write(ag.compile(_scaled_sum))
    assert np.array_equal(eager, np.ones(3))
    assert np.array_equal(compiled, eager)


def test_global_array_written_before_backward_second_order():
    def cube(x):
        return (x * x * x * A).sum()

    def grad_after_write(fn):
        A[:] = 1.0
        x = ag.Tensor(np.arange(3.0), requires_grad=True)
        fn(x)
        y = fn(x)
        A[:] = 5.0
        (g,) = ag.autograd.grad(y, [x], create_graph=True)
        (h,) = ag.autograd.grad(g.sum(), [x])
        return g.detach().numpy(), h.numpy()

    eager = grad_after_write(cube)
    compiled = grad_after_write(ag.compile(cube))
    assert np.array_equal(eager[0], 3 * np.arange(3.0) ** 2)
    assert np.array_equal(compiled[0], eager[0]) and np.array_equal(compiled[1], eager[1])


def test_closure_array_read_anew_at_each_call():
    B = np.full((2, 2), 2.0)
    f = ag.compile(lambda x: (x @ B).sum())
    x = ag.Tensor(np.eye(2), requires_grad=True)
    assert float(f(x)) == 8.0
    B[:] = 3.0
    y = f(x)
    B[:] = -1.0
    y.backward()
    assert float(y) == 12.0 and np.array_equal(x.grad.numpy(), np.full((2, 2), 6.0))
    assert f.trace_count == 1
    assert "B" in f.source


def test_comparison_mask_from_global_array_in_replay():
    # a mask computed outside the graph from a global array: the replay under create_graph
    # must use the mask of the call, not one recomputed from the array as it is now
    M = np.array([1.0, -1.0, 1.0])

    def fn(x):
        return ag.where(x * 0.0 < M, x * x * x, x).sum()

    def run(g):
        M[:] = [1.0, -1.0, 1.0]
        x = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        g(x)
        y = g(x)
        M[:] = -1.0
        (d,) = ag.autograd.grad(y, [x], create_graph=True)
        (h,) = ag.autograd.grad(d.sum(), [x])
        return d.detach().numpy(), h.numpy()

    eager, compiled = run(fn), run(ag.compile(fn))
    assert np.array_equal(compiled[0], eager[0]) and np.array_equal(compiled[1], eager[1])


def test_argument_that_is_also_a_global_array_is_pinned():
    G = np.full(3, 2.0)

    def fn(x, a):
        return (x * a * G).sum()

    f = ag.compile(fn)
    x = ag.Tensor(np.ones(3), requires_grad=True)
    assert float(f(x, G)) == float(fn(x, G)) == 12.0
    other = np.full(3, 3.0)
    assert float(f(x, other)) == float(fn(x, other)) == 18.0


def test_global_array_reshaped_traces_again():
    C = np.ones(4)
    f = ag.compile(lambda x: (x * C).sum())
    x = ag.Tensor(np.ones(4), requires_grad=True)
    f(x)
    C.shape = (4, 1)
    assert float(f(x)) == 16.0 and f.trace_count == 2


def test_training_step_with_global_array_matches_eager():
    from autograd_nn import nn, optim

    W = np.array([[1.0], [2.0]])

    def make():
        model = nn.Linear(2, 1, rng=0)
        return model, optim.SGD(model.parameters(), lr=0.1)

    def step(model, opt, x):
        opt.zero_grad()
        loss = (model(x) * W.T).sum() ** 2
        loss.backward()
        opt.step()
        return loss

    x = ag.Tensor(np.array([[0.5, -1.0], [2.0, 1.0]]))
    (me, oe), (mc, oc) = make(), make()
    cstep = ag.compile(step)
    for k in range(4):
        W[:] = k + 1.0
        le, lc = step(me, oe, x), cstep(mc, oc, x)
        assert float(le) == float(lc)
    assert np.array_equal(me.weight.numpy(), mc.weight.numpy())


def test_add_alpha_of_a_global_array_is_read_at_each_call():
    # buf.add_(arr, alpha) scaled arr into a plain array while tracing: the compiled function
    # kept adding the traced call's values (12.0 where eager gives 66.0)
    arr = np.array([1.0, 2.0])

    def run(compiled):
        arr[:] = [1.0, 2.0]
        buf = ag.Tensor(np.zeros(2))

        def f(x):
            buf.add_(arr, alpha=2.0)
            return (x * buf).sum()

        fn = ag.compile(f) if compiled else f
        x = ag.Tensor([1.0, 1.0], requires_grad=True)
        first = float(fn(x))
        arr[:] = [10.0, 20.0]
        return first, float(fn(x)), buf.numpy().copy()

    eager = run(False)
    assert eager[:2] == (6.0, 66.0) and np.array_equal(eager[2], [22.0, 44.0])
    compiled = run(True)
    assert compiled[:2] == eager[:2] and np.array_equal(compiled[2], eager[2])


def test_add_alpha_with_an_operand_that_requires_grad_is_refused_as_in_eager():
    # while tracing, the operand was detached before the check, so the graph was cut silently
    w = ag.Tensor([1.0, 1.0], requires_grad=True)
    buf = ag.Tensor(np.zeros(2))

    def f(x):
        buf.add_(w, alpha=2.0)
        return (x * buf).sum()

    x = ag.Tensor([1.0, 1.0], requires_grad=True)
    for fn in (f, ag.compile(f)):
        with pytest.raises(RuntimeError, match="in-place add_ on a tensor that requires grad"):
            fn(x)
        assert np.array_equal(buf.numpy(), [0.0, 0.0])
