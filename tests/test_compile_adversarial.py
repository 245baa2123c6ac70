"""Adversarial tests of ``ag.compile`` on plain functions, part 1: the safety net for
optimisations of the generated code (buffer reuse, constant folding, cheaper guards) --
aliasing between calls' results, views, the same tensor in two places, mutable state the
compiled code must read afresh, and the signature (static arguments, dtypes, the cache bound).

The oracle is always the same function run eagerly (uncompiled), float64 central differences
(tests/fd_oracle.py) or a hand derivation -- never the compiled code's own output. Values are
compared to 1e-12 relative (the issue's bound where the compiler fuses or reorders).
Bugs found on today's code are kept as ``xfail(strict=True, reason="BUG: ...")`` tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from compile_adversarial_helpers import close, grads_after
from fd_oracle import fd_gradients
from hypothesis import given
from hypothesis import strategies as st

import autograd_nn as ag
from autograd_nn import Tensor
from autograd_nn.nn import functional as F


def mlp(x, W1, b1, W2):
    h = ag.tanh(x @ W1 + b1)
    return ((h @ W2) ** 2).mean() + ag.logsumexp(h, axis=1).sum()


def mlp_np(x, W1, b1, W2):  # the oracle's numpy version of mlp
    h = np.tanh(x @ W1 + b1)
    m = h.max(axis=1, keepdims=True)
    return ((h @ W2) ** 2).mean() + (np.log(np.exp(h - m).sum(axis=1)) + m[:, 0]).sum()


def weights(seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=s), requires_grad=True) for s in ((3, 5), (5,), (5, 2))]


def batches(n, seed=1, shape=(4, 3)):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=shape), requires_grad=True) for _ in range(n)]


# ---- aliasing and buffer reuse: every result keeps its own value --------------------------------
def test_outputs_of_successive_calls_keep_their_own_values():
    W1, b1, W2 = weights()
    cf = ag.compile(lambda x, W1, b1, W2: ag.tanh(x @ W1 + b1) @ W2)
    xs = batches(5)
    outs = [cf(x, W1, b1, W2) for x in xs]
    arrays = [o.numpy() for o in outs]  # references, not copies
    for x, o, a in zip(xs, outs, arrays):
        want = np.tanh(x.numpy() @ W1.numpy() + b1.numpy()) @ W2.numpy()
        close(o.numpy(), want)
        close(a, want)
    assert cf.trace_count == 1


def test_scalar_outputs_of_successive_calls_keep_their_own_values():
    W1, b1, W2 = weights()
    cf = ag.compile(mlp)
    xs = batches(4)
    outs = [cf(x, W1, b1, W2) for x in xs]
    for x, o in zip(xs, outs):
        close(o.numpy(), np.asarray(mlp_np(x.numpy(), W1.numpy(), b1.numpy(), W2.numpy())))


def test_gradients_of_successive_backwards_keep_their_own_arrays():
    W1, b1, W2 = weights()
    cf = ag.compile(mlp)
    xs = batches(4)
    kept = []
    for x in xs:
        W1.grad = b1.grad = W2.grad = None
        cf(x, W1, b1, W2).backward()
        kept.append((x.grad.numpy(), W1.grad.numpy(), b1.grad.numpy(), W2.grad))
    for x, (gx, gW1, gb1, gW2) in zip(xs, kept):
        _, want = grads_after(mlp, (x, W1, b1, W2), [x, W1, b1, W2])
        for got, w in zip((gx, gW1, gb1, gW2.numpy()), want):
            close(got, w)


def test_backward_of_earlier_outputs_after_later_calls_uses_their_own_saved_arrays():
    W1, b1, W2 = weights()
    cf = ag.compile(mlp)
    xs = batches(3, seed=7)
    outs = [cf(x, W1, b1, W2) for x in xs]
    for o in reversed(outs):  # backward in the opposite order
        o.backward()
    args = [W1.numpy(), b1.numpy(), W2.numpy()]
    for x in xs:
        (want,) = fd_gradients(lambda a: mlp_np(a, *args), [x.numpy()])
        np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6, atol=1e-8)
    fd = [fd_gradients(lambda W1_, b1_, W2_, x=x: mlp_np(x.numpy(), W1_, b1_, W2_), args)
          for x in xs]
    for k, p in enumerate((W1, b1, W2)):
        np.testing.assert_allclose(p.grad.numpy(), sum(f[k] for f in fd), rtol=1e-6, atol=1e-8)


NEW_ARRAY_FUNCTIONS = {
    "x*1": lambda x: x * 1.0, "x+0": lambda x: x + 0.0, "x-0": lambda x: x - 0.0,
    "x/1": lambda x: x / 1.0, "x**1": lambda x: x ** 1, "neg neg": lambda x: -x.__neg__(),
    "detach*1": lambda x: x.detach() * 1.0, "reshape": lambda x: x.reshape(x.shape),
    "T.T": lambda x: x.T.T, "slice": lambda x: x[:], "identity": lambda x: x,
    "relu-of-positive": lambda x: F.relu(x), "sum-keepdims-1axis": lambda x: x.sum(axis=0) * 1,
}


@pytest.mark.parametrize("name", sorted(NEW_ARRAY_FUNCTIONS))
def test_outputs_share_memory_with_inputs_exactly_when_eager_outputs_do(name):
    f = NEW_ARRAY_FUNCTIONS[name]
    x = Tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    cf = ag.compile(f)
    cf(x)
    got, want = cf(x), f(x)
    shares, eager_shares = (np.shares_memory(t.numpy(), x.numpy()) for t in (got, want))
    if want is x:  # eager returns the input itself; a compiled copy of it is also safe
        assert got is not x
    else:
        assert shares == eager_shares
    before = x.numpy().copy()
    if not np.shares_memory(want.numpy(), x.numpy()):
        with ag.no_grad():
            got.add_(100.0)  # writing into the compiled output must leave the input alone
        assert np.array_equal(x.numpy(), before)
        close(f(x).numpy(), want.numpy())


VIEW_FUNCTIONS = {"slice": lambda x: x[:, 1:], "reshape": lambda x: x.reshape(3, 2),
                  "transpose": lambda x: x.T, "identity": lambda x: x}
COMPILED_VIEWS = sorted(set(VIEW_FUNCTIONS) - {"identity"})  # identity: a copy (test below)


def _square_then_modify_input(fn):
    """y = fn(x) (a view of x); z = sum(y * y) saves y; x changes in place; z.backward()."""
    x = Tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    y = fn(x)
    z = (y * y).sum()
    with ag.no_grad():
        x.add_(1.0)
    z.backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", sorted(VIEW_FUNCTIONS))
def test_eager_view_outputs_share_the_inputs_version_counter(name):
    with pytest.raises(RuntimeError, match="modified in place"):
        _square_then_modify_input(VIEW_FUNCTIONS[name])


@pytest.mark.parametrize("name", COMPILED_VIEWS)
def test_compiled_view_outputs_share_the_inputs_version_counter(name):
    cf = ag.compile(VIEW_FUNCTIONS[name])
    cf(Tensor(np.zeros((2, 3)), requires_grad=True))
    with pytest.raises(RuntimeError, match="modified in place"):
        _square_then_modify_input(cf)


def test_a_compiled_identity_returns_a_copy_that_cannot_go_stale():
    """Eager mode returns the input itself; the compiled node returns a copy of its array, so
    an in-place change of the input afterwards leaves the result, and its gradient, alone."""
    cf = ag.compile(lambda x: x)
    x = Tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    cf(x)
    y = cf(x)
    assert not np.shares_memory(y.numpy(), x.numpy())
    z = (y * y).sum()
    with ag.no_grad():
        x.add_(1.0)
    z.backward()
    close(x.grad.numpy(), 2.0 * np.arange(1.0, 7.0).reshape(2, 3))  # d/dx of sum(x0 * x0)


def test_writing_into_a_compiled_view_output_is_seen_by_graphs_that_saved_the_input():
    cf = ag.compile(lambda x: x[:])
    x = Tensor(np.arange(1.0, 4.0))
    cf(x)
    v = cf(x)
    w = Tensor(np.ones(3), requires_grad=True)
    z = (x * w).sum()  # saves x for w's gradient: [1, 2, 3]
    with ag.no_grad():
        v.mul_(10.0)
    try:
        z.backward()
    except RuntimeError as e:  # what eager mode does
        assert "modified in place" in str(e)
    else:
        close(w.grad.numpy(), np.array([1.0, 2.0, 3.0]))


# ---- the same tensor in two places -----------------------------------------------------------
def _pair(a, b):
    return (a * b + ag.tanh(a) - b * b).sum()


def test_same_tensor_as_two_arguments_then_different_ones_then_swapped():
    rng = np.random.default_rng(3)
    a = Tensor(rng.normal(size=4), requires_grad=True)
    b = Tensor(rng.normal(size=4), requires_grad=True)
    cf = ag.compile(_pair)
    for args in [(a, a), (a, a), (a, b), (b, a), (a, a), (b, b), (a, b)]:
        got = grads_after(cf, args, [a, b])
        want = grads_after(_pair, args, [a, b])
        close(got[0], want[0])
        for g, w in zip(got[1], want[1]):
            assert (g is None) == (w is None)
            if g is not None:
                close(g, w)


def test_an_argument_that_is_also_a_captured_tensor():
    rng = np.random.default_rng(4)
    W = Tensor(rng.normal(size=3), requires_grad=True)
    V = Tensor(rng.normal(size=3), requires_grad=True)

    def f(a):
        return (a * W + ag.exp(W)).sum()

    cf = ag.compile(f)
    for arg in (V, V, W, V, W):  # traced with V; then W: the argument is the captured tensor
        got = grads_after(cf, (arg,), [V, W])
        want = grads_after(f, (arg,), [V, W])
        close(got[0], want[0])
        for g, w in zip(got[1], want[1]):
            assert (g is None) == (w is None)
            if g is not None:
                close(g, w)


# ---- what the compiled code must read afresh on every call (no folding of mutable state) ------
def test_a_global_numpy_array_changed_in_place_is_read_afresh():
    c = np.array([1.0, 2.0, 3.0])

    def f(x):
        return (x * c + c).sum()

    cf = ag.compile(f)
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    cf(x)
    cf(x)
    c[:] = [5.0, -4.0, 0.25]
    got = grads_after(cf, (x,), [x])
    close(got[0], np.asarray((x.numpy() * c + c).sum()))
    close(got[1][0], c.copy())


def test_a_captured_constant_tensor_changed_in_place_or_rebound_is_read_afresh():
    c = Tensor(np.array([1.0, 2.0, 3.0]))

    def f(x):
        return (x * c).sum() * 2.0

    cf = ag.compile(f)
    x = Tensor(np.array([1.0, 1.0, 2.0]), requires_grad=True)
    cf(x)
    cf(x)
    with ag.no_grad():
        c.mul_(3.0)
    close(cf(x).numpy(), np.asarray(2.0 * (x.numpy() * [3.0, 6.0, 9.0]).sum()))
    c.data = np.array([0.5, 0.25, -1.0])  # same shape, another array
    got = grads_after(cf, (x,), [x])
    close(got[0], np.asarray(2.0 * (x.numpy() * c.numpy()).sum()))
    close(got[1][0], 2.0 * c.numpy())
    c.data = np.array([0.5, 0.25, -1.0], dtype=np.float32)  # another dtype: a new signature
    close(cf(x).numpy(), f(x).numpy())


def test_a_captured_parameter_changed_in_shape_is_traced_again():
    W = Tensor(np.ones((3, 2)), requires_grad=True)
    cf = ag.compile(lambda x: ag.sigmoid(x @ W).sum())
    x3, x4 = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))
    cf(x3)
    cf(x3)
    W.data = np.full((4, 2), 0.5)
    got = grads_after(cf, (x4,), [W])
    s = 1 / (1 + np.exp(-2.0))  # every entry of x @ W is 4 * 0.5
    close(got[0], np.asarray(4 * s))  # four entries
    close(got[1][0], np.full((4, 2), 2 * s * (1 - s)))


def test_array_arguments_changed_in_place_between_calls_are_read_afresh():
    def f(x, a):
        return (x * a).sum()

    cf = ag.compile(f)
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    a = np.array([1.0, 1.0, 1.0])
    cf(x, a)
    cf(x, a)
    a[1] = 10.0
    got = grads_after(cf, (x, a), [x])
    close(got[0], np.asarray(24.0))
    close(got[1][0], np.array([1.0, 10.0, 1.0]))


# ---- the signature: static Python arguments, dtypes, requires_grad ----------------------------
def test_negative_zero_static_argument_is_not_positive_zero():
    def f(x, k):
        return (x / k).sum()

    cf = ag.compile(f)
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        cf(x, 0.0)
        cf(x, 0.0)
        assert float(cf(x, -0.0)) == float(f(x, -0.0)) == -np.inf


@pytest.mark.parametrize("zero", [np.float32(0.0), 0j])
def test_negative_zero_of_numpy_and_complex_static_arguments(zero):
    cf = ag.compile(lambda x, k: x * k.real)
    x = Tensor(np.array([1.0]))
    cf(x, zero)
    assert cf(x, -zero).numpy()[0] == 0 and np.signbit(cf(x, -zero).numpy()[0])
    assert cf.trace_count == 2


def test_a_nan_static_argument_is_traced_once():
    cf = ag.compile(lambda x, k: x * k)
    x = Tensor(np.array([1.0, 2.0]))
    for k in [float("nan"), float("nan"), np.float64("nan")]:
        assert np.isnan(cf(x, k).numpy()).all()
    assert cf.trace_count == 2  # float and np.float64 are different static types


@pytest.mark.parametrize("k", [2, 2.0, True, np.float64(2.0), np.float32(0.5), (1, 2)])
def test_static_arguments_of_equal_value_and_other_types_give_eager_results(k):
    def f(x, k):
        scale = k[0] + k[1] if isinstance(k, tuple) else k
        return (x * scale).sum() + (x ** 2).sum() * scale

    cf = ag.compile(f)
    x = Tensor(np.array([0.5, -1.5]), requires_grad=True)
    for other in (2, 2.0, True, np.float64(2.0), (1, 2)):  # each traces, some compare equal
        cf(x, other)
    got = grads_after(cf, (x, k), [x])
    want = grads_after(f, (x, k), [x])
    close(got[0], want[0])
    close(got[1][0], want[1][0])


def test_float32_and_float64_inputs_keep_their_dtypes():
    def f(x, w):
        return (ag.tanh(x * w) * 3.0).sum()

    cf = ag.compile(f)
    for dt in (np.float32, np.float64, np.float32):
        x = Tensor(np.array([0.1, 0.2, 0.3], dtype=dt), requires_grad=True)
        w = Tensor(np.array([1.0, -2.0, 0.5], dtype=dt), requires_grad=True)
        cf(x, w)
        got = grads_after(cf, (x, w), [x, w])
        want = grads_after(f, (x, w), [x, w])
        rtol = 1e-6 if dt is np.float32 else 1e-12
        close(got[0], want[0], rtol)
        for g, e in zip(got[1], want[1]):
            close(g, e, rtol)
    assert cf.trace_count == 2


def test_zero_dim_empty_and_broadcast_inputs():
    def f(s, e, col, row):
        return (s * col * row).sum() + (e * 2.0).sum() + ag.exp(s)

    cf = ag.compile(f)
    rng = np.random.default_rng(5)
    for _ in range(3):
        s = Tensor(np.array(rng.normal()), requires_grad=True)
        e = Tensor(np.zeros((0, 3)), requires_grad=True)
        col = Tensor(rng.normal(size=(3, 1)), requires_grad=True)
        row = Tensor(rng.normal(size=(1, 4)), requires_grad=True)
        args = (s, e, col, row)
        got = grads_after(cf, args, list(args))
        want = grads_after(f, args, list(args))
        close(got[0], want[0])
        for g, w in zip(got[1], want[1]):
            close(g, w)
    assert cf.trace_count == 1


SIGNATURES = st.tuples(st.sampled_from([(2, 3), (3, 3), (3,)]),
                       st.sampled_from([np.float64, np.float32]), st.booleans(),
                       st.sampled_from([1.0, 2.0, -0.5]))


@given(st.lists(SIGNATURES, min_size=1, max_size=8), st.integers(1, 4))
def test_call_sequences_over_signatures_give_eager_results_within_the_cache_bound(calls, bound):
    def f(x, w, k):
        return (ag.sigmoid(x * w) * k + w).sum()

    cf = ag.compile(f, max_traces=bound)
    big = ag.compile(f, max_traces=64)
    rng = np.random.default_rng(len(calls))
    for shape, dtype, x_grad, k in calls:
        x = Tensor(rng.normal(size=shape).astype(dtype), requires_grad=x_grad)
        w = Tensor(rng.normal(size=shape[-1:]).astype(dtype), requires_grad=True)
        want = grads_after(f, (x, w, k), [x, w])
        rtol = 1e-6 if dtype is np.float32 else 1e-12
        for fn in (cf, big):
            got = grads_after(fn, (x, w, k), [x, w])
            close(got[0], want[0], rtol)
            for g, e in zip(got[1], want[1]):
                assert (g is None) == (e is None)
                if g is not None:
                    close(g, e, rtol)
        assert sum(map(len, cf._cache.values())) <= bound
    distinct = len({(s, d, r, k) for s, d, r, k in calls})
    assert big.trace_count == distinct
    assert distinct <= cf.trace_count <= len(calls)


def test_trace_cache_evicts_the_least_recently_used_and_retraces_it():
    cf = ag.compile(lambda x: (x * 2.0).sum(), max_traces=2)
    a, b, c = (Tensor(np.ones(n), requires_grad=True) for n in (1, 2, 3))
    for t in (a, b, a, c):  # c evicts b (a was used more recently)
        cf(t)
    assert cf.trace_count == 3
    cf(a)
    assert cf.trace_count == 3
    cf(b)
    assert cf.trace_count == 4
    for t in (a, b, c):
        assert float(cf(t)) == 2.0 * t.shape[0]


def test_an_argument_traced_as_the_global_it_also_is():
    """Traced with the argument being the global the function also reads: a call with another
    tensor there must not read it where the function reads the global."""
    rng = np.random.default_rng(5)
    W = Tensor(rng.normal(size=3), requires_grad=True)
    V = Tensor(rng.normal(size=3), requires_grad=True)

    def f(a, b):
        return (ag.sin(a * b) * W).sum() + (a * W * W).sum()

    cf = ag.compile(f)
    for args in ((V, W), (V, W), (W, V), (V, W), (W, V)):
        got = grads_after(cf, args, [V, W])
        want = grads_after(f, args, [V, W])
        close(got[0], want[0])
        for g, w in zip(got[1], want[1]):
            close(g, w)

    opt = ag.optim.SGD([W], lr=0.1)

    def step(a):
        opt.zero_grad()
        loss = (a * W).sum()
        loss.backward()
        opt.step()
        return loss

    cs = ag.compile(step)
    twin_W, twin_V = W.numpy().copy(), V.numpy().copy()
    for a in (W, W, V, V, W):
        want = float(a.numpy() @ W.numpy())  # the loss, before the step moves W
        assert float(cs(a)) == want
    assert not np.array_equal(W.numpy(), twin_W) and np.array_equal(V.numpy(), twin_V)
