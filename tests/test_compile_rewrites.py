"""The exact rewrites of ``compile/rewrite.py`` that change how a line is written (``-x`` for
``np.negative(x)``, ``np.add.reduce(x, None)`` for a sum over every axis, ``x / 1`` as ``x``,
``b[None]`` for a bias broadcast over leading ones) and the driver's inlined tensors: each is
applied where it is exact and not elsewhere, and compiled results equal eager ones bit for bit
(``tobytes``: the sign of a zero and NaNs count)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_nn as ag
from autograd_nn import Tensor, optim


def _bits(a):
    return np.asarray(a).tobytes()


def _forward_source(cf):
    return cf.source.split("def backward")[0]


def _run_both(fn, arrays, calls=3):
    """Eager and compiled (a training step: zero the grads, loss, backward) on copies of the
    same arrays; the losses and gradients of each call, as bytes."""
    results = []
    for compiled in (False, True):
        leaves = [Tensor(a.copy(), requires_grad=True) for a in arrays]

        def step(*xs):
            for x in xs:
                x.grad = None
            loss = fn(*xs)
            loss.backward()
            return loss

        run = ag.compile(step) if compiled else step
        got = []
        with np.errstate(all="ignore"):
            for _ in range(calls):
                loss = run(*leaves)
                got.append([_bits(loss.numpy())] + [_bits(x.grad.numpy()) for x in leaves])
        results.append((got, run))
    return results


def _special(draw_floats, shape, rng):
    a = rng.normal(size=shape)
    flat = a.reshape(-1)
    for i, v in enumerate(draw_floats[: flat.size]):
        flat[i] = v
    return a


_SPECIAL = st.lists(st.sampled_from([0.0, -0.0, 1.0, -1.0, 40.0, -40.0, 1e-300]), max_size=6)


@settings(deadline=None, max_examples=30)
@given(n=st.integers(1, 5), lead=st.integers(1, 2), batch=st.sampled_from([1, 1, 2, 3]),
       specials=_SPECIAL, seed=st.integers(0, 2**16), dtype=st.sampled_from(["float64",
                                                                             "float32"]))
def test_bias_sigmoid_mean_bit_for_bit(n, lead, batch, specials, seed, dtype):
    """``x * w + b`` (b of fewer dimensions, broadcast over leading ones when batch is 1),
    sigmoid (``-z``), a mean (``/ 1`` at one element) and a full sum: compiled = eager."""
    rng = np.random.default_rng(seed)
    xshape = (batch,) * lead + (n,)
    arrays = [_special(specials, xshape, rng).astype(dtype), rng.normal(size=xshape).astype(
        dtype), rng.normal(size=(n,)).astype(dtype)]

    def fn(x, w, b):
        z = x * w + b
        return ag.sigmoid(z).mean() + (0.5 * z * z).sum() - (-z).sum(axis=0).sum()

    (eager, _), (compiled, cf) = _run_both(fn, arrays)
    assert compiled == eager, cf.source
    src = _forward_source(cf)
    assert "np.negative" not in src and "= -" in src, src
    assert ("[None" in src) == (batch == 1), src  # only over leading ones


def test_sums_over_every_axis_are_positional_none_and_only_they():
    """Also: several folded gradients (each sum's is a constant) added onto one input; this
    used to raise an internal Untraceable ("a folded constant changed in place")."""
    x = np.arange(24.0).reshape(2, 3, 4) - 11.5

    def fn(t):
        return t.sum() + t.sum(axis=(0, 1, 2)) + t.sum(axis=(2, 0, 1)) + t.sum(axis=(0, 2)).sum() \
            + t.sum(axis=1, keepdims=True).sum() + t.sum(axis=(0, 1, 2), keepdims=True).sum()

    (eager, _), (compiled, cf) = _run_both(fn, [x])
    assert compiled == eager
    src = _forward_source(cf)
    assert src.count("np.add.reduce(x, None)") == 3, src  # sum(), (0, 1, 2), (2, 0, 1)
    assert "axis=(0, 2)" in src and "keepdims=True" in src, src  # left as they were


def test_division_by_one_is_dropped_only_for_floats():
    def fn(t):
        return (t / 1).sum() + (t * 1).sum() + (t / 1.0).mean() + (t / 2).sum()

    x = np.array([[-0.0, 1.5, -2.25]])
    (eager, _), (compiled, cf) = _run_both(fn, [x])
    assert compiled == eager
    src = _forward_source(cf)
    assert " / 1" not in src and " * 1\n" not in src and "/ c2_0" in src, src


def test_leading_ones_only_where_the_other_operand_has_the_result_shape():
    """(1, 3) + (3,) becomes ``b[None]``; (2, 3) + (3,) and (1, 3) + (2, 1, 3) do not."""
    def fn(a, b, c):
        return (a + b).sum() + (c + b).sum() + (a * c).sum()

    a, b, c = np.ones((1, 3)), np.arange(3.0), np.full((2, 1, 3), -0.0)
    (eager, _), (compiled, cf) = _run_both(fn, [a, b, c])
    assert compiled == eager
    src = _forward_source(cf)
    assert src.count("[None") == 1 and "x + x_1[None]" in src, src


def test_the_drivers_tensors_are_what_from_op_makes():
    """The driver writes ``Tensor._from_op(g, None)`` out inline: its gradients and loss must be
    the same kind of tensor as ``_from_op`` makes (same class, slots, no instance dict)."""
    W = Tensor(np.ones((3, 2)), requires_grad=True)
    x = Tensor(np.ones((4, 3)))
    opt = optim.SGD([W], lr=0.1)

    @ag.compile
    def step(x, W):
        opt.zero_grad()
        loss = (x @ W).sum()
        loss.backward()
        opt.step()
        return loss

    step(x, W)
    loss = step(x, W)
    assert "_new(Tensor)" in step._latest.driver_source
    ref = Tensor._from_op(np.ones(2), None)
    for t in (loss, W.grad):
        assert type(t) is Tensor and vars(t) == vars(ref) == {}
        assert (t._requires_grad, t.grad_fn) == (ref._requires_grad, ref.grad_fn)
        assert not t.requires_grad and t.is_leaf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_distinctness_is_still_checked_where_the_signatures_agree(dtype):
    """Two arguments of one shape and dtype traced as distinct tensors: passing one tensor
    twice must not run the driver (it takes the general path, as eager mode would)."""
    a = Tensor(np.ones(3, dtype), requires_grad=True)
    b = Tensor(np.full(3, 2, dtype), requires_grad=True)

    @ag.compile
    def step(a, b):
        a.grad = None
        b.grad = None
        loss = (a * b).sum()
        loss.backward()
        return loss

    step(a, b)
    step(a, b)
    src = step._latest.driver_source
    assert "len({id(a0), id(a1)}) != 2" in src, src
    a.grad = None
    out = step(a, a)
    assert float(out) == 3.0 and np.array_equal(a.grad.numpy(), np.full(3, 2, dtype))
