"""Every op of the table: forward vs numpy, backward vs central finite differences (float64),
on fixed shapes and on hypothesis-drawn broadcastable shapes; conventions at kinks; stability."""

from __future__ import annotations

import warnings

import numpy as np
import numpy_op_table
import pytest
from core_op_table import (
    BROADCAST_CASES,
    CASES,
    REDUCTIONS,
    STD,
    OpCase,
    as_list,
    cotangents,
    draw_inputs,
    engine_grads,
    grid,
    leaves,
    nonzero,
    oracle_loss,
    uniform,
)
from fd_oracle import assert_grads_match, fd_gradients
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    broadcastable_shape_pairs,
    float_arrays,
    indices,
    matmul_shape_pairs,
    seeds,
    shapes,
    shapes_and_axes,
)

import autograd_nn as ag

CASES = CASES + numpy_op_table.CASES  # the core table and the numpy surface's
BROADCAST_CASES = {**BROADCAST_CASES, **numpy_op_table.BROADCAST_CASES}


def check_forward(c: OpCase, xs: list, consts: dict) -> None:
    ts = leaves(xs)
    outs = as_list(c.fn(*ts, **consts))
    refs = as_list(c.ref(*xs, **consts))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert isinstance(o, ag.Tensor), f"{c.id} returned {type(o).__name__}"
        r = np.asarray(r)
        assert o.shape == r.shape, f"{c.id}: shape {o.shape}, numpy gives {r.shape}"
        assert o.dtype == np.float64
        np.testing.assert_allclose(o.data, r, rtol=1e-12, atol=1e-12)
        assert o.requires_grad and o.grad_fn is not None


def check_backward(c: OpCase, xs: list, consts: dict, rng: np.random.Generator) -> None:
    before = [x.copy() for x in xs]
    ws = cotangents(c, xs, consts, rng)
    got = engine_grads(c, xs, consts, ws)
    for x, b in zip(xs, before):
        np.testing.assert_array_equal(x, b, err_msg="the op changed its input")
    want = fd_gradients(oracle_loss(c, consts, ws), xs)
    assert_grads_match(got, want, what=c.id)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_forward_matches_numpy(c: OpCase) -> None:
    xs, consts = draw_inputs(c, np.random.default_rng(0))
    check_forward(c, xs, consts)


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_backward_matches_finite_differences(c: OpCase) -> None:
    rng = np.random.default_rng(1)
    xs, consts = draw_inputs(c, rng)
    check_backward(c, xs, consts, rng)


@pytest.mark.parametrize("c", CASES[::7], ids=lambda c: c.id)
def test_graph_released_after_backward(c: OpCase) -> None:
    """A second backward through the same graph names retain_graph (saved arrays are freed)."""
    rng = np.random.default_rng(2)
    xs, consts = draw_inputs(c, rng)
    outs = as_list(c.fn(*leaves(xs), **consts))
    ws = cotangents(c, xs, consts, rng)
    ag.autograd.backward(outs, ws)
    with pytest.raises(RuntimeError, match="retain_graph"):
        ag.autograd.backward(outs, ws)


@pytest.mark.parametrize("name", sorted(BROADCAST_CASES))
@given(pair=broadcastable_shape_pairs(), seed=seeds())
def test_binary_ops_on_drawn_broadcast_shapes(name: str, pair: tuple, seed: int) -> None:
    c = BROADCAST_CASES[name]
    rng = np.random.default_rng(seed)
    xs, consts = draw_inputs(c, rng, pair)
    check_forward(c, xs, consts)
    check_backward(c, xs, consts, rng)


MATMUL = OpCase("matmul", lambda x, y: x @ y, np.matmul, (), (STD, STD))


@given(pair=matmul_shape_pairs(), seed=seeds())
def test_matmul_on_drawn_shapes(pair: tuple, seed: int) -> None:
    rng = np.random.default_rng(seed)
    xs, consts = draw_inputs(MATMUL, rng, pair)
    check_forward(MATMUL, xs, consts)
    check_backward(MATMUL, xs, consts, rng)


@pytest.mark.parametrize("name,f,ref,dom", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@given(shape_axis=shapes_and_axes(), keepdims=st.booleans(), seed=seeds())
def test_reductions_on_drawn_shapes_and_axes(name, f, ref, dom, shape_axis, keepdims, seed):
    shape, axis = shape_axis
    n = np.prod(shape) if axis is None else np.prod(np.array(shape)[list(np.atleast_1d(axis))])
    if name == "std" and n == 1:
        return  # std of one element is sqrt(0): its derivative is infinite (tested elsewhere)
    if name in ("max", "min"):
        dom = grid(-2, 2)
    c = OpCase(name, lambda x: f(x, axis, keepdims),
               lambda x: ref(x, axis=axis, keepdims=keepdims), (shape,), (dom,))
    rng = np.random.default_rng(seed)
    xs, consts = draw_inputs(c, rng)
    check_forward(c, xs, consts)
    check_backward(c, xs, consts, rng)


# ---- analytic derivatives on hypothesis-drawn arrays (another angle than finite differences) ----
SMOOTH = [
    ("exp", ag.exp, np.exp, np.exp, (-3, 3)),
    ("sin", ag.sin, np.sin, np.cos, (-3, 3)),
    ("cos", ag.cos, np.cos, lambda x: -np.sin(x), (-3, 3)),
    ("tanh", ag.tanh, np.tanh, lambda x: 1 / np.cosh(x) ** 2, (-3, 3)),
    ("log", ag.log, np.log, lambda x: 1 / x, (0.1, 5)),
    ("sqrt", ag.sqrt, np.sqrt, lambda x: 0.5 / np.sqrt(x), (0.1, 5)),
    ("sigmoid", ag.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
     lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, (-8, 8)),
    ("softplus", ag.softplus, lambda x: np.log1p(np.exp(x)), lambda x: 1 / (1 + np.exp(-x)),
     (-8, 8)),
]


@pytest.mark.parametrize("name,f,ref,deriv,dom", SMOOTH, ids=[s[0] for s in SMOOTH])
@given(data=st.data())
def test_unary_derivative_matches_closed_form(name, f, ref, deriv, dom, data):
    x = data.draw(shapes().flatmap(lambda s: float_arrays(s, *dom)))
    t = ag.Tensor(x, requires_grad=True)
    y = f(t)
    np.testing.assert_allclose(y.data, ref(x), rtol=1e-12, atol=1e-300)
    y.sum().backward()
    np.testing.assert_allclose(t.grad.data, deriv(x), rtol=1e-10, atol=1e-300)


@given(data=st.data())
def test_kinked_ops_away_from_kinks(data):
    x = data.draw(shapes().flatmap(lambda s: float_arrays(s, -3, 3, avoid=(0.0, 1.0))))
    for f, d in [(ag.relu, (x > 0) * 1.0), (ag.abs, np.sign(x)),
                 (lambda t: ag.leaky_relu(t, 0.2), np.where(x > 0, 1.0, 0.2)),
                 (lambda t: ag.clip(t, None, 1.0), (x < 1.0) * 1.0)]:
        t = ag.Tensor(x, requires_grad=True)
        f(t).sum().backward()
        np.testing.assert_array_equal(t.grad.data, d)


# ---- conventions at non-differentiable points (documented in ops/elementwise.py, reduce.py) -----
def grad_of_sum(f, x):
    t = ag.Tensor(x, requires_grad=True)
    f(t).sum().backward()
    return t.grad.data


def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of_sum(ag.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])


def test_leaky_relu_derivative_at_zero_is_the_slope():
    g = grad_of_sum(lambda t: ag.leaky_relu(t, 0.3), [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(g, [0.3, 0.3, 1.0])
    np.testing.assert_allclose(grad_of_sum(ag.leaky_relu, [0.0]), [0.01])  # default slope


def test_abs_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of_sum(ag.abs, [-2.0, 0.0, 3.0]), [-1.0, 0.0, 1.0])


def test_clip_bounds_are_inclusive():
    x = [-1.0, -0.5, 0.2, 0.7, 1.0]
    np.testing.assert_array_equal(grad_of_sum(lambda t: ag.clip(t, -0.5, 0.7), x),
                                  [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of_sum(lambda t: t.clip(None, 0.7), x), [1, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of_sum(lambda t: ag.clip(t, -0.5), x), [0, 1, 1, 1, 1])


def test_max_and_min_split_ties_equally():
    np.testing.assert_allclose(grad_of_sum(ag.max, [1.0, 3.0, 3.0]), [0, 0.5, 0.5])
    np.testing.assert_allclose(grad_of_sum(ag.min, [2.0, 2.0, 2.0]), [1 / 3] * 3)
    x = np.array([[1.0, 4.0, 4.0], [5.0, 5.0, 0.0]])
    g = grad_of_sum(lambda t: ag.max(t, axis=1), x)
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    g = grad_of_sum(lambda t: ag.min(t, axis=0, keepdims=True), [[1.0, 2.0], [1.0, 3.0]])
    np.testing.assert_allclose(g, [[0.5, 1.0], [0.5, 0.0]])


def test_maximum_and_minimum_split_ties_half_half():
    for op in (ag.maximum, ag.minimum):
        x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = ag.Tensor([1.0, 5.0, 0.0], requires_grad=True)
        op(x, y).sum().backward()
        wx = [0.5, 0.0, 1.0] if op is ag.maximum else [0.5, 1.0, 0.0]
        np.testing.assert_allclose(x.grad.data, wx)
        np.testing.assert_allclose(y.grad.data, 1 - np.array(wx))
    x = ag.Tensor([2.0], requires_grad=True)
    ag.maximum(x, x).backward()  # both halves land on the same tensor
    np.testing.assert_allclose(x.grad.data, [1.0])
    x = ag.Tensor([2.0, -1.0], requires_grad=True)
    ag.maximum(x, 2.0).sum().backward()  # a tie with a constant: the tensor keeps half
    np.testing.assert_allclose(x.grad.data, [0.5, 0.0])


def test_sqrt_derivative_at_zero_is_inf():
    with np.errstate(divide="ignore"):
        assert np.isposinf(grad_of_sum(ag.sqrt, [0.0])).all()


def test_comparisons_and_sign_are_outside_the_graph():
    x = ag.Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    for r, want in [(x < 0, [1, 0, 0]), (x <= 0, [1, 1, 0]), (x > 0, [0, 0, 1]),
                    (x >= 0, [0, 1, 1]), (x == 0, [0, 1, 0]), (x != 0, [1, 0, 1]),
                    (0 < x, [0, 0, 1]), (x < ag.Tensor([0.0, 1.0, 1.0]), [1, 1, 0])]:
        assert isinstance(r, ag.Tensor) and r.dtype == np.bool_
        assert not r.requires_grad and r.grad_fn is None
        np.testing.assert_array_equal(r.data, np.array(want, dtype=bool))
    s = ag.sign(x)
    assert not s.requires_grad
    np.testing.assert_array_equal(s.data, [-1, 0, 1])


# ---- numerical stability ------------------------------------------------------------------------
@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_softplus_at_plus_minus_1000(no_warnings, dtype):
    x = ag.Tensor(np.array([-1000.0, 0.0, 1000.0], dtype=dtype), requires_grad=True)
    s = ag.sigmoid(x)
    np.testing.assert_allclose(s.data, [0.0, 0.5, 1.0], atol=1e-30)
    s.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 0.25, 0.0], atol=1e-30)
    x.grad = None
    p = ag.softplus(x)
    np.testing.assert_allclose(p.data, [0.0, np.log(2), 1000.0], rtol=1e-6, atol=1e-30)
    p.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 0.5, 1.0], atol=1e-30)
    assert s.dtype == p.dtype == x.grad.dtype == dtype


def test_softmax_family_at_plus_minus_1000(no_warnings):
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0]])
    x = ag.Tensor(z, requires_grad=True)
    sm = ag.softmax(x, axis=1)
    np.testing.assert_allclose(sm.data, [[1, 0, 0], [0.5, 0.5, 0], [1 / 3] * 3], atol=1e-300)
    (sm * ag.Tensor([1.0, 2.0, 3.0])).sum().backward()
    assert np.isfinite(x.grad.data).all()
    x.grad = None
    ls = ag.log_softmax(x, axis=1)
    l2 = np.log(2)
    want = [[0, -1000, -2000], [-l2, -l2, -2000 - l2], [-np.log(3)] * 3]
    np.testing.assert_allclose(ls.data, want, rtol=1e-12)
    ls.sum().backward()
    # d/dz sum_j log_softmax_j = 1 - n * softmax
    np.testing.assert_allclose(x.grad.data, 1 - 3 * sm.data, atol=1e-12)
    x.grad = None
    lse = ag.logsumexp(x, axis=1)
    np.testing.assert_allclose(lse.data, [1000, 1000 + l2, -1000 + np.log(3)], rtol=1e-12)
    lse.sum().backward()
    np.testing.assert_allclose(x.grad.data, sm.data, atol=1e-300)
    total = ag.logsumexp(ag.Tensor([1000.0, 1000.0]))
    np.testing.assert_allclose(total.data, 1000 + l2, rtol=1e-12)


def test_logsumexp_of_minus_inf_row(no_warnings):
    x = ag.Tensor([[-np.inf, -np.inf], [0.0, -np.inf]])
    np.testing.assert_array_equal(ag.logsumexp(x, axis=1).data, [-np.inf, 0.0])


@pytest.mark.parametrize("x,want", [
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),  # one zero: only it gets a gradient
    ([0.0, 2.0, 0.0], [0.0, 0.0, 0.0]),  # two zeros: every partial product contains a zero
    ([2.0, -1.5, 3.0], [-4.5, 6.0, -3.0]),
])
def test_prod_gradient_with_zeros(x, want):
    np.testing.assert_allclose(grad_of_sum(ag.prod, x), want, rtol=1e-15)


def test_prod_gradient_with_zeros_along_an_axis():
    x = np.array([[0.0, 2.0, 5.0], [3.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    want = np.array([[10.0, 0.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])
    np.testing.assert_allclose(grad_of_sum(lambda t: ag.prod(t, axis=1), x), want)
    np.testing.assert_allclose(grad_of_sum(lambda t: ag.prod(t, axis=0), x.T), want.T)


@given(seed=seeds(), shape=shapes(min_dims=1))
def test_prod_with_a_zero_matches_finite_differences(seed, shape):
    rng = np.random.default_rng(seed)
    x = nonzero(0.5, 1.5)(rng, shape)
    x.flat[rng.integers(x.size)] = 0.0
    c = OpCase("prod", lambda t: ag.prod(t, axis=-1), lambda a: np.prod(a, axis=-1),
               (shape,), (uniform(0, 1),))
    check_backward(c, [x], {}, rng)


@given(data=st.data())
def test_getitem_on_drawn_indices(data):
    """Basic slices (negative steps too), integer arrays with repeats, boolean masks."""
    shape = data.draw(shapes(min_dims=1, max_dims=3, max_side=4))
    index = data.draw(indices(shape))
    c = OpCase("getitem", lambda x: x[index], lambda x: x[index], (shape,), (STD,))
    rng = np.random.default_rng(0)
    xs, consts = draw_inputs(c, rng)
    check_forward(c, xs, consts)
    check_backward(c, xs, consts, rng)
