"""The reference networks R1-R5: engine and hand-derived backprop agree, and each network
behaves as docs/reference-networks.md specifies.

The oracles here are written in this file: central differences in float64 of loss functions
written out in numpy, the spec's recipes re-typed, and the published facts as literals.
"""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.nn import functional as F
from autograd_nn.reference import common, r1, r2, r3, r4, r5

STEPS = 60  # at least 50 gradient steps compared in every agreement test


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def central_differences(loss, params, eps=1e-6):
    """d loss / d params[k] by central differences, perturbing copies one entry at a time."""
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][idx] += eps
            minus[name][idx] -= eps
            g[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        grads[name] = g
    return grads


def assert_close_to_fd(grads, fd, rtol=1e-5, atol=1e-8):
    for name in fd:
        np.testing.assert_allclose(grads[name], fd[name], rtol=rtol, atol=atol, err_msg=name)


# ---- the agreement machinery can fail -----------------------------------------------------------
def test_gradient_difference_sees_a_relative_error_of_1e_9():
    g = {"W": np.array([[0.3, -1.2], [2.0, 4e-3]])}
    assert common.gradient_difference(g, {"W": g["W"].copy()}) == 0.0
    off = {"W": g["W"] * (1 + 1e-9)}
    assert 5e-10 < common.gradient_difference(off, g) < 2e-9
    assert common.gradient_difference({"W": -g["W"]}, g) >= 1.0


# ---- R1 -----------------------------------------------------------------------------------------
X1 = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
Y1 = np.array([[0], [1], [1], [0]], dtype=float)


def r1_cost(W):
    yhat = sig(sig(sig(X1 @ W["W1"]) @ W["W2"]) @ W["W3"])
    return np.sum(0.5 * (Y1 - yhat) ** 2)


def test_r1_engine_and_hand_agree_every_step_and_with_finite_differences():
    report = r1.train_side_by_side(epochs=STEPS)
    assert len(report.step_diffs) == STEPS
    assert report.max_rel_diff < 1e-10 and report.ok
    assert report.three_way and [r.name for r in report.three_way] == ["W1", "W2", "W3"]
    np.random.seed(1)
    W = {"W1": np.random.randn(3, 4), "W2": np.random.randn(4, 5), "W3": np.random.randn(5, 1)}
    fd = central_differences(r1_cost, W)
    assert_close_to_fd(report.three_way.engine, fd)
    assert_close_to_fd(report.three_way.hand, fd)
    assert report.losses[0] == pytest.approx(r1_cost(W), rel=1e-14)


def test_r1_from_seed_1_is_bit_for_bit_the_same_both_ways():
    epochs = 300
    report = r1.train_side_by_side(epochs=epochs, check_fd=False)
    # the spec's recipe, re-typed here
    np.random.seed(1)
    W1, W2, W3 = np.random.randn(3, 4), np.random.randn(4, 5), np.random.randn(5, 1)
    for _ in range(epochs):
        a2 = sig(X1 @ W1)
        a3 = sig(a2 @ W2)
        yhat = sig(a3 @ W3)
        d4 = -(Y1 - yhat) * (yhat * (1 - yhat))
        d3 = (d4 @ W3.T) * (a3 * (1 - a3))
        d2 = (d3 @ W2.T) * (a2 * (1 - a2))
        W3 = W3 - 0.1 * (a3.T @ d4)
        W2 = W2 - 0.1 * (a2.T @ d3)
        W1 = W1 - 0.1 * (X1.T @ d2)
    engine = report.extra["W_engine"]
    assert report.bitwise_equal
    assert np.array_equal(engine["W1"], W1) and np.array_equal(engine["W2"], W2)
    assert np.array_equal(engine["W3"], W3)
    assert np.array_equal(report.extra["pred_engine"], sig(sig(sig(X1 @ W1) @ W2) @ W3))
    assert np.array_equal(report.extra["pred_engine"], report.extra["pred_hand"])


def test_r1_published_behaviour_predictions_end_close_to_the_labels():
    report = r1.train_side_by_side(check_fd=False)  # 5000 epochs, as specified
    assert report.bitwise_equal and report.max_rel_diff == 0.0
    np.testing.assert_allclose(report.extra["pred_engine"], Y1, atol=0.05)
    assert report.losses[-1] < report.losses[0] / 100


# ---- R2 -----------------------------------------------------------------------------------------
X2 = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)


def test_r2_agreement_and_the_updates_are_minus_the_gradient():
    report = r2.train_side_by_side(iterations=STEPS)
    assert len(report.step_diffs) == STEPS and report.max_rel_diff < 1e-10 and report.ok
    np.random.seed(1)
    W = {"W1": np.random.rand(3, 4), "W2": np.random.rand(4, 1)}
    fd = central_differences(lambda w: np.sum((Y1 - sig(sig(X2 @ w["W1"]) @ w["W2"])) ** 2), W)
    assert_close_to_fd(report.three_way.engine, fd)
    _, dW = r2.hand_updates(X2, Y1, {k: v.copy() for k, v in W.items()})
    assert_close_to_fd({k: -v for k, v in dW.items()}, fd)  # dW = -∂L/∂W


def test_r2_loss_decreases_monotonically_and_predictions_converge():
    report = r2.train_side_by_side(check_fd=False)  # 1500 iterations
    assert report.extra["monotonic"] and np.all(np.diff(report.losses) < 0)
    assert report.bitwise_equal
    np.testing.assert_allclose(report.extra["pred_engine"], Y1, atol=0.1)


# ---- R3 -----------------------------------------------------------------------------------------
X3 = np.array([[2, 9], [1, 5], [3, 6]], dtype=float)
Y3 = np.array([[92], [86], [89]], dtype=float) / 100


def test_r3_gradient_is_of_half_the_sum_and_reported_loss_is_the_mean():
    report = r3.train_side_by_side(iterations=STEPS)
    assert len(report.step_diffs) == STEPS and report.max_rel_diff < 1e-10 and report.ok
    np.random.seed(1)
    W = {"W1": np.random.randn(2, 3), "W2": np.random.randn(3, 1)}
    Xs = X3 / np.array([3.0, 9.0])
    fd = central_differences(
        lambda w: 0.5 * np.sum((Y3 - sig(sig(Xs @ w["W1"]) @ w["W2"])) ** 2), W)
    assert_close_to_fd(report.three_way.engine, fd)
    assert_close_to_fd(report.three_way.hand, fd)
    o = sig(sig(Xs @ W["W1"]) @ W["W2"])
    assert report.losses[0] == pytest.approx(np.mean((Y3 - o) ** 2), rel=1e-14)
    assert report.engine_losses[0] == pytest.approx(np.mean((Y3 - o) ** 2), rel=1e-14)


def test_r3_predict_scales_new_hours_with_the_training_maxima():
    report = r3.train_side_by_side(iterations=200, check_fd=False)
    W = report.extra["W_hand"]
    expected = 100 * sig(sig(np.array([4 / 3, 8 / 9]) @ W["W1"]) @ W["W2"])[0]
    wrong = 100 * sig(sig(np.array([4 / 4, 8 / 9]) @ W["W1"]) @ W["W2"])[0]  # max incl. new row
    assert abs(expected - wrong) > 1e-3  # the test can tell the two scalings apart
    assert r3.predict_score(W, 4, 8) == pytest.approx(expected, rel=1e-12)
    assert r3.predict_score(report.extra["model"], 4, 8) == pytest.approx(expected, rel=1e-12)
    assert report.extra["query_engine"] == pytest.approx(expected, rel=1e-12)
    several = r3.predict_score(W, [4, 2], [8, 9])
    assert several.shape == (2,) and several[0] == pytest.approx(expected, rel=1e-12)
    assert np.array_equal(report.extra["x_max"], [3.0, 9.0])


# ---- R4 -----------------------------------------------------------------------------------------
def test_r4_published_facts_exactly():
    net = r4.R4Net()
    with ag.no_grad():
        for neuron in (net.h1, net.h2, net.o1):
            neuron.weight.data[...] = [0.0, 1.0]
            neuron.bias.data[...] = 0.0
        assert net(ag.Tensor([2.0, 3.0])).item() == 0.7216325609518421
    assert F.mse_loss(ag.Tensor([0.0, 0, 0, 0]), ag.Tensor([1.0, 0, 0, 1])).item() == 0.5
    assert r4.published_facts() == {"forward": 0.7216325609518421, "mse": 0.5}


def test_r4_initial_parameters_follow_the_spec_order():
    np.random.seed(1)
    draws = [np.random.normal() for _ in range(9)]  # w1..w6, b1..b3
    net = r4.engine_model(seed=1)
    assert net.h1.weight.numpy().tolist() == draws[0:2]
    assert net.h2.weight.numpy().tolist() == draws[2:4]
    assert net.o1.weight.numpy().tolist() == draws[4:6]
    assert [net.h1.bias.item(), net.h2.bias.item(), net.o1.bias.item()] == draws[6:9]


def test_r4_agreement_sample_by_sample_and_the_trained_guesses():
    report = r4.train_side_by_side(epochs=200)
    assert len(report.step_diffs) == 800 and report.max_rel_diff < 1e-10 and report.ok
    assert report.max_param_diff <= 1e-12
    assert [row.epoch for row in report.log][:3] == [1, 10, 20] and report.log[-1].epoch == 200
    # the first sample's gradient, by central differences of the loss written out here
    np.random.seed(1)
    w = np.array([np.random.normal() for _ in range(9)])

    def loss(p):
        v = p["v"]
        x = np.array([-2.0, -1.0])
        h1 = sig(v[0] * x[0] + v[1] * x[1] + v[6])
        h2 = sig(v[2] * x[0] + v[3] * x[1] + v[7])
        return (1.0 - sig(v[4] * h1 + v[5] * h2 + v[8])) ** 2

    fd = central_differences(loss, {"v": w})["v"]
    e = report.three_way.engine
    got = np.concatenate([e["h1.weight"], e["h2.weight"], e["o1.weight"],
                          [e["h1.bias"], e["h2.bias"], e["o1.bias"]]])
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-9)
    model = report.extra["model"]
    assert r4.predict(model, [-7, -3]) > 0.5 > r4.predict(model, [20, 2])  # Emily, Frank
    assert "Emily" in report.result and "Frank" in report.result


def test_r4_predict_person_converts_kilograms_and_centimetres():
    model = r4.engine_model(seed=1)
    kg, cm = 60.0, 165.0
    features = [kg / 0.45359237 - 135, cm / 2.54 - 66]
    assert r4.predict_person(model, kg, cm) == pytest.approx(r4.predict(model, features),
                                                             rel=1e-12)
    hand = r4.HandNetwork(seed=1)
    assert r4.predict_person(hand, kg, cm) == pytest.approx(r4.predict(model, features),
                                                            rel=1e-12)


# ---- R5 -----------------------------------------------------------------------------------------
def test_r5_data_has_a_constant_column_and_training_statistics():
    d = r5.iris_data(seed=1)
    assert d["X_train"].shape == (120, 5) and d["X_test"].shape == (30, 5)
    assert np.all(d["X_train"][:, 4] == 1) and np.all(d["X_test"][:, 4] == 1)
    np.testing.assert_allclose(d["X_train"][:, :4].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d["X_train"][:, :4].std(axis=0), 1, atol=1e-12)
    assert d["Y_train"].shape == (120, 3) and np.all(d["Y_train"].sum(axis=1) == 1)
    assert np.array_equal(np.bincount(d["y_test"]), [10, 10, 10])  # stratified


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_r5_agreement_and_the_constant_factor(activation):
    report = r5.train_side_by_side(activation, iterations=STEPS)
    assert len(report.step_diffs) == STEPS and report.max_rel_diff < 1e-10 and report.ok
    d = r5.iris_data(seed=1)
    X, Y = d["X_train"], d["Y_train"]
    act = {"sigmoid": sig, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}[activation]
    W0 = r5.hand_init(seed=1)
    fd = central_differences(lambda w: np.mean((sig(act(X @ w["W1"]) @ w["W2"]) - Y) ** 2), W0)
    assert_close_to_fd(report.three_way.hand, fd, atol=1e-9)
    assert_close_to_fd(report.three_way.engine, fd, atol=1e-9)


def test_r5_accuracy_is_computed_from_the_largest_output():
    report = r5.train_side_by_side("tanh", iterations=100, check_fd=False)
    d = r5.iris_data(seed=1)
    with ag.no_grad():
        out = report.extra["model"](ag.Tensor(d["X_test"])).numpy()
    expected = float(np.mean(out.argmax(axis=1) == d["y_test"]))
    assert report.extra["test_accuracy"] == expected
    assert report.extra["hand_test_accuracy"] == expected
    assert f"{expected:.3f}" in report.result


def test_r5_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="unknown hidden activation 'gelu'"):
        r5.train_side_by_side("gelu", iterations=1)


def test_report_prints_the_table_the_log_and_the_result():
    text = str(r2.train_side_by_side(iterations=STEPS))
    assert "engine vs hand-derived vs central differences" in text
    assert "largest relative difference engine vs hand over all 60 steps" in text
    assert "result: predictions" in text
