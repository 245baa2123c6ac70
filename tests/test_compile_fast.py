"""The fast paths of ag.compile: the step driver, the exact rewrites (folding, ``@`` as
``.dot``, 0-d constants) and buffer reuse, each checked against eager mode bit for bit, and
never aliasing what a user holds (results of earlier calls, ``.grad`` arrays kept)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from strategies_graphs import programs
from test_compile import _as_function, _check_program

import autograd_nn as ag
from autograd_nn import Tensor, optim
from autograd_nn.compile import buffers


@pytest.fixture
def every_array_reused(monkeypatch):
    """Buffer reuse on every array, however small (it is on large ones only by default)."""
    monkeypatch.setattr(buffers, "MIN_SIZE", 0)


def _step_of(prog):
    fn = _as_function(prog)

    def step(*xs):
        for x in xs:
            x.grad = None
        loss = fn(*xs)
        loss.backward()
        return loss

    return fn, step


def _eager_step(fn, leaves):
    for x in leaves:
        x.grad = None
    loss = fn(*leaves)
    loss.backward()
    return loss.numpy().copy(), [None if x.grad is None else x.grad.numpy().copy()
                                 for x in leaves]


def _check_step(prog, calls=3):
    fn, step = _step_of(prog)
    leaves = [Tensor(prog.inputs[k].copy(), requires_grad=True) for k in sorted(prog.inputs)]
    cf = ag.compile(step)
    kept = []
    with np.errstate(all="ignore"):
        want = _eager_step(fn, leaves)
        for _ in range(calls):
            loss = cf(*leaves)
            kept.append((loss, [x.grad for x in leaves]))  # held: must never change
        for loss, grads in kept:
            assert np.array_equal(loss.numpy(), want[0], equal_nan=True), cf.source
            for g, ge in zip(grads, want[1]):
                assert (g is None and ge is None) or np.array_equal(g.numpy(), ge,
                                                                    equal_nan=True), cf.source
    assert cf.trace_count == 1
    from autograd_nn.compile.driver import MISS

    assert cf._latest.driver is not None and cf._latest.driver(tuple(leaves)) is not MISS
    return cf


@given(programs(max_steps=6))
def test_random_graphs_as_training_steps_bit_for_bit(prog):
    _check_step(prog)


@given(programs(max_steps=6))
def test_random_graphs_with_every_buffer_reused_and_dead_arrays_dropped(prog):
    mp = pytest.MonkeyPatch()
    mp.setattr(buffers, "MIN_SIZE", 0)
    mp.setattr(buffers, "DEL_MIN", 0)  # and every dead array dropped with del
    try:
        _check_step(prog)
        _check_program(prog)
    finally:
        mp.undo()


def _sgd_step(dtype=np.float64, lr=0.1, momentum=0.0):
    rng = np.random.default_rng(3)
    X = Tensor(rng.normal(size=(6, 3)).astype(dtype))
    y = Tensor(rng.normal(size=(6, 1)).astype(dtype))
    W1 = Tensor(rng.normal(size=(3, 4)).astype(dtype), requires_grad=True, name="W1")
    W2 = Tensor(rng.normal(size=(4, 1)).astype(dtype), requires_grad=True, name="W2")
    opt = optim.SGD([W1, W2], lr=lr, momentum=momentum)

    def step(X, y, W1, W2):
        opt.zero_grad()
        yhat = ag.sigmoid(ag.sigmoid(X @ W1) @ W2)
        J = (0.5 * (y - yhat) ** 2).sum()
        J.backward()
        opt.step()
        return J

    return step, (X, y, W1, W2), opt


def _train(compiled, steps=6, change=None, **kw):
    step, args, opt = _sgd_step(**kw)
    fn = ag.compile(step) if compiled else step
    losses, grads = [], []
    for i in range(steps):
        if change is not None:
            change(i, opt, args)
        losses.append(fn(*args))
        grads.append([a.grad for a in args[2:]])
    return ([float(x) for x in losses], [[g.numpy().copy() for g in gs] for gs in grads],
            [a.numpy().copy() for a in args[2:]], fn)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("reuse", [False, True])
def test_compiled_sgd_training_equals_eager_bit_for_bit(dtype, momentum, reuse, monkeypatch):
    if reuse:
        monkeypatch.setattr(buffers, "MIN_SIZE", 0)
    eager = _train(False, dtype=dtype, momentum=momentum)
    compiled = _train(True, dtype=dtype, momentum=momentum)
    assert compiled[0] == eager[0]
    for a, b in zip(compiled[1] + [compiled[2]], eager[1] + [eager[2]]):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert compiled[3]._latest.driver is not None and compiled[3].trace_count == 1


def test_the_driver_runs_and_shows_in_source():
    step, args, _ = _sgd_step()
    cf = ag.compile(step)
    cf(*args)
    assert "def step(args):" in cf._latest.driver_source
    src = cf.source
    assert "@" not in src.split("def update")[0]  # 2-D float matmuls run as .dot
    assert ".dot(" in src and "c1_0" in src


def test_learning_rate_changes_and_hooks_are_followed():
    def change(i, opt, args):
        if i == 2:
            opt.param_groups[0]["lr"] = 0.05
        if i == 4:
            args[2].register_hook(lambda g: g * 2)

    eager = _train(False, change=change)
    compiled = _train(True, change=change)
    assert compiled[0] == eager[0]
    assert all(np.array_equal(x, y) for x, y in zip(compiled[2], eager[2]))
    assert compiled[3].trace_count == 1


def test_the_driver_applies_effects_to_the_tensors_passed(rng):
    def step(x):
        x.grad = None
        loss = (x * x).sum()
        loss.backward()
        return loss

    cf = ag.compile(step)
    xs = [Tensor(rng.normal(size=3), requires_grad=True) for _ in range(3)]
    for _ in range(2):
        for x in xs:
            cf(x)
            assert np.array_equal(x.grad.numpy(), 2 * x.numpy())  # not accumulated
    assert cf.trace_count == 1


def _w4_like(n):
    rng = np.random.default_rng(4)
    leaves = [Tensor(rng.standard_normal(n), requires_grad=True) for _ in range(3)]

    def step(a, b, c):
        for t in (a, b, c):
            t.grad = None
        loss = ag.sigmoid(a * b + c).sum()
        loss.backward()
        return loss

    return step, leaves


def _buffers_of(cf):
    return next(v for k, v in cf._latest.driver.__globals__.items() if k.startswith("_BP"))


def test_large_arrays_reuse_buffers_and_never_overwrite_what_is_held():
    step, leaves = _w4_like(2 * buffers.MIN_SIZE)
    want = _eager_step(lambda a, b, c: ag.sigmoid(a * b + c).sum(), leaves)
    cf = ag.compile(step)
    first = cf(*leaves)
    assert "out=_B[" in cf.source
    pool = _buffers_of(cf)
    kept = [x.grad for x in leaves]  # the user keeps these gradients, and a view of one
    view = kept[0]._data[1:]
    for _ in range(3):
        loss = cf(*leaves)
        assert float(loss) == float(first) == float(want[0])
        assert all(x.grad is not k for x, k in zip(leaves, kept))
        assert not any(x.grad._data is k._data for x, k in zip(leaves, kept))
    for k, ge in zip(kept, want[1]):
        assert np.array_equal(k.numpy(), ge)
    assert np.array_equal(view, want[1][0][1:])
    del kept, view
    cf(*leaves)
    ids = [id(x.grad._data) for x in leaves]  # alive: the pool holds them
    assert all(any(i == id(b) for b in pool) for i in ids)
    cf(*leaves)  # the user dropped them (t.grad = None in the step): written into again
    assert [id(x.grad._data) for x in leaves] == ids
    assert all(np.array_equal(x.grad.numpy(), ge) for x, ge in zip(leaves, want[1]))


@pytest.mark.parametrize("shape", [(4, 5), (1, 7), (6, 1), (16, 33)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dot_is_matmul_on_this_blas(shape, dtype):
    rng = np.random.default_rng(0)
    for k, tr in itertools.product((1, 3, 64), (False, True)):
        a = rng.normal(size=(shape[0], k)).astype(dtype)
        b = rng.normal(size=(k, shape[1])).astype(dtype)
        if tr:
            a = np.ascontiguousarray(a.T).T
        assert np.array_equal(a @ b, a.dot(b))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalar_constants_keep_numpys_promotion(dtype):
    x = Tensor(np.linspace(-3, 3, 12).astype(dtype).reshape(3, 4), requires_grad=True)

    def f(x):
        return (0.5 * ag.sigmoid(x) * 3 + 1 - x / 2 + 0.1 * x).sum()

    cf = ag.compile(f)
    cf(x)
    out = cf(x)
    ref = f(x)
    assert out.dtype == ref.dtype == dtype and float(out) == float(ref)
    out.backward()
    g = x.grad.numpy().copy()
    x.grad = None
    ref.backward()
    assert np.array_equal(g, x.grad.numpy())
