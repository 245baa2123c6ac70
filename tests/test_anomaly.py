"""``detect_anomaly()``: the first NaN/inf in a forward result or a backward gradient raises
`AnomalyError` naming the op, its operands' shapes and the line of *this* file that created
it; raw numpy writes into saved arrays are caught by checksums; off by default (numpy's NaN
semantics, with its RuntimeWarning), thread-local, and restored on exit."""

from __future__ import annotations

import sys
import threading
import warnings
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from strategies_graphs import programs

import autograd_nn as ag
from autograd_nn.mode import STATE

HERE = __file__


def leaf(x) -> ag.Tensor:
    return ag.Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def next_line() -> int:
    """The number of the caller's next line (where the op under test is created)."""
    return sys._getframe(1).f_lineno + 1


def assert_site(msg: str, line: int) -> None:
    assert f'File "{HERE}", line {line}' in msg, msg
    assert "autograd_nn/" not in msg.split("Created at")[-1].split("created at")[-1]


@pytest.fixture(autouse=True)
def quiet_numpy():
    with np.errstate(all="ignore"):
        yield


# ---- forward ------------------------------------------------------------------------------------
def test_log_of_a_negative_number_names_op_shapes_and_line():
    x = leaf([[1.0, -2.0, 3.0], [1.0, 2.0, 3.0]])
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as e:
        line = next_line()
        ag.log(x)
    msg = str(e.value)
    assert "log produced NaN in its forward result" in msg
    assert "(2, 3)" in msg
    assert_site(msg, line)


def test_zero_times_inf_names_the_operand_that_was_already_infinite():
    a = leaf([0.0, 1.0])
    b = ag.Tensor([np.inf, 1.0])
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as e:
        line = next_line()
        a * b
    msg = str(e.value)
    assert "multiply produced NaN" in msg
    assert "(2,), (2,)" in msg
    assert "operand(s) [1] already held non-finite values" in msg
    assert_site(msg, line)


def test_overflow_to_inf_is_an_anomaly():
    x = leaf([1.0, 800.0])
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="exp produced inf"):
        ag.exp(x)


def test_nan_input_is_reported_at_the_first_op_that_uses_it():
    x = leaf([1.0, np.nan])
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as e:
        line = next_line()
        ag.tanh(x * 2.0)
    assert "multiply produced NaN" in str(e.value)
    assert "operand(s) [0] already held" in str(e.value)
    assert_site(str(e.value), line)


def test_the_site_is_the_users_line_even_inside_nn_modules():
    nn = pytest.importorskip("autograd_nn.nn")
    layer = nn.Linear(2, 3, rng=0)
    x = ag.Tensor([[np.inf, 1.0]])
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as e:
        line = next_line()
        layer(x)
    assert "matmul produced NaN" in str(e.value) or "matmul produced inf" in str(e.value)
    assert_site(str(e.value), line)


# ---- backward -----------------------------------------------------------------------------------
def test_nan_only_in_backward_names_the_op_and_its_creation_line():
    x = leaf([0.0, 4.0])
    with ag.detect_anomaly():
        line = next_line()
        r = ag.sqrt(x)
        y = (r * 0.0).sum()  # forward is finite: 0 everywhere
        with pytest.raises(ag.AnomalyError) as e:
            y.backward()  # sqrt'(0) = inf, times 0 -> NaN
    msg = str(e.value)
    assert "sqrt backward produced NaN in the gradient of operand 0" in msg
    assert "operand shapes: (2,)" in msg
    assert_site(msg, line)
    assert x.grad is None


def test_custom_function_returning_nan_is_named():
    class Leaky(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * np.nan

    x = leaf([1.0, 2.0, 3.0])
    with ag.detect_anomaly():
        line = next_line()
        y = Leaky.apply(x).sum()
        with pytest.raises(ag.AnomalyError) as e:
            y.backward()
    assert "Leaky backward produced NaN" in str(e.value)
    assert_site(str(e.value), line)


def test_nan_in_a_backward_rule_under_create_graph_names_the_differentiated_op():
    x = leaf([0.0, 4.0])
    with ag.detect_anomaly():
        line = next_line()
        y = (ag.sqrt(x) * 0.0).sum()
        with pytest.raises(ag.AnomalyError) as e:
            ag.autograd.grad(y, [x], create_graph=True)
    msg = str(e.value)
    assert msg.startswith("sqrt backward produced NaN"), msg
    assert "create_graph" in msg
    assert_site(msg, line)


def test_graph_built_outside_the_context_is_still_checked_in_backward():
    x = leaf([0.0, 4.0])
    y = (ag.sqrt(x) * 0.0).sum()
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError, match="sqrt backward .*unknown"):
        y.backward()


# ---- raw writes into saved arrays ---------------------------------------------------------------
@pytest.mark.parametrize("write", [
    lambda w: w.data.__setitem__(0, 7.0),
    lambda w: np.asarray(w).__setitem__(slice(None), 0.0),
    lambda w: np.add(w.data, 1.0, out=w.data),
    lambda w: w.numpy().__imul__(2.0),
])
def test_raw_numpy_write_into_a_saved_operand_is_caught(write):
    x = leaf([1.0, 2.0])
    w = ag.Tensor([3.0, 4.0])
    with ag.detect_anomaly():
        line = next_line()
        y = (x * w).sum()
        write(w)
        assert w.version == 0  # no counter saw it
        with pytest.raises(ag.AnomalyError) as e:
            y.backward()
    msg = str(e.value)
    assert "multiply: saved array 1 (shape (2,)) was modified after the forward pass" in msg
    assert_site(msg, line)


def test_raw_write_into_a_saved_output_is_caught():
    x = leaf([1.0, 2.0])
    with ag.detect_anomaly():
        e_ = ag.exp(x)
        e_.data[1] = 0.0
        with pytest.raises(ag.AnomalyError, match="exp: saved array 0"):
            e_.sum().backward()


def test_without_anomaly_mode_a_raw_write_is_not_caught():
    """The honest limit: a numpy write behind the engine's back goes unnoticed outside
    detect_anomaly() (the gradient silently uses the new value)."""
    x = leaf([1.0, 2.0])
    w = ag.Tensor([3.0, 4.0])
    y = (x * w).sum()
    w.data[0] = 7.0
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [7.0, 4.0])


# ---- off by default: numpy's semantics ----------------------------------------------------------
def test_off_by_default_nan_propagates_with_numpys_warning():
    assert STATE.anomaly is False
    x = leaf([-1.0, 4.0])
    with np.errstate(all="warn"), pytest.warns(RuntimeWarning, match="invalid value"):
        y = ag.log(x)
    assert np.isnan(y.data[0]) and y.data[1] == np.log(4.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.25])  # 1/x, as numpy computes it


def test_off_by_default_nan_in_backward_propagates():
    x = leaf([0.0, 4.0])
    (ag.sqrt(x) * 0.0).sum().backward()
    assert np.isnan(x.grad.data[0]) and x.grad.data[1] == 0.0


def test_finite_graphs_give_the_same_results_with_and_without_anomaly_mode():
    rng = np.random.default_rng(3)
    xs = rng.normal(size=(4, 3))
    ws = rng.normal(size=(3, 2))

    def run():
        x, w = leaf(xs), leaf(ws)
        h = ag.tanh(x @ w)
        y = (ag.log_softmax(h, axis=1) * ag.softmax(h, axis=0)).sum() + ag.logsumexp(x) \
            + ag.sqrt(x * x + 1.0).mean() + ag.max(x, axis=0).sum() + x[[0, 0, 2]].prod()
        y.backward()
        return y.item(), x.grad.data, w.grad.data

    plain = run()
    with ag.detect_anomaly():
        checked = run()
    assert plain[0] == checked[0]
    np.testing.assert_array_equal(plain[1], checked[1])
    np.testing.assert_array_equal(plain[2], checked[2])


def test_saved_arrays_are_still_released_after_backward_in_anomaly_mode():
    x = leaf([1.0, 2.0])
    with ag.detect_anomaly():
        h = ag.exp(x)
        y = (h * h).sum()
        saved = weakref.ref(h.grad_fn.saved_tensors[0])
        node = h.grad_fn
        del h
        y.backward()
        del y  # the graph's structure lives as long as its output, as in PyTorch
    assert node.saved_tensors is None
    assert saved() is None  # the anomaly record keeps checksums, not the arrays


# ---- the context manager ------------------------------------------------------------------------
def test_context_restores_the_previous_state_when_nested_and_on_errors():
    assert STATE.anomaly is False
    with ag.detect_anomaly():
        assert STATE.anomaly is True
        with ag.detect_anomaly():
            assert STATE.anomaly is True
        assert STATE.anomaly is True
    assert STATE.anomaly is False
    with pytest.raises(ag.AnomalyError), ag.detect_anomaly():
        ag.log(leaf([-1.0]))
    assert STATE.anomaly is False
    ctx = ag.detect_anomaly()  # one object, entered twice in turn
    with ctx:
        pass
    with ctx:
        assert STATE.anomaly is True
    assert STATE.anomaly is False


def test_anomaly_mode_is_thread_local():
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def other():
        seen["before"] = STATE.anomaly
        with ag.detect_anomaly():
            inside.set()
            release.wait(5)
            try:
                with np.errstate(all="ignore"):
                    ag.log(leaf([-1.0]))
                seen["raised"] = False
            except ag.AnomalyError:
                seen["raised"] = True

    with ag.detect_anomaly():
        t = threading.Thread(target=other)
        t.start()
        inside.wait(5)
    # the main thread left its context while the other thread is inside its own
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = ag.log(leaf([-1.0]))  # no error here
    release.set()
    t.join(5)
    assert seen == {"before": False, "raised": True}
    assert np.isnan(y.data[0])
    assert STATE.anomaly is False


def test_anomaly_error_is_a_runtime_error():
    assert issubclass(ag.AnomalyError, RuntimeError)


# ---- no false alarms ----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(programs(max_steps=5))
def test_random_finite_graphs_raise_nothing_and_give_the_same_gradients(prog):
    """Anomaly mode on graphs with finite values and gradients (tests/strategies_graphs.py):
    no AnomalyError (no checksum false alarm from an op that changes its own saved arrays) and
    bit-identical values and gradients."""

    def run():
        leaves, _, loss = prog.build("ag")
        loss.backward()
        return loss.data, [x.grad.data for x in leaves if x.grad is not None]

    plain = run()
    with ag.detect_anomaly():
        checked = run()
    np.testing.assert_array_equal(plain[0], checked[0])
    assert len(plain[1]) == len(checked[1])
    for a, b in zip(plain[1], checked[1]):
        np.testing.assert_array_equal(a, b)
