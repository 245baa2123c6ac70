"""numerical_grad / numerical_jacobian against derivatives written out by hand; the gradient
tables (compare_gradients, check_three_way) and the eps sweep."""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.gradcheck import (
    check_three_way,
    compare_gradients,
    eps_sweep,
    numerical_grad,
    numerical_jacobian,
)


# ---- finite differences --------------------------------------------------------------------
def test_numerical_grad_matches_calculus():
    x = np.array([0.3, -1.1, 2.0])
    g = numerical_grad(lambda t: (t ** 3).sum() + ag.sin(t).sum(), x)
    np.testing.assert_allclose(g, 3 * x ** 2 + np.cos(x), rtol=1e-8)
    assert g.dtype == np.float64 and g.shape == x.shape


def test_numerical_grad_of_several_inputs_skips_constants():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), ag.Tensor([0.5, -0.5], requires_grad=True)
    ga, gb, gc = numerical_grad(lambda a, b, c: ((a @ b) * c).sum(), [a, b, 3])
    np.testing.assert_allclose(ga, 3 * np.outer(np.ones(2), b.data), rtol=1e-8)
    np.testing.assert_allclose(gb, 3 * a.sum(axis=0), rtol=1e-8)
    assert gc is None


def test_numerical_grad_without_requires_grad_uses_floating_inputs():
    g = numerical_grad(lambda t: (t * t).sum(), ag.Tensor([1.0, -2.0]))
    np.testing.assert_allclose(g, [2.0, -4.0], rtol=1e-8)


def test_numerical_grad_is_float64_for_float32_inputs():
    x = np.array([0.1, 0.2], dtype=np.float32)
    g = numerical_grad(lambda t: (t * t).sum(), x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x.astype(np.float64), rtol=1e-8)
    assert x.dtype == np.float32


def test_numerical_jacobian_layout_is_output_shape_then_input_shape():
    w = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    x = np.array([0.2, 0.4, 0.6])
    jac = numerical_jacobian(lambda t: ag.Tensor(w) @ t, x)
    np.testing.assert_allclose(jac, w, atol=1e-9)
    j_out = numerical_jacobian(lambda t: (ag.exp(t), t.sum()), x)
    assert j_out[0].shape == (3, 3) and j_out[1].shape == (3,)
    np.testing.assert_allclose(j_out[0], np.diag(np.exp(x)), rtol=1e-8)
    j_in = numerical_jacobian(lambda a, b: a * b, [x, x * 2])
    np.testing.assert_allclose(j_in[0], np.diag(x * 2), rtol=1e-8)
    np.testing.assert_allclose(j_in[1], np.diag(x), rtol=1e-8)


def test_numerical_grad_rejects_vector_outputs():
    with pytest.raises(ValueError, match="single-element"):
        numerical_grad(lambda t: t * 2, np.ones(3))


# ---- compare_gradients ---------------------------------------------------------------------
def test_compare_gradients_table_content():
    engine = {"w": np.array([1.0, 2.0, 3.0]), "b": ag.Tensor([0.5])}
    hand = {"w": np.array([1.0, 2.0, 3.5]), "b": np.array([0.5])}
    table = compare_gradients(engine, hand, labels=("engine", "hand"))
    assert not table and len(table) == 2
    assert table["w"].max_abs_diff == pytest.approx(0.5)
    assert table["w"].max_rel_diff == pytest.approx(0.5 / 3.5)
    assert not table["w"].ok and table["b"].ok and table["b"].max_abs_diff == 0
    text = str(table)
    assert "engine" in text and "hand" in text and "5.00e-01" in text
    lines = text.splitlines()
    row_w = next(line for line in lines if line.startswith("w "))
    assert row_w.split()[-1] == "NO" and "(3,)" in row_w
    assert "1 of 2 DISAGREE" in text
    header = next(line for line in lines if line.startswith("name"))
    assert row_w.index("(3,)") == header.index("shape")  # aligned columns


def test_compare_gradients_sequences_names_and_tolerances():
    a = [np.ones(2), np.zeros((2, 2))]
    b = [np.ones(2) * (1 + 1e-6), np.zeros((2, 2))]
    assert not compare_gradients(a, b, names=["x", "y"])
    table = compare_gradients(a, b, names=["x", "y"], rtol=1e-5)
    assert table and [r.name for r in table] == ["x", "y"]
    assert "all 2 agree" in str(table)


def test_compare_gradients_mismatches():
    with pytest.raises(ValueError, match="missing"):
        compare_gradients({"w": np.ones(2)}, {"v": np.ones(2)})
    table = compare_gradients({"w": np.ones((1, 3))}, {"w": np.ones(3)})
    assert not table and "shape (1, 3) vs (3,)" in str(table)


# ---- check_three_way on a small sigmoid network (R1's shape, fewer units) ----------------------
X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)
_rng = np.random.default_rng(1)
PARAMS = {"W1": _rng.standard_normal((3, 4)), "W2": _rng.standard_normal((4, 1))}


def loss(w1, w2):
    yhat = ag.sigmoid(ag.sigmoid(ag.Tensor(X) @ w1) @ w2)
    return (0.5 * (ag.Tensor(Y) - yhat) ** 2).sum()


def hand_grads(w1, w2):
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    a2 = sig(X @ w1)
    yhat = sig(a2 @ w2)
    d3 = -(Y - yhat) * yhat * (1 - yhat)
    d2 = (d3 @ w2.T) * a2 * (1 - a2)
    return {"W1": X.T @ d2, "W2": a2.T @ d3}


def test_three_way_agrees_for_a_correct_hand_derivation():
    table = check_three_way(loss, PARAMS, hand_grads(**{k.lower(): v for k, v in PARAMS.items()}))
    assert table and [r.name for r in table] == ["W1", "W2"]
    assert table["W1"].shape == (3, 4) and table["W2"].shape == (4, 1)
    assert table["W1"].engine_hand_abs < 1e-12 and table["W1"].engine_fd_abs < 1e-8
    text = str(table)
    assert "max|engine-hand|" in text and "max|hand-fd|" in text
    assert "all 2 parameters agree" in text
    assert set(table.numerical) == {"W1", "W2"}


def test_three_way_flags_a_wrong_hand_derivation():
    hand = hand_grads(PARAMS["W1"], PARAMS["W2"])
    hand["W2"] = hand["W2"] * 1.01
    table = check_three_way(loss, PARAMS, hand)
    assert not table and table["W1"].ok and not table["W2"].ok
    assert table["W2"].engine_fd_abs < 1e-8 < table["W2"].hand_fd_abs
    assert table["W2"].engine_hand_rel == pytest.approx(0.01 / 1.01, rel=1e-6)
    row = next(line for line in str(table).splitlines() if line.startswith("W2"))
    assert row.split()[-1] == "NO"


def test_three_way_closure_over_live_parameters_restores_them():
    w1 = ag.Tensor(PARAMS["W1"], requires_grad=True)
    w2 = ag.Tensor(PARAMS["W2"].astype(np.float32), requires_grad=True)
    before1, before2 = w1.data, w2.data
    with pytest.warns(UserWarning, match="float64"):
        table = check_three_way(lambda: loss(w1, w2), {"W1": w1, "W2": w2},
                                hand_grads(PARAMS["W1"], w2.data.astype(np.float64)))
    assert table
    assert w1.data is before1 and w2.data is before2 and w2.dtype == np.float32
    np.testing.assert_array_equal(w1.data, PARAMS["W1"])


def test_three_way_with_precomputed_columns():
    hand = {"a": np.array([1.0, 2.0])}
    table = check_three_way(None, {"a": np.zeros(2)}, hand, engine=hand,
                            numerical={"a": np.array([1.0, 2.1])})
    assert not table and table["a"].engine_fd_abs == pytest.approx(0.1)
    with pytest.raises(ValueError, match="missing"):
        check_three_way(loss, PARAMS, {"W1": np.zeros((3, 4))})


def test_three_way_refuses_a_none_gradient_before_running_loss_fn():
    calls = []

    def counted(w1, w2):
        calls.append(1)
        return loss(w1, w2)

    hand = hand_grads(PARAMS["W1"], PARAMS["W2"])
    hand["W2"] = None
    with pytest.raises(TypeError, match=r"check_three_way: .*hand\['W2'\]"):
        check_three_way(counted, PARAMS, hand)
    assert calls == []
    with pytest.raises(TypeError, match=r"engine\['a'\]"):
        check_three_way(None, {"a": np.zeros(2)}, {"a": np.ones(2)}, engine={"a": None},
                        numerical={"a": np.ones(2)})


# ---- eps sweep -------------------------------------------------------------------------------
def smooth(x):
    return (ag.sin(x) * ag.exp(x)).sum()


def test_eps_sweep_is_v_shaped():
    table = eps_sweep(smooth, np.array([0.3, 1.2, -0.7]))
    assert len(table) == 12 and table.eps[0] == pytest.approx(1e-1)
    mid = table.row(1e-6).max_abs_error
    assert mid < table.row(1e-1).max_abs_error / 100
    assert mid < table.row(1e-12).max_abs_error / 100
    assert 1e-8 <= table.best.eps <= 1e-3
    text = str(table)
    assert "1e-06" in text and "<- best" in text and "max abs error" in text


def test_eps_sweep_in_float32_bottoms_out_higher():
    x = np.array([0.3, 1.2, -0.7])
    f64, f32 = eps_sweep(smooth, x), eps_sweep(smooth, x, dtype="float32")
    assert f32.best.max_abs_error > 100 * f64.best.max_abs_error
    assert f32.best.eps > f64.best.eps


def test_eps_sweep_plot(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "sweep.png"
    table = eps_sweep(smooth, np.array([0.3, 1.2]), eps_values=[1e-2, 1e-5, 1e-8, 1e-11],
                      plot=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert table.plot_path == str(path)


def test_eps_sweep_plot_without_matplotlib(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    table = eps_sweep(smooth, np.array([0.3]), eps_values=[1e-4])
    with pytest.raises(ImportError, match="pip install matplotlib"):
        table.plot("never.png")
