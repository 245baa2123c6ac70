"""The gradient checkers must not pass what they cannot vouch for (issue 10).

Each test is a member of a class of wrong passes found in the checkers: a function that is not
deterministic, finite differences that fit no single kink, an input the function ignores, a
model's parameters checked through copies, outputs without a graph, checks too large to run.
The truths are written here (derivatives by hand), never read from the checkers' output.
"""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.gradcheck import GradcheckError, gradcheck, gradgradcheck


def _t(values, name="x"):
    return ag.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True, name=name)


X3 = np.array([0.3, -1.1, 0.7])


# ---- 1. a function that is not deterministic fails, saying why -------------------------------
def test_noise_drawn_per_call_fails_and_says_why():
    rng = np.random.default_rng(0)
    x = _t(X3)
    with pytest.raises(GradcheckError, match="not deterministic"):
        ag.gradcheck(lambda x: (x * rng.normal()).sum(), [x])
    result = ag.gradcheck(lambda x: (x * rng.normal()).sum(), [x], raise_exception=False)
    assert not result and not result.nondiff
    assert "evaluated twice at the same point" in result.cannot_vouch[0]
    assert "FAILED" in result.report and "cannot vouch" in result.report


@pytest.mark.parametrize("fast", [False, True])
def test_dropout_in_training_mode_fails_and_eval_mode_passes(fast):
    ag_rng = np.random.default_rng(1)
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 1))
    X = _t(ag_rng.standard_normal((4, 3)), "X")
    net.train()
    result = gradcheck(lambda X: net(X).sum(), X, raise_exception=False, fast_mode=fast, seed=0)
    assert not result and "dropout" in result.cannot_vouch[0]
    net.eval()
    assert gradcheck(lambda X: net(X).sum(), X, fast_mode=fast, seed=0)


def test_state_that_changes_between_calls_fails():
    calls = []

    def f(x):
        calls.append(1)
        return (x * len(calls)).sum()

    result = gradcheck(f, _t(X3), raise_exception=False)
    assert not result and "not deterministic" in result.cannot_vouch[0]


def test_round_off_sized_noise_needs_nondet_tol():
    rng = np.random.default_rng(2)

    def f(x):
        return (ag.sin(x) + 1e-14 * rng.standard_normal()).sum()

    assert not gradcheck(f, _t(X3), raise_exception=False)
    assert gradcheck(f, _t(X3), nondet_tol=1e-12)
    with pytest.raises(ValueError, match="nondet_tol"):
        gradcheck(f, _t(X3), nondet_tol=-1.0)


class NoisyBackwardSquare(ag.Function):
    """A right first derivative, up to random noise far below the tolerances, drawn anew at
    every backward call: a backward that is not reproducible."""

    rng = np.random.default_rng(3)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x * (1 + 1e-9 * NoisyBackwardSquare.rng.standard_normal())


def test_backward_that_is_not_reproducible_fails():
    result = gradcheck(lambda x: NoisyBackwardSquare.apply(x), _t(X3), raise_exception=False)
    assert not result and "backward pass is not deterministic" in result.cannot_vouch[0]


def test_gradgradcheck_of_a_noisy_function_says_why():
    rng = np.random.default_rng(4)
    result = gradgradcheck(lambda x: (x * x * rng.normal()).sum(), _t(X3),
                           raise_exception=False)
    assert not result and "not deterministic" in result.cannot_vouch[0]


def test_finite_difference_tools_refuse_a_noisy_function():
    rng = np.random.default_rng(5)
    noisy = lambda a: (a * rng.normal()).sum()  # noqa: E731
    for tool in (ag.numerical_jacobian, ag.numerical_grad, ag.eps_sweep):
        with pytest.raises(ValueError, match="not deterministic"):
            tool(noisy, np.ones(3))
    table = ag.check_three_way(noisy, {"a": np.ones(3)}, {"a": np.ones(3)},
                               engine={"a": np.ones(3)})
    assert not table and "not deterministic" in table.cannot_vouch[0]
    assert "cannot vouch" in str(table)


# ---- 2. a step in the slopes is a kink only if each one-sided slope is stable ----------------
def test_a_jump_in_value_inside_the_stencil_is_not_a_kink():
    x = _t([-3e-7, 1.0])
    # f jumps by 1e-3 at 0, 3e-7 right of x[0]: no derivative can be checked there
    result = gradcheck(lambda x: x + ag.Tensor((x.data > 0) * 1e-3), x, raise_exception=False)
    assert not result and not result.nondiff
    assert "erratic finite differences" in result.report


def test_two_kinks_inside_the_stencil_are_not_called_a_kink():
    result = gradcheck(lambda x: ag.relu(x + 3e-7) + ag.relu(x - 3e-7), _t([0.0]),
                       raise_exception=False)
    assert not result and not result.nondiff
    assert "erratic finite differences" in result.report


def test_deterministic_wiggles_are_not_kinks():
    # d/dx of 1e-6 sin(1e9 x) is 1e3 cos(1e9 x): the finite differences at eps=1e-6 are noise
    result = gradcheck(lambda x: x + 1e-6 * ag.sin(x * 1e9), _t(X3), raise_exception=False)
    assert not result and not result.nondiff
    assert "erratic finite differences" in result.report


class ReluHalfNearZero(ag.Function):
    """relu whose derivative is 0.5 for |x| < 1e-6: right at 0 (a subgradient), wrong at
    x = 4e-7, where relu is differentiable with derivative 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xv = np.asarray(getattr(x, "data", x))
        return g * np.where(np.abs(xv) < 1e-6, 0.5, (xv > 0) * 1.0)


@pytest.mark.parametrize("value", [-4e-7, -1e-7, 1e-7, 4e-7])
def test_a_kink_near_the_point_accepts_only_the_slope_on_the_points_side(value):
    result = gradcheck(lambda x: ag.relu(x), _t([value, 1.0]))  # the true relu passes
    assert [p.input_element for p in result.nondiff] == [(0,)]
    assert not result.nondiff[0].at_point
    assert gradcheck(lambda x: ReluHalfNearZero.apply(x), _t([0.0, 1.0]))  # 0.5 at the kink
    result = gradcheck(lambda x: ReluHalfNearZero.apply(x), _t([value, 1.0]),
                       raise_exception=False)
    pair = result.failed_pairs[0]
    assert not result and pair.worst_input_element == (0,) and pair.analytical == 0.5
