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
from autograd_nn.gradcheck import (
    GradcheckError,
    GradcheckPrecisionWarning,
    gradcheck,
    gradgradcheck,
)


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


# ---- 3. inputs the function does not depend on are reported; a model's parameters in place ---
def _net(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    for p in net.parameters():
        p.data = rng.standard_normal(p.shape).astype(dtype)
    X = ag.Tensor(rng.standard_normal((5, 3)))
    y = ag.Tensor(rng.standard_normal((5, 1)))
    return net, X, y


def _mse(a, b):
    return ((a - b) ** 2).mean()


@pytest.mark.parametrize("as_generator", [False, True])
def test_a_function_that_ignores_the_copies_it_is_given_fails(as_generator):
    net, X, y = _net()
    params = net.parameters() if as_generator else list(net.parameters())
    result = ag.gradcheck(lambda *ps: _mse(net(X), y), params, raise_exception=False)
    assert not result
    (reason,) = result.cannot_vouch
    assert "no output of f depends on" in reason
    assert "ag.gradcheck(lambda: loss(net(X), y), net.parameters())" in reason


def test_a_models_parameters_are_checked_in_place_and_restored_bit_for_bit():
    net, X, y = _net()
    params = list(net.parameters())
    before = [(p.data, p.data.copy(), p.version, p.grad) for p in params]
    _mse(net(X), y).backward()  # a .grad to keep
    grads = [(p.grad, p.grad.data.copy()) for p in params]
    result = ag.gradcheck(lambda: _mse(net(X), y), net.parameters())
    assert result and len(result.pairs) == 4 and not result.cannot_vouch
    for p, (arr, bits, version, _), (g, gbits) in zip(params, before, grads):
        assert p.data is arr and p.version == version and p.grad is g
        np.testing.assert_array_equal(p.data, bits)
        np.testing.assert_array_equal(p.grad.data, gbits)
    # the check really differentiates the model: the engine's gradient is what it compared
    w = result.pairs[0].analytical_jacobian
    np.testing.assert_allclose(w, grads[0][1], rtol=1e-10)


def test_a_wrong_derivative_inside_a_model_is_caught_through_its_parameters():
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3.003 * x * x  # 3x² off by 0.1%

    net, X, y = _net()
    result = ag.gradcheck(lambda: Cube.apply(net(X)).sum(), dict(net.named_parameters()),
                          raise_exception=False)
    assert not result and {p.input for p in result.failed_pairs} == {
        n for n, _ in net.named_parameters()}
    assert "0.weight" in result.report


def test_parameters_are_restored_when_the_function_raises():
    net, X, y = _net(dtype=np.float32)
    params = list(net.parameters())
    arrays = [p.data for p in params]
    calls = []

    def f():
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return _mse(net(X), y)

    with pytest.warns(GradcheckPrecisionWarning), \
            pytest.raises(RuntimeError, match="boom"):
        ag.gradcheck(f, params)
    assert all(p.data is a and p.dtype == np.float32 for p, a in zip(params, arrays))


def test_float32_parameters_are_checked_on_float64_copies_and_stay_float32():
    net, X, y = _net(dtype=np.float32)
    seen = []
    with pytest.warns(GradcheckPrecisionWarning):
        assert ag.gradcheck(lambda: seen.append(net[0].weight.dtype) or _mse(net(X), y),
                            net.parameters())
    assert set(seen) == {np.dtype(np.float64)}
    assert all(p.dtype == np.float32 for p in net.parameters())


def test_the_no_argument_form_needs_live_tensors():
    with pytest.raises(TypeError, match="live Tensors"):
        ag.gradcheck(lambda: ag.Tensor(1.0), [np.ones(3)])
    w = _t([1.0, 2.0], "w")
    with pytest.raises(ValueError, match="same Tensor"):
        ag.gradcheck(lambda: (w * w).sum(), [w, w])


def test_an_input_one_output_ignores_is_fine_an_input_all_ignore_is_not():
    x, w = _t(X3, "x"), _t([1.0, 2.0], "w")
    result = gradcheck(lambda x, w: (ag.sin(x).sum(), w * 2.0), [x, w])  # each is used once
    assert result and not result.cannot_vouch
    result = gradcheck(lambda x, w: ag.sin(x).sum(), [x, w], raise_exception=False)
    assert not result and "'w'" in result.cannot_vouch[0]
    assert "allow_unused=True" in result.cannot_vouch[0] and "'x'" not in result.cannot_vouch[0]
    result = gradcheck(lambda x, w: ag.sin(x).sum(), [x, w], allow_unused=True)
    assert result and any("allow_unused=True" in n for n in result.notes)
    with pytest.raises(GradcheckError, match="no output of f depends"):
        gradcheck(lambda x: ag.Tensor(np.ones(2)), x)  # a constant output


def test_gradgradcheck_of_an_ignored_input_fails():
    x, w = _t(X3, "x"), _t([1.0, 2.0], "w")
    result = gradgradcheck(lambda x, w: ag.sin(x), [x, w], raise_exception=False)
    assert not result and "'w'" in result.cannot_vouch[0]
    assert gradgradcheck(lambda x, w: ag.sin(x), [x, w], allow_unused=True)


def test_the_other_checkers_take_the_no_argument_form_too():
    net, X, y = _net()
    w = net[0].weight
    arr = w.data
    jac = ag.numerical_jacobian(lambda: (w * w).sum(), [w])[0]
    np.testing.assert_allclose(jac, 2 * arr, rtol=1e-7)
    assert w.data is arr
    assert gradgradcheck(lambda: ag.tanh(net(X)).sum(), net.parameters())
    assert all(p.data.dtype == np.float64 for p in net.parameters()) and w.data is arr
    table = ag.eps_sweep(lambda: _mse(net(X), y), [w], eps_values=[1e-5, 1e-6])
    assert table.best.max_abs_error < 1e-8 and w.data is arr


def test_check_three_way_follows_the_same_contract():
    net, X, y = _net()
    named = dict(net.named_parameters())
    zeros = {n: np.zeros(p.shape) for n, p in named.items()}
    # copies ignored, and a hand derivation that is zero too: all three "agree" on nothing
    arrays = {n: p.data.copy() for n, p in named.items()}
    table = ag.check_three_way(lambda *ps: _mse(net(X), y), arrays, zeros)
    assert not table and "no output of f depends on" in table.cannot_vouch[0]
    _mse(net(X), y).backward()
    hand = {n: p.grad.data.copy() for n, p in named.items()}  # the engine's, as "hand" here
    assert ag.check_three_way(lambda: _mse(net(X), y), net.named_parameters(), hand)


# ---- 4. outputs without a graph are refused; checks too large to run say so first ----------
@pytest.mark.parametrize("make", [
    lambda x: float(ag.sin(x).sum()),
    lambda x: ag.sin(x).sum().item(),
    lambda x: np.float64(ag.sin(x).sum().data),
    lambda x: ag.sin(x).data,
    lambda x: (ag.sin(x).sum(), 3),
    lambda x: (ag.sin(x).sum(), 2.5),
], ids=["float", "item", "np.float64", "ndarray", "tuple with int", "tuple with float"])
def test_an_output_that_is_not_a_tensor_is_refused(make):
    for check in (gradcheck, gradgradcheck, ag.eps_sweep):
        with pytest.raises(TypeError, match="not a Tensor"):
            check(make, _t(X3))
    with pytest.raises(TypeError, match="not a Tensor"):
        ag.check_three_way(make, {"x": X3}, {"x": np.cos(X3)})


def test_a_full_check_that_needs_gigabytes_points_to_fast_mode_before_allocating():
    import tracemalloc

    x = _t(np.linspace(-1.0, 1.0, 20_000))  # a 20000 x 20000 Jacobian: 3.2 GB a copy
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="fast_mode=True") as info:
            gradcheck(lambda x: ag.tanh(x), x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "20000 x 20000" in str(info.value) and "GiB" in str(info.value)
    assert peak < 50 * 2**20
    assert gradcheck(lambda x: ag.tanh(x), x, fast_mode=True, seed=0)
    with pytest.raises(ValueError, match="fast_mode=True"):
        gradgradcheck(lambda x: ag.tanh(x), x)
    with pytest.raises(ValueError, match="GiB"):
        ag.eps_sweep(lambda x: ag.tanh(x), x)
    with pytest.raises(ValueError, match="GiB"):
        ag.numerical_jacobian(lambda x: ag.tanh(x), x)


# ---- 5. more ways to vouch for what was not measured -----------------------------------------
def test_an_output_cast_to_float32_cannot_be_checked():
    result = gradcheck(lambda x: ag.astype(ag.sin(x), np.float32), _t(X3),
                       raise_exception=False)
    assert not result and "lower precision" in result.cannot_vouch[0]
    assert "output (float32)" in result.cannot_vouch[0]


def test_a_function_that_writes_into_its_input_cannot_be_checked():
    def halve_then_square(x):
        x.data[...] = x.data * 0.5  # a raw write the engine does not see
        return (x * x).sum()

    result = gradcheck(halve_then_square, _t(X3), raise_exception=False)
    assert not result and "modified 'x' in place" in result.cannot_vouch[0]
    net, X, y = _net()
    w = net[0].weight
    arr, bits = w.data, w.data.copy()

    def decay_then_loss():
        w.data *= 0.5
        return _mse(net(X), y)

    result = gradcheck(decay_then_loss, net.parameters(), raise_exception=False)
    assert not result and "modified" in result.cannot_vouch[0]
    assert w.data is arr
    np.testing.assert_array_equal(arr, bits)


def test_tensors_held_constant_are_named_in_the_report():
    x, c = _t(X3, "x"), ag.Tensor(np.ones(3), name="scale")  # c: requires_grad forgotten
    result = gradcheck(lambda x, c: (x * c).sum(), [x, c])
    assert result and "held constant, not checked: scale" in result.report


def test_equal_infinities_are_not_agreement():
    # d/dx (x * 1e308) * 10 = 1e309: overflows to inf in the engine and in the differences
    x = _t([0.0])
    with np.errstate(over="ignore"):  # the overflow is the point
        result = gradcheck(lambda x: (x * 1e308) * 10.0, x, raise_exception=False)
        table = ag.check_three_way(lambda x: (x * 1e308) * 10.0, {"x": np.zeros(1)},
                                   {"x": np.full(1, np.inf)})
    assert not result and result.failed_pairs[0].n_failed == 1
    assert not table and not table["x"].ok
