"""gradcheck must fail on wrong derivatives, pass on right ones, and tell kinks from bugs.

The wrong backward passes below are the classic mistakes: off by 0.1%, transposed, a broadcast
reduction left to the wrong axis, the wrong sign. Expected values come from formulas written
here (and a central difference written here), never from the checker's own output.
"""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.gradcheck import (
    GradcheckError,
    GradcheckPrecisionWarning,
    gradcheck,
    gradgradcheck,
)


# ---- custom ops: a correct and a wrong version of each ---------------------------------------
class Square(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x


class SquareOffByOnePermille(Square):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x * 1.001


class MatMul2(ag.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g @ w.T, x.T @ g


class MatMulTransposed(MatMul2):
    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g @ w, x.T @ g  # should be g @ w.T


class AddColumn(ag.Function):
    """out = x + b[:, None]: b is broadcast along axis 1, which numpy's rule does not do."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b[:, None]

    @staticmethod
    def backward(ctx, g):
        return g, ctx.xp.sum(g, axis=1)


class AddColumnUnreduced(AddColumn):
    @staticmethod
    def backward(ctx, g):
        return g, g  # the engine's numpy-rule reduction then sums axis 0: wrong for b


class Sin(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.xp.cos(x)


class SinWrongSign(Sin):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * ctx.xp.cos(x)


def _t(a, name):
    return ag.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True, name=name)


RNG = np.random.default_rng(7)
X_POS = np.array([0.5, -1.2, 2.0, 0.8])
W_SQ = RNG.standard_normal((3, 3)) + np.diag([2.0, -1.0, 0.5])  # not symmetric
X_MAT = RNG.standard_normal((2, 3))
B_COL = np.array([0.3, -0.7, 1.1])
X_SQ = RNG.standard_normal((3, 3))

# name -> (wrong f, right f, inputs factory, name of the input whose derivative is wrong, op)
CASES = {
    "factor 1.001": (lambda x: SquareOffByOnePermille.apply(x), lambda x: Square.apply(x),
                     lambda: [_t(X_POS, "x")], "x", SquareOffByOnePermille),
    "transposed": (lambda x, w: MatMulTransposed.apply(x, w), lambda x, w: MatMul2.apply(x, w),
                   lambda: [_t(X_MAT, "x"), _t(W_SQ, "W")], "x", MatMulTransposed),
    "missing reduction": (lambda x, b: AddColumnUnreduced.apply(x, b),
                          lambda x, b: AddColumn.apply(x, b),
                          lambda: [_t(X_SQ, "x"), _t(B_COL, "b")], "b", AddColumnUnreduced),
    "wrong sign": (lambda x: SinWrongSign.apply(x) * 3.0, lambda x: Sin.apply(x) * 3.0,
                   lambda: [_t(X_POS, "x")], "x", SinWrongSign),
}


def fd_entry(f, inputs, i, in_idx, out_idx, eps=1e-6):
    """The test's own central difference of f(...)[out_idx] w.r.t. inputs[i][in_idx]."""
    def value(delta):
        arrays = [np.array(t.data, dtype=np.float64) for t in inputs]
        arrays[i][in_idx] += delta
        return np.asarray(f(*[ag.Tensor(a) for a in arrays]).data)[out_idx]
    return (value(eps) - value(-eps)) / (2 * eps)


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_backward_is_caught_and_localised(case):
    wrong, _, make, bad_input, op = CASES[case]
    inputs = make()
    result = gradcheck(wrong, inputs, raise_exception=False)
    assert not result
    failed = result.failed_pairs
    assert [p.input for p in failed] == [bad_input]
    pair = failed[0]
    assert pair.n_failed > 0 and pair.worst_input_element is not None
    # the reported numerical value is the true derivative at the reported worst entry
    i = [t.name for t in inputs].index(bad_input)
    truth = fd_entry(wrong, inputs, i, pair.worst_input_element, pair.worst_output_element)
    assert pair.numerical == pytest.approx(truth, rel=1e-6, abs=1e-8)
    assert abs(pair.analytical - truth) > 1e-5 + 1e-4 * abs(truth)
    report = result.report
    assert bad_input in report and str(pair.worst_input_element) in report
    assert "FAILED" in report and str(result) == report
    assert len(result.failed_nodes) == 1 and type(result.failed_nodes[0]) is op
    assert f"the wrong derivative is in op '{op.__name__}'" in report
    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong, make())
    assert isinstance(info.value, AssertionError)
    assert bad_input in str(info.value) and info.value.result is not None


@pytest.mark.parametrize("case", list(CASES))
def test_correct_backward_passes(case):
    _, right, make, _, _ = CASES[case]
    result = gradcheck(right, make())
    assert result and result.passed and not result.failed_nodes and not result.nondiff
    assert "passed" in str(result)


def test_worst_entry_of_a_uniform_scale_error_is_the_largest_input():
    # the error 0.001*2x grows faster than the tolerance 1e-5 + 1e-4*2|x|: worst at max |x|
    result = gradcheck(lambda x: SquareOffByOnePermille.apply(x), _t(X_POS, "x"),
                       raise_exception=False)
    worst = int(np.argmax(np.abs(X_POS)))
    assert result.pairs[0].worst_input_element == (worst,)
    assert result.pairs[0].worst_output_element == (worst,)
    assert result.pairs[0].analytical == pytest.approx(2 * X_POS[worst] * 1.001)
    assert result.pairs[0].numerical == pytest.approx(2 * X_POS[worst], rel=1e-8)
    assert result.pairs[0].n_failed == 4 and result.pairs[0].n_checked == 16


def test_only_the_wrong_op_of_a_larger_graph_is_blamed():
    def f(x, w):
        h = ag.tanh(MatMulTransposed.apply(x, w))
        return (h * h).sum() + ag.exp(x).mean()

    result = gradcheck(f, [_t(X_MAT, "x"), _t(W_SQ, "W")], raise_exception=False)
    assert [type(n) for n in result.failed_nodes] == [MatMulTransposed]
    # the node belongs to the graph of result.outputs (what draw_graph(..., highlight=) draws)
    seen, stack = set(), [result.outputs[0].grad_fn]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            stack += [a.grad_fn for a in node.inputs if isinstance(a, ag.Tensor) and a.grad_fn]
    assert id(result.failed_nodes[0]) in seen


def test_backward_that_raises_is_a_failure_not_a_crash():
    # rectangular x: the unreduced gradient for b cannot even be reduced to b's shape
    x, b = _t(RNG.standard_normal((3, 4)), "x"), _t(B_COL, "b")
    result = gradcheck(lambda x, b: AddColumnUnreduced.apply(x, b), [x, b],
                       raise_exception=False)
    assert not result
    assert "raised" in result.report and "b" in result.report
    assert [type(n) for n in result.failed_nodes] == [AddColumnUnreduced]


def test_several_outputs_and_constant_inputs():
    scale = np.array([1.0, 2.0, 3.0])

    def f(x, c, k):
        return ag.sin(x) * c, (x * x).sum() * k

    x = _t([0.1, 0.2, 0.3], "x")
    c = ag.Tensor(scale)  # no requires_grad: a constant
    result = gradcheck(f, [x, c, 2.0])
    assert [(p.input, p.output) for p in result.pairs] == [("x", "output 0"), ("x", "output 1")]
    assert result.pairs[0].analytical_jacobian.shape == (3, 3)
    np.testing.assert_allclose(result.pairs[0].analytical_jacobian,
                               np.diag(np.cos(x.data) * scale), rtol=1e-12)


# ---- kinks and ties ----------------------------------------------------------------------
KINKS = {
    "relu at 0": (lambda x: ag.relu(x), [-1.0, 0.0, 2.0], [(1,)], (0.0, 1.0)),
    "abs at 0": (lambda x: ag.abs(x).sum(), [-1.5, 0.0, 0.7], [(1,)], (-1.0, 1.0)),
    "max tie": (lambda x: ag.max(x), [1.0, 3.0, 3.0, 2.0], [(1,), (2,)], (0.0, 1.0)),
}


@pytest.mark.parametrize("case", list(KINKS))
def test_kinks_are_reported_not_failed(case):
    f, values, where, (left, right) = KINKS[case]
    result = gradcheck(f, _t(values, "x"))
    assert result.passed
    assert sorted(p.input_element for p in result.nondiff) == where
    pt = result.nondiff[0]
    assert pt.at_point and pt.left == pytest.approx(left, abs=1e-6)
    assert pt.right == pytest.approx(right, abs=1e-6)
    assert f"non-differentiable at index {where[0]}" in result.report
    assert "engine uses the documented subgradient" in result.report
    with pytest.raises(GradcheckError, match="non-differentiable"):
        gradcheck(f, _t(values, "x"), nondiff="fail")


def test_maximum_tie_between_two_inputs():
    x, y = _t([1.0, 2.0], "x"), _t([1.0, 0.5], "y")
    result = gradcheck(lambda x, y: ag.maximum(x, y), [x, y])
    assert {(p.input, p.input_element) for p in result.nondiff} == {("x", (0,)), ("y", (0,))}
    assert all(p.analytical == 0.5 for p in result.nondiff)


def test_kink_inside_the_stencil_but_not_at_the_point():
    result = gradcheck(lambda x: ag.relu(x), _t([-4e-7, 1.0], "x"))
    assert [p.input_element for p in result.nondiff] == [(0,)]
    assert not result.nondiff[0].at_point


def test_value_outside_the_one_sided_derivatives_still_fails():
    class ReluTwoAtZero(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ((x > 0) * 1.0 + (x == 0) * 2.0)  # 2 is no subgradient of relu at 0

    result = gradcheck(lambda x: ReluTwoAtZero.apply(x), _t([-1.0, 0.0, 1.0], "x"),
                       raise_exception=False)
    assert not result and result.pairs[0].worst_input_element == (1,)


def test_strong_curvature_is_not_mistaken_for_a_kink():
    result = gradcheck(lambda x: ag.exp(x * 12.0), _t([0.0, 0.5, 1.0], "x"))
    assert result.passed and not result.nondiff


# ---- inputs, dtypes, fast mode ------------------------------------------------------------
def test_inputs_are_not_mutated():
    arr = np.array([0.3, -0.2, 0.9])
    t = ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    arr_copy, t_copy, t_array = arr.copy(), t.data.copy(), t.data
    ag.numerical_grad(lambda a, b: (ag.sin(a).sum() * b.sum()), [arr, t])
    ag.numerical_jacobian(lambda a: a * 2.0, arr)
    gradcheck(lambda a, b: ag.sin(a).sum() * b.sum(), [arr, t])
    np.testing.assert_array_equal(arr, arr_copy)
    np.testing.assert_array_equal(t.data, t_copy)
    assert t.data is t_array and t.version == 0 and t.grad is None


def test_float32_warns_and_runs_in_float64():
    seen = []

    def f(x):
        seen.append(x.dtype)
        return ag.tanh(x) * 2.0

    x = ag.Tensor(np.array([0.1, -0.4, 0.9], dtype=np.float32), requires_grad=True)
    with pytest.warns(GradcheckPrecisionWarning, match="Finite differences need float64"):
        result = gradcheck(f, x)
    assert result and set(seen) == {np.dtype(np.float64)}
    assert x.dtype == np.float32


@pytest.mark.parametrize("case", list(CASES))
def test_fast_mode_agrees_with_full_mode(case):
    wrong, right, make, bad_input, _ = CASES[case]
    for f, expected in ((wrong, False), (right, True)):
        fast = gradcheck(f, make(), fast_mode=True, seed=3, raise_exception=False)
        full = gradcheck(f, make(), raise_exception=False)
        assert bool(fast) == bool(full) == expected
    fast = gradcheck(wrong, make(), fast_mode=True, seed=3, raise_exception=False)
    assert fast.failed_pairs[0].input == bad_input
    assert fast.failed_pairs[0].worst_input_element == \
        gradcheck(wrong, make(), raise_exception=False).failed_pairs[0].worst_input_element


@pytest.mark.parametrize("case", list(KINKS))
def test_fast_mode_agrees_on_kinks(case):
    f, values, where, _ = KINKS[case]
    assert gradcheck(f, _t(values, "x"), fast_mode=True, seed=1)
    fast = gradcheck(f, _t(values, "x"), fast_mode=True, seed=1, nondiff="fail",
                     raise_exception=False)
    assert not fast and sorted(p.input_element for p in fast.nondiff) == where


def test_fast_mode_uses_few_evaluations():
    calls = []

    def f(x):
        calls.append(1)
        return ag.tanh(x).sum()

    x = _t(np.linspace(-1, 1, 300), "x")
    assert gradcheck(f, x, fast_mode=True, seed=0)
    assert len(calls) <= 6
    calls.clear()
    assert gradcheck(f, x)
    assert len(calls) >= 600


def test_bad_arguments_raise_clear_errors():
    x = _t([1.0], "x")
    with pytest.raises(ValueError, match="nondiff"):
        gradcheck(lambda x: x * 2.0, x, nondiff="ignore")
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda x: x * 2.0, x, eps=0)
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * 2.0, ag.Tensor([1.0]))
    with pytest.raises(TypeError, match="floating-point output"):
        gradcheck(lambda x: "nope", x)


def test_top_level_names():
    x = _t([0.2, 0.4], "x")
    assert ag.gradcheck(lambda x: ag.sin(x), x)  # the module is callable
    assert ag.gradcheck.gradcheck is gradcheck
    assert issubclass(ag.GradcheckError, AssertionError)


# ---- second order ------------------------------------------------------------------------
@pytest.mark.parametrize("f", [
    lambda x, w: ag.tanh(x @ w),
    lambda x, w: ag.sigmoid(x) @ w,
    lambda x, w: ag.softmax(x @ w, axis=-1),
    lambda x, w: (x @ w) * (x @ w),
])
def test_gradgradcheck_passes_for_builtins(f):
    x, w = _t(RNG.standard_normal((2, 3)), "x"), _t(RNG.standard_normal((3, 3)), "W")
    assert gradgradcheck(f, [x, w], seed=0)


class CubeRawNumpy(ag.Function):
    """Reading ``.data`` in backward drops the graph: same first derivative, wrong second.
    (A saved intermediate and np.asarray of such a Tensor are refused outright.)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * (x.data if isinstance(x, ag.Tensor) else x) ** 2


@pytest.mark.parametrize("op", [CubeRawNumpy])
def test_gradgradcheck_catches_a_backward_that_is_not_differentiable(op):
    x = _t([0.5, -1.0, 1.5], "x")
    f = lambda x: op.apply(x) * 2.0  # noqa: E731
    assert gradcheck(f, x)  # first order is right
    g = np.array([1.0, -0.5, 2.0])
    result = gradgradcheck(f, x, grad_outputs=g, raise_exception=False)
    assert not result
    bad = result.failed_pairs[0]
    assert bad.input == "x" and bad.output == "grad(x)"
    # d/dx_j of the VJP 2*g_j*3x_j² is 12*x_j*g_j, largest at j=2; the engine's value is 0
    assert bad.worst_input_element == (2,) and bad.worst_output_element == (2,)
    assert bad.numerical == pytest.approx(12 * 1.5 * 2.0, rel=1e-6)
    assert bad.analytical == pytest.approx(0.0, abs=1e-12)
    assert [type(n) for n in result.failed_nodes] == [op]
    assert "second order" in result.report
    with pytest.raises(GradcheckError):
        gradgradcheck(f, x)


def test_gradgradcheck_with_given_grad_outputs():
    x = _t([0.3, 0.6], "x")
    assert gradgradcheck(lambda x: ag.sin(x) * x, x, grad_outputs=np.array([1.0, -2.0]))
    with pytest.raises(ValueError, match="shape"):
        gradgradcheck(lambda x: ag.sin(x), x, grad_outputs=np.ones(3))
