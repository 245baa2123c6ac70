"""The numpy surface beyond the op table's rows: conventions at kinks and degenerate points
(as documented in docs/numpy.md), numpy's dtype behaviour, refused arguments and complex input,
and derivatives compared with closed forms (an angle other than finite differences)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import test_higher_order
import test_ops
from core_op_table import STD, OpCase, draw_inputs
from hypothesis import given
from hypothesis import strategies as st
from strategies import float_arrays, seeds, shapes

import autograd_nn as ag


def grad_of_sum(f, x):
    t = ag.Tensor(x, requires_grad=True)
    f(t).sum().backward()
    return t.grad.data


def nth_derivative(f, x: float, n: int) -> float:
    """d^n f / dx^n at x by repeated create_graph differentiation."""
    t = ag.Tensor(x, requires_grad=True)
    y = f(t)
    for _ in range(n):
        (y,) = ag.autograd.grad(y, [t], create_graph=True)
    return float(y.data)


# ---- elementwise: closed forms, conventions, dtypes ----------------------------------------------
CLOSED_FORMS = [
    (ag.tan, lambda x: 1 / np.cos(x) ** 2, (-1.2, 1.2)),
    (ag.arcsin, lambda x: 1 / np.sqrt(1 - x * x), (-0.9, 0.9)),
    (ag.arccos, lambda x: -1 / np.sqrt(1 - x * x), (-0.9, 0.9)),
    (ag.arctan, lambda x: 1 / (1 + x * x), (-3, 3)),
    (ag.sinh, np.cosh, (-3, 3)),
    (ag.cosh, np.sinh, (-3, 3)),
    (ag.arcsinh, lambda x: 1 / np.sqrt(x * x + 1), (-3, 3)),
    (ag.arccosh, lambda x: 1 / np.sqrt(x * x - 1), (1.1, 4)),
    (ag.arctanh, lambda x: 1 / (1 - x * x), (-0.9, 0.9)),
    (ag.log2, lambda x: 1 / (x * np.log(2)), (0.1, 5)),
    (ag.log10, lambda x: 1 / (x * np.log(10)), (0.1, 5)),
    (ag.log1p, lambda x: 1 / (1 + x), (-0.9, 5)),
    (ag.expm1, np.exp, (-3, 3)),
    (ag.exp2, lambda x: np.log(2) * 2.0**x, (-3, 3)),
    (ag.cbrt, lambda x: 1 / (3 * np.cbrt(x) ** 2), (0.1, 5)),
    (ag.sinc, lambda x: np.where(x == 0, 0, (np.cos(np.pi * x) - np.sinc(x)) / np.where(
        x == 0, 1, x)), (-3, 3, (0.0,))),  # the closed form cancels near 0 (tested below)
]


@pytest.mark.parametrize("f,deriv,dom", CLOSED_FORMS, ids=[c[0].__name__ for c in CLOSED_FORMS])
@given(data=st.data())
def test_elementwise_derivative_matches_closed_form(f, deriv, dom, data):
    x = data.draw(shapes().flatmap(lambda s: float_arrays(s, *dom)))
    np.testing.assert_allclose(grad_of_sum(f, x), deriv(x), rtol=1e-10, atol=1e-12)


def test_sinc_derivatives_are_exact_at_zero():
    # sinc(x) = 1 - (pi x)^2 / 6 + (pi x)^4 / 120 - ...
    want = [1.0, 0.0, -math.pi**2 / 3, 0.0, math.pi**4 / 5]
    for n, w in enumerate(want):
        assert nth_derivative(ag.sinc, 0.0, n) == pytest.approx(w, rel=1e-12, abs=1e-12)


def test_sinc_derivatives_match_on_both_sides_of_the_series_switch():
    for x in (2 / np.pi - 1e-9, 2 / np.pi + 1e-9, 1.7, -3.2):
        for n in (1, 2, 3):
            h = 1e-5
            fd = (nth_derivative(ag.sinc, x + h, n - 1) - nth_derivative(ag.sinc, x - h, n - 1))
            assert nth_derivative(ag.sinc, x, n) == pytest.approx(fd / (2 * h), rel=1e-6,
                                                                   abs=1e-7)


@pytest.mark.parametrize("f", [ag.floor, ag.ceil, ag.trunc, ag.rint, ag.round,
                               lambda t: ag.round(t, 1)])
def test_rounding_has_zero_gradient_everywhere(f):
    x = ag.Tensor([-1.5, -0.5, 0.0, 0.25, 1.0, 2.5], requires_grad=True)
    y = f(x)
    assert y.requires_grad  # in the graph, with gradient zero (as PyTorch)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(6))


def test_nan_to_num_passes_the_gradient_only_at_finite_entries():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    t = ag.Tensor(x, requires_grad=True)
    y = ag.nan_to_num(t, nan=-1.0, posinf=9.0, neginf=-9.0)
    np.testing.assert_array_equal(y.data, np.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0))
    (y * ag.Tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [1.0, 0.0, 0.0, 0.0, 5.0])
    with pytest.raises(TypeError, match="copy=False"):
        ag.nan_to_num(t, copy=False)


def test_fmax_fmin_nan_gets_no_gradient_and_ties_split():
    x = ag.Tensor([np.nan, 1.0, 2.0, 3.0], requires_grad=True)
    y = ag.Tensor([1.0, np.nan, 2.0, 0.0], requires_grad=True)
    ag.fmax(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.5, 1.0])
    np.testing.assert_array_equal(y.grad.data, [1.0, 0.0, 0.5, 0.0])
    x.grad = y.grad = None
    ag.fmin(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.5, 0.0])
    np.testing.assert_array_equal(y.grad.data, [1.0, 0.0, 0.5, 1.0])


def test_hypot_and_arctan2_at_the_origin_have_zero_gradient():
    for f in (ag.hypot, ag.arctan2):
        x = ag.Tensor([0.0, 3.0], requires_grad=True)
        y = ag.Tensor([0.0, 4.0], requires_grad=True)
        f(x, y).sum().backward()
        assert np.isfinite(x.grad.data).all() and np.isfinite(y.grad.data).all()
        assert x.grad.data[0] == 0.0 and y.grad.data[0] == 0.0
    x = ag.Tensor(3.0, requires_grad=True)
    ag.hypot(x, 4.0).backward()
    assert float(x.grad.data) == pytest.approx(0.6)


def test_remainder_operator_follows_python_and_numpy():
    x = ag.Tensor([5.5, -5.5, 5.5, -5.5], requires_grad=True)
    y = ag.Tensor([2.0, 2.0, -2.0, -2.0], requires_grad=True)
    r = x % y
    np.testing.assert_array_equal(r.data, [5.5 % 2, -5.5 % 2, 5.5 % -2, -5.5 % -2])
    r.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones(4))
    np.testing.assert_array_equal(y.grad.data, -np.floor(x.data / y.data))
    f = ag.fmod(x.detach(), y)
    np.testing.assert_array_equal(f.data, np.fmod(x.data, y.data))


@pytest.mark.parametrize("f,npf", [(ag.tan, np.tan), (ag.log1p, np.log1p),
                                   (ag.square, np.square), (ag.reciprocal, np.reciprocal),
                                   (ag.floor, np.floor), (ag.cbrt, np.cbrt),
                                   (ag.deg2rad, np.deg2rad), (ag.sinc, np.sinc)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
def test_elementwise_dtype_is_numpys(f, npf, dtype):
    x = np.array([1, 2, 3], dtype=dtype)
    y = f(ag.Tensor(x))
    assert y.dtype == npf(x).dtype
    np.testing.assert_array_equal(y.data, npf(x))
    if np.dtype(dtype).kind == "f":
        t = ag.Tensor(x, requires_grad=True)
        f(t).sum().backward()
        assert t.grad.dtype == dtype


@pytest.mark.parametrize("f", [ag.tan, ag.sinc, ag.floor, ag.nan_to_num])
def test_complex_input_is_refused_with_a_clear_error(f):
    with pytest.raises(TypeError, match="complex"):
        f(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="complex"):
        ag.Tensor(np.array([1 + 2j]))


def test_numpy_ufunc_arguments_the_engine_does_not_support_are_refused():
    t = ag.Tensor([0.5, 0.2], requires_grad=True)
    with pytest.raises(TypeError, match="out="):
        np.tan(t, out=np.empty(2))
    with pytest.raises(TypeError, match="out="):
        ag.round(t, out=np.empty(2))


# ---- hypothesis-drawn stacked shapes: forward, backward and double backward ---------------------
def check_all_orders(c: OpCase, seed: int) -> None:
    rng = np.random.default_rng(seed)
    xs, consts = draw_inputs(c, rng)
    test_ops.check_forward(c, xs, consts)
    test_ops.check_backward(c, xs, consts, rng)
    test_higher_order.check_second_order(c, xs, consts, rng)


@given(shape=shapes(min_dims=1, max_dims=4), k=st.integers(-3, 3), seed=seeds())
def test_triangles_on_drawn_stacked_shapes(shape, k, seed):
    for f, ref in ((ag.tril, np.tril), (ag.triu, np.triu)):
        check_all_orders(OpCase("tri", lambda x, f=f: f(x, k), lambda x, r=ref: r(x, k), (shape,),
                                (STD,)), seed)


@given(data=st.data(), seed=seeds())
def test_diagonal_and_trace_on_drawn_shapes_and_axes(data, seed):
    shape = data.draw(shapes(min_dims=2, max_dims=4))
    a1, a2 = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=2,
                                max_size=2, unique_by=lambda a: a % len(shape)))
    k = data.draw(st.integers(-3, 3))
    for f, ref in ((ag.diagonal, np.diagonal), (ag.trace, np.trace)):
        check_all_orders(OpCase("diag", lambda x, f=f: f(x, k, a1, a2),
                                lambda x, r=ref: r(x, k, a1, a2),
                                (shape,), (STD,)), seed)


@given(shape=shapes(min_dims=1, max_dims=3), data=st.data(), seed=seeds())
def test_pad_roll_repeat_on_drawn_shapes(shape, data, seed):
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    widths = data.draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                                min_size=len(shape), max_size=len(shape)))
    if mode == "reflect" and any(n == 1 for n in shape):
        widths = [(0, 0) if n == 1 else w for n, w in zip(shape, widths)]  # numpy: no reflection
    shift = data.draw(st.integers(-5, 5))
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    reps = data.draw(st.integers(0, 3))
    for f, ref in [(lambda x: ag.pad(x, widths, mode), lambda x: np.pad(x, widths, mode)),
                   (lambda x: ag.roll(x, shift, axis), lambda x: np.roll(x, shift, axis)),
                   (lambda x: ag.repeat(x, reps, axis), lambda x: np.repeat(x, reps, axis))]:
        check_all_orders(OpCase("drawn", f, ref, (shape,), (STD,)), seed)


@pytest.mark.parametrize("call,kind,match", [
    (lambda t: ag.pad(t, 1, mode="maximum"), ValueError, "mode='maximum' is not supported"),
    (lambda t: ag.pad(t, 1, mode="reflect", reflect_type="odd"), TypeError, "reflect_type"),
    (lambda t: ag.pad(t, 1, stat_length=2), TypeError, "stat_length"),
    (lambda t: ag.take(t, [0], mode="bogus"), ValueError, "mode='bogus'"),
    (lambda t: ag.take(t, [0.5]), TypeError, "integers"),
    (lambda t: ag.take(t, [0], out=np.empty(1)), TypeError, "out="),
    (lambda t: ag.vstack(t), TypeError, "sequence"),
    (lambda t: ag.select([t.data > 0], [t, t]), ValueError, "same length"),
    (lambda t: ag.select([t], [t]), TypeError, "boolean"),
    (lambda t: ag.rot90(t, axes=(0, 0)), ValueError, "different"),
    (lambda t: ag.fliplr(t[0]), ValueError, "2-d"),
    (lambda t: ag.dsplit(t, 2), ValueError, "3 or more"),
    (lambda t: ag.array_split(t, 0), ValueError, "larger than 0"),
    (lambda t: ag.trace(t, dtype=np.float32), TypeError, "dtype="),
    (lambda t: ag.diagonal(t[0]), ValueError, "at least 2 axes"),
    (lambda t: ag.einsum(t, [0, 1]), TypeError, "as a string"),
    (lambda t: ag.einsum("ij->j", t, dtype=np.float32), TypeError, "dtype"),
    (lambda t: ag.einsum("ijk->i", t), ValueError, "do not match"),
    (lambda t: ag.einsum("ij,jk", t), ValueError, "2 operand subscripts for 1"),
    (lambda t: ag.einsum("i1->i", t), ValueError, "only letters"),
    (lambda t: ag.cross(t[:, :2], t[:, :2]), ValueError, "3 components"),
    (lambda t: ag.tensordot(t, t, 3), ValueError, "out of range"),
    (lambda t: ag.dot(t, t.T, out=np.empty((2, 2))), TypeError, "out="),
])
def test_manipulation_refuses_what_it_does_not_support_by_name(call, kind, match):
    t = ag.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(kind, match=match):
        call(t)


# ---- ordering and accumulation ------------------------------------------------------------------
def test_sort_ties_keep_their_order_and_gradients_follow_the_permutation():
    x = ag.Tensor([3.0, 1.0, 3.0, 2.0], requires_grad=True)
    y = ag.sort(x)
    np.testing.assert_array_equal(y.data, [1.0, 2.0, 3.0, 3.0])
    (y * ag.Tensor([10.0, 20.0, 30.0, 40.0])).sum().backward()
    # the first 3 (index 0) lands at position 2, the second (index 2) at position 3: stable
    np.testing.assert_array_equal(x.grad.data, [30.0, 10.0, 40.0, 20.0])


@given(shape=shapes(min_dims=1, max_dims=3), seed=seeds(), data=st.data())
def test_cumprod_with_zeros_matches_finite_differences_to_second_order(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    zeros = data.draw(st.integers(1, 2))

    def draw(rng, shape):
        x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        x.flat[rng.integers(x.size, size=zeros)] = 0.0  # cumprod is a polynomial: fd is exact
        return x

    check_all_orders(OpCase("cumprod0", lambda t: ag.cumprod(t, axis),
                            lambda a: np.cumprod(a, axis), (shape,), (draw,)), seed)
    check_all_orders(OpCase("cumsum", lambda t: ag.cumsum(t, axis), lambda a: np.cumsum(a, axis),
                            (shape,), (STD,)), seed)


def test_cumprod_gradient_with_zeros_is_exact():
    # y = (2, 0, 0), dy/dx summed: d/dx0 = 1 + x1 + x1 x2 = 1 ; d/dx1 = x0 + x0 x2 = 2 + 6;
    # d/dx2 = x0 x1 = 0
    np.testing.assert_array_equal(grad_of_sum(ag.cumprod, [2.0, 0.0, 3.0]), [1.0, 8.0, 0.0])


@pytest.mark.parametrize("call,kind,match", [
    (lambda t: ag.sort(t, order="x"), TypeError, "order="),
    (lambda t: ag.cumsum(t, dtype=np.float32), TypeError, "dtype="),
    (lambda t: ag.gradient(t, edge_order=3), ValueError, "edge_order"),
    (lambda t: ag.gradient(t, [0.0, 1.0]), ValueError, "coordinate array"),
    (lambda t: ag.gradient(t[:1]), ValueError, "at least 2"),
])
def test_ordering_refuses_what_it_does_not_support_by_name(call, kind, match):
    with pytest.raises(kind, match=match):
        call(ag.Tensor(np.arange(3.0), requires_grad=True))


# ---- linear algebra: degenerate points and refused arguments ------------------------------------
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2
    cof = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(grad_of_sum(ag.linalg.det, a), cof, atol=1e-12)
    t = ag.Tensor(a, requires_grad=True)
    with pytest.raises(ValueError, match="second derivatives at a singular matrix"):
        ag.autograd.grad(ag.linalg.det(t), [t], create_graph=True)


def test_norm_gradient_at_zero_is_zero():
    for kw in ({}, {"axis": 1}, {"ord": "fro"}):
        g = grad_of_sum(lambda t, kw=kw: ag.linalg.norm(t, **kw), np.zeros((2, 3)))
        np.testing.assert_array_equal(g, np.zeros((2, 3)))


def test_repeated_eigenvalues_and_singular_values_give_finite_invariant_gradients():
    eye = np.eye(3)
    # sum of eigenvalues = trace; only the lower triangle is read
    np.testing.assert_allclose(grad_of_sum(lambda t: ag.linalg.eigh(t).eigenvalues, eye), eye)
    # the nuclear norm at I (all singular values 1): gradient U V^T = I
    np.testing.assert_allclose(grad_of_sum(lambda t: ag.linalg.norm(t, "nuc"), eye), eye,
                               atol=1e-12)
    # a projector onto a repeated eigenspace is smooth: its gradient is finite
    a = np.diag([1.0, 1.0, 3.0])
    g = grad_of_sum(lambda t: (ag.linalg.eigh(t).eigenvectors[:, 2] ** 2), a)
    assert np.isfinite(g).all()


def test_eigh_and_cholesky_read_only_the_lower_triangle_like_numpy():
    a = np.array([[4.0, 100.0], [1.0, 3.0]])  # the 100 is ignored by numpy
    for f, ref in ((ag.linalg.cholesky, np.linalg.cholesky),
                   (ag.linalg.eigvalsh, np.linalg.eigvalsh)):
        np.testing.assert_allclose(f(ag.Tensor(a)).data, ref(a))
        assert grad_of_sum(f, a)[0, 1] == 0.0


@given(batch=shapes(min_dims=0, max_dims=2, max_side=2), n=st.integers(1, 3), seed=seeds())
def test_linalg_on_drawn_stacked_matrices(batch, n, seed):
    from numpy_op_table import wellconditioned

    s = tuple(batch) + (n, n)
    for f, ref in [(ag.linalg.inv, np.linalg.inv), (ag.linalg.det, np.linalg.det),
                   (lambda a: ag.linalg.solve(a, a * 2 + 1), lambda a: np.linalg.solve(
                       a, a * 2 + 1)), (ag.linalg.svdvals, np.linalg.svdvals)]:
        check_all_orders(OpCase("stacked", f, ref, (s,), (wellconditioned,)), seed)


@pytest.mark.parametrize("call,kind,match", [
    (lambda t: ag.linalg.svd(t[:, :2]), ValueError, "full_matrices=False"),
    (lambda t: ag.linalg.svd(t, hermitian=True), TypeError, "hermitian"),
    (lambda t: ag.linalg.qr(t[:2]), ValueError, "m >= n"),
    (lambda t: ag.linalg.qr(t, mode="raw"), ValueError, "mode='raw'"),
    (lambda t: ag.linalg.inv(t[:2]), ValueError, "square"),
    (lambda t: ag.linalg.pinv(t, rtol=1e-3), TypeError, "rtol"),
    (lambda t: ag.linalg.norm(t, ord="bogus"), ValueError, "invalid norm order"),
    (lambda t: ag.linalg.matrix_power(t, 1.5), TypeError, "integer"),
    (lambda t: ag.linalg.eigh(t, UPLO="X"), ValueError, "UPLO"),
    (lambda t: ag.linalg.slogdet(t * 0).logabsdet.backward(), ValueError, "singular"),
    (lambda t: ag.linalg.inv(np.eye(3) * (1 + 1j)), TypeError, "complex"),
])
def test_linalg_refuses_what_it_does_not_support_by_name(call, kind, match):
    with pytest.raises(kind, match=match):
        call(ag.Tensor(np.eye(3) + 0.1, requires_grad=True))


def test_roll_without_shifts_and_matrix_power_one_return_tensors_for_arrays():
    # both returned the ndarray itself (not a Tensor) before; numpy's results are the oracle
    x = np.arange(6.0).reshape(2, 3)
    r = ag.roll(x, [], axis=[])
    assert isinstance(r, ag.Tensor)
    np.testing.assert_array_equal(r.numpy(), np.roll(x, [], axis=[]))
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    p = ag.linalg.matrix_power(a, 1)
    assert isinstance(p, ag.Tensor)
    np.testing.assert_array_equal(p.numpy(), np.linalg.matrix_power(a, 1))
