"""Losses: values against numpy formulas, gradients against central differences of those
formulas (float64), stability at extreme logits, validation, module forms, PyTorch."""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.nn import functional as F


def central_diff(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def reduce_np(v, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](v)


def log_softmax_np(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def sigmoid_np(z):
    return 1 / (1 + np.exp(-z))


RNG = np.random.default_rng(2024)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 3))
P = RNG.uniform(0.05, 0.95, size=(5, 3))
T01 = RNG.uniform(0, 1, size=(5, 3))
LABELS = np.array([0, 2, 1, 2, 0])
PROBS = RNG.dirichlet(np.ones(3), size=5)

# name -> (engine loss(x, reduction), numpy per-element/per-sample formula(x), input)
CASES = {
    "mse": (lambda x, r: F.mse_loss(x, Y, reduction=r), lambda x: (x - Y) ** 2, X),
    "l1": (lambda x, r: F.l1_loss(x, Y, reduction=r), lambda x: np.abs(x - Y), X),
    "bce": (lambda x, r: F.binary_cross_entropy(x, T01, reduction=r),
            lambda p: -(T01 * np.log(p) + (1 - T01) * np.log(1 - p)), P),
    "bce_weighted": (
        lambda x, r: F.binary_cross_entropy(x, T01, weight=np.array([1.0, 2.0, 0.5]),
                                            reduction=r),
        lambda p: np.array([1.0, 2.0, 0.5]) * -(T01 * np.log(p) + (1 - T01) * np.log(1 - p)),
        P),
    "bce_logits": (lambda x, r: F.binary_cross_entropy_with_logits(x, T01, reduction=r),
                   lambda z: -(T01 * np.log(sigmoid_np(z)) + (1 - T01) * np.log(1 - sigmoid_np(z))),
                   X),
    "bce_logits_pos_weight": (
        lambda x, r: F.binary_cross_entropy_with_logits(
            x, T01, pos_weight=np.array([3.0, 1.0, 0.5]), reduction=r),
        lambda z: -(np.array([3.0, 1.0, 0.5]) * T01 * np.log(sigmoid_np(z))
                    + (1 - T01) * np.log(1 - sigmoid_np(z))),
        X),
    "ce_indices": (lambda x, r: F.cross_entropy(x, LABELS, reduction=r),
                   lambda z: -log_softmax_np(z)[np.arange(5), LABELS], X),
    "ce_probs": (lambda x, r: F.cross_entropy(x, PROBS, reduction=r),
                 lambda z: -(PROBS * log_softmax_np(z)).sum(axis=1), X),
    "nll": (lambda x, r: F.nll_loss(x, LABELS, reduction=r),
            lambda z: -z[np.arange(5), LABELS], X),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_value_and_gradient(name, reduction):
    loss_fn, formula, x0 = CASES[name]
    x = ag.Tensor(x0, requires_grad=True)
    loss = loss_fn(x, reduction)
    expected = reduce_np(formula(x0), reduction)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12, atol=1e-14)
    weights = RNG.normal(size=np.shape(expected))  # a random vector-Jacobian probe
    (loss * weights).sum().backward()
    fd = central_diff(lambda v: np.sum(reduce_np(formula(v), reduction) * weights), x0)
    np.testing.assert_allclose(x.grad.data, fd, rtol=1e-6, atol=1e-8)


def test_half_sum_of_squares_is_expressible_and_has_gradient_yhat_minus_y():
    yhat = ag.Tensor(X, requires_grad=True)
    J = 0.5 * F.mse_loss(yhat, Y, reduction="sum")
    assert J.item() == pytest.approx(np.sum(0.5 * (Y - X) ** 2), rel=1e-14)
    J.backward()
    np.testing.assert_allclose(yhat.grad.data, X - Y, rtol=1e-14)


def test_gradient_flows_to_a_target_that_requires_grad():
    x = ag.Tensor(X, requires_grad=True)
    y = ag.Tensor(Y, requires_grad=True)
    F.mse_loss(x, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.data, 2 * (Y - X), rtol=1e-14)
    p = ag.Tensor(P, requires_grad=True)
    t = ag.Tensor(T01, requires_grad=True)
    F.binary_cross_entropy(p, t, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.data, np.log(1 - P) - np.log(P), rtol=1e-12)


def test_cross_entropy_one_hot_equals_indices_and_float_indices_work():
    x = ag.Tensor(X)
    onehot = np.eye(3)[LABELS]
    a = F.cross_entropy(x, LABELS).item()
    assert F.cross_entropy(x, onehot).item() == pytest.approx(a, rel=1e-14)
    assert F.cross_entropy(x, LABELS.astype(np.float64)).item() == pytest.approx(a, rel=1e-14)
    assert F.cross_entropy(x, ag.Tensor(LABELS)).item() == pytest.approx(a, rel=1e-14)
    single = F.cross_entropy(ag.Tensor(X[1]), 2).item()
    assert single == pytest.approx(-log_softmax_np(X[1])[2], rel=1e-14)


def test_stability_at_extreme_logits():
    z = ag.Tensor([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]], requires_grad=True)
    loss = F.cross_entropy(z, [0, 0, 1], reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 2000.0, np.log(2)], rtol=1e-14)
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.data, [[0, 0], [-1, 1], [0.5, -0.5]], atol=1e-15)
    z.grad = None
    soft = F.cross_entropy(z, np.array([[0.25, 0.75], [1.0, 0.0], [0.5, 0.5]]), reduction="none")
    np.testing.assert_allclose(soft.data, [1500.0, 2000.0, np.log(2)], rtol=1e-14)
    soft.sum().backward()
    np.testing.assert_allclose(z.grad.data, [[0.75, -0.75], [-1, 1], [0, 0]], atol=1e-15)

    s = ag.Tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    t = np.array([1.0, 0.0, 0.0, 1.0])
    bce = F.binary_cross_entropy_with_logits(s, t, reduction="none")
    np.testing.assert_allclose(bce.data, [0, 0, 1000, 1000], rtol=1e-14, atol=0)
    bce.sum().backward()
    np.testing.assert_allclose(s.grad.data, [0, 0, 1, -1], atol=1e-15)
    # small losses keep their relative accuracy (not computed as a difference of large terms)
    tiny = F.binary_cross_entropy_with_logits(ag.Tensor([40.0]), [1.0], reduction="sum").item()
    assert tiny == pytest.approx(np.exp(-40.0), rel=1e-12)


def test_bce_on_saturated_probabilities_is_finite_like_pytorch():
    p = ag.Tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_array_equal(loss.data, [0.0, 0.0, 100.0, 100.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.data))
    np.testing.assert_allclose(p.grad.data, [0.0, 0.0, -1e12, 1e12])
    with pytest.raises(ValueError, match="probability"):
        F.binary_cross_entropy(ag.Tensor([1.5]), [1.0])


def test_bce_primitive_second_derivative_matches_fd():
    p0 = np.array([0.2, 0.7, 0.4])
    t = np.array([0.0, 1.0, 0.3])
    p = ag.Tensor(p0, requires_grad=True)
    (g,) = ag.autograd.grad(F.binary_cross_entropy(p, t, reduction="sum"), [p],
                            create_graph=True)
    (h,) = ag.autograd.grad(g.sum(), [p])

    def grad_np(v):
        return np.sum((v - t) / (v * (1 - v)))

    np.testing.assert_allclose(h.data, central_diff(grad_np, p0), rtol=1e-6)


@pytest.mark.parametrize("fn, args", [
    (F.mse_loss, (X, Y)), (F.l1_loss, (X, Y)), (F.binary_cross_entropy, (P, T01)),
    (F.binary_cross_entropy_with_logits, (X, T01)), (F.cross_entropy, (X, LABELS)),
    (F.nll_loss, (X, LABELS)),
])
def test_unknown_reduction_is_named(fn, args):
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        fn(*args, reduction="avg")


def test_label_and_shape_errors():
    with pytest.raises(ValueError, match="class index 3 .* out of range for 3 classes"):
        F.cross_entropy(X, np.array([0, 1, 3, 0, 0]))
    with pytest.raises(ValueError, match="class index -1 .* out of range"):
        F.cross_entropy(X, np.array([0, -1, 2, 0, 0]))
    with pytest.raises(ValueError, match="y.ravel"):
        F.cross_entropy(X, LABELS.reshape(-1, 1))
    with pytest.raises(ValueError, match="whole"):
        F.cross_entropy(X, np.array([0.5, 1, 2, 0, 0]))
    with pytest.raises(ValueError, match="shape \\(N, C\\)"):
        F.cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"input shape \(5, 1\) and target shape \(5,\).*"
                                         r"reshape"):
        F.mse_loss(X[:, :1], Y[:, 0])
    with pytest.raises(TypeError, match="floating"):
        F.mse_loss(np.array([1, 2]), np.array([1, 2]))


def test_module_forms_match_functions():
    pairs = [
        (nn.MSELoss(), F.mse_loss, (X, Y)), (nn.L1Loss(reduction="sum"),
                                               lambda a, b: F.l1_loss(a, b, reduction="sum"),
                                               (X, Y)),
        (nn.BCELoss(), F.binary_cross_entropy, (P, T01)),
        (nn.BCEWithLogitsLoss(pos_weight=2.0),
         lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=2.0), (X, T01)),
        (nn.CrossEntropyLoss(), F.cross_entropy, (X, LABELS)),
        (nn.NLLLoss(), F.nll_loss, (X, LABELS)),
    ]
    for module, fn, args in pairs:
        assert module(*args).item() == fn(*args).item()
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    with pytest.raises(ValueError, match="unknown reduction 'total'"):
        nn.CrossEntropyLoss(reduction="total")


def test_losses_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional

    cases = [
        (F.mse_loss, tf.mse_loss, X, Y),
        (F.l1_loss, tf.l1_loss, X, Y),
        (F.binary_cross_entropy, tf.binary_cross_entropy, P, T01),
        (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits, X * 30, T01),
        (F.cross_entropy, tf.cross_entropy, X, LABELS),
        (F.cross_entropy, tf.cross_entropy, X * 500, PROBS),
        (F.nll_loss, tf.nll_loss, X, LABELS),
    ]
    for ours, theirs, x0, t in cases:
        x = ag.Tensor(x0, requires_grad=True)
        loss = ours(x, t)
        loss.backward()
        xt = torch.tensor(x0, requires_grad=True)
        lt = theirs(xt, torch.tensor(t))
        lt.backward()
        np.testing.assert_allclose(loss.item(), lt.item(), rtol=1e-12, err_msg=ours.__name__)
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-14,
                                   err_msg=ours.__name__)
