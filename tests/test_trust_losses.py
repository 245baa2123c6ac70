"""Losses never silently wrong (issue 10): weights broadcast to the input's shape without
changing it (PyTorch's rule) for every loss with a weight argument, binary cross-entropy
targets are probabilities, and harmless underflow does not raise under
``np.errstate(all='raise')``. Oracle: PyTorch where installed, numpy formulas otherwise."""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.nn import functional as F

RNG = np.random.default_rng(10)
P41 = RNG.uniform(0.05, 0.95, size=(4, 1))
Z41 = RNG.normal(size=(4, 1))
T41 = RNG.uniform(0, 1, size=(4, 1))

# every way a weight reaches a loss: (label, call(weight) for input (4, 1))
WEIGHTED = {
    "bce weight": lambda w: F.binary_cross_entropy(P41, T41, weight=w, reduction="none"),
    "bce_logits weight": lambda w: F.binary_cross_entropy_with_logits(Z41, T41, weight=w,
                                                                      reduction="none"),
    "bce_logits pos_weight": lambda w: F.binary_cross_entropy_with_logits(
        Z41, T41, pos_weight=w, reduction="none"),
    "BCELoss weight": lambda w: nn.BCELoss(weight=w, reduction="none")(P41, T41),
    "BCEWithLogitsLoss weight": lambda w: nn.BCEWithLogitsLoss(weight=w,
                                                               reduction="none")(Z41, T41),
    "BCEWithLogitsLoss pos_weight": lambda w: nn.BCEWithLogitsLoss(
        pos_weight=w, reduction="none")(Z41, T41),
}
ARG = {k: ("pos_weight" if "pos_weight" in k else "weight") for k in WEIGHTED}

BAD_WEIGHTS = {
    "(N,) against (N, 1)": np.arange(1.0, 5.0),          # would broadcast to (4, 4)
    "(3,) against (4, 1)": np.array([1.0, 2.0, 3.0]),     # would broadcast to (4, 3)
    "extra leading axis": np.ones((2, 4, 1)),             # would grow the rank
    "incompatible": np.ones((3, 1)),
    "Tensor (N,)": ag.Tensor(np.arange(1.0, 5.0), requires_grad=True),
}


@pytest.mark.parametrize("case", sorted(WEIGHTED))
@pytest.mark.parametrize("bad", sorted(BAD_WEIGHTS))
def test_a_weight_that_would_change_the_shape_is_refused(case, bad):
    w = BAD_WEIGHTS[bad]
    with pytest.raises(ValueError, match=rf"{ARG[case]} of shape \({w.shape[0]}"):
        WEIGHTED[case](w)


def test_non_numeric_weight_is_refused():
    with pytest.raises(TypeError, match="weight has unsupported dtype"):
        F.binary_cross_entropy(P41, T41, weight=np.array(["a"] * 4).reshape(4, 1))



@pytest.mark.parametrize("in_shape", [(5, 1), (5, 3)])
@pytest.mark.parametrize("w_shape", [(), (1,), (3,), (5,), (5, 1), (5, 3), (1, 3), (1, 5, 1)])
def test_weights_follow_pytorchs_rule(in_shape, w_shape):
    """Where PyTorch refuses a weight we refuse it; where it accepts, the losses agree."""
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(7)
    p, z = rng.uniform(0.05, 0.95, in_shape), rng.normal(size=in_shape)
    t, w = rng.uniform(0, 1, in_shape), rng.uniform(0.5, 2.0, size=w_shape)
    tt = torch.tensor
    pairs = [
        (lambda: F.binary_cross_entropy(p, t, weight=w, reduction="none"),
         lambda: tf.binary_cross_entropy(tt(p), tt(t), weight=tt(w), reduction="none")),
        (lambda: F.binary_cross_entropy_with_logits(z, t, weight=w, reduction="none"),
         lambda: tf.binary_cross_entropy_with_logits(tt(z), tt(t), weight=tt(w),
                                                     reduction="none")),
        (lambda: F.binary_cross_entropy_with_logits(z, t, pos_weight=w, reduction="none"),
         lambda: tf.binary_cross_entropy_with_logits(tt(z), tt(t), pos_weight=tt(w),
                                                     reduction="none")),
    ]
    for ours, theirs in pairs:
        try:
            expected = theirs().numpy()
        except RuntimeError:
            with pytest.raises(ValueError, match="does not broadcast to the input's shape"):
                ours()
            continue
        np.testing.assert_allclose(ours().numpy(), expected, rtol=1e-12)


# binary_cross_entropy_with_logits accepts any target, as PyTorch does (its formula
# t softplus(-x) + (1-t) softplus(x) is defined everywhere); probabilities are checked.
TARGET_LOSSES = {
    "binary_cross_entropy": lambda t: F.binary_cross_entropy(np.full(3, 0.5), t),
    "BCELoss": lambda t: nn.BCELoss()(np.full(3, 0.5), t),
}


@pytest.mark.parametrize("loss", sorted(TARGET_LOSSES))
@pytest.mark.parametrize("target", [[0.0, 1.0, 2.0], [-0.5, 0.0, 1.0], [0.0, np.nan, 1.0],
                                    [0, 3, 1]])
def test_binary_targets_outside_0_1_are_refused(loss, target):
    with pytest.raises(ValueError, match=r"target must be a probability in \[0, 1\]"):
        TARGET_LOSSES[loss](np.array(target))
    with pytest.raises(ValueError, match=r"target must be a probability in \[0, 1\]"):
        TARGET_LOSSES[loss](ag.Tensor(np.array(target, dtype=float)))
    assert np.isfinite(TARGET_LOSSES[loss](np.array([0.0, 1.0, 0.25])).item())  # the ends


# The underflow lived in the shared primitives (softplus, log_softmax), made errstate-clean
# on trust-core (tests/test_trust_numerics.py).


def _raising(fn):
    with np.errstate(all="raise"):
        loss = fn()
        loss.backward()
    return loss


@pytest.mark.parametrize("x, t, expected", [(-1000.0, 1.0, 1000.0), (1000.0, 0.0, 1000.0),
                                             (1000.0, 1.0, 0.0), (-1000.0, 0.0, 0.0)])
def test_bce_with_logits_does_not_raise_on_harmless_underflow(x, t, expected):
    z = ag.Tensor(x, requires_grad=True)
    loss = _raising(lambda: F.binary_cross_entropy_with_logits(z, t))
    assert loss.item() == expected
    assert z.grad.item() == (0.0 if expected == 0.0 else np.sign(x))


@pytest.mark.parametrize("target", [0, 1, np.array([0.0, 1.0]), np.array([0.5, 0.5])])
def test_cross_entropy_does_not_raise_on_harmless_underflow(target):
    z = ag.Tensor([1000.0, -1000.0], requires_grad=True)
    loss = _raising(lambda: F.cross_entropy(z, target))
    # oracle: -log_softmax = [0, 2000], and its gradient softmax - target = [1, 0] - target
    t = np.eye(2)[target] if np.ndim(target) == 0 else target
    assert loss.item() == pytest.approx(float(np.dot(t, [0.0, 2000.0])))
    np.testing.assert_array_equal(z.grad.numpy(), np.array([1.0, 0.0]) - t)

