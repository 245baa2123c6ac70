"""Training and optimizers never silently wrong (issue 10).

fit: the data contract is decided by type, never guessed from a length; empty data is an
error; a non-finite loss or gradient stops training naming the epoch and batch, before the
parameters change. Optimizers and their ``load_state_dict``: everything is validated before
the first write; flags such as ``nesterov`` and ``requires_grad`` must be bools, ``axis``
must be an int (not True). Oracle for training: a hand-written loop of the same updates.
"""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import data, nn, optim
from autograd_nn.nn import functional as F
from autograd_nn.train import evaluate, fit

RNG = np.random.default_rng(10)
X1, Y1 = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 1))
X2, Y2 = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 1))


def linear(seed=0):
    return nn.Linear(3, 1, rng=seed)


def params_of(model):
    return [p.numpy().copy() for p in model.parameters()]


def manual_sgd(batches, lr=0.1, seed=0):
    """The oracle: the plain loop fit is documented to run."""
    m = linear(seed)
    opt = optim.SGD(m, lr=lr)
    for xb, yb in batches:
        opt.zero_grad()
        F.mse_loss(m(ag.Tensor(xb)), yb).backward()
        opt.step()
    return params_of(m)


def fit_sgd(data_, **kw):
    m = linear()
    h = fit(m, F.mse_loss, optim.SGD(m, lr=0.1), data_, progress=False, **kw)
    return m, h


# ---- the data contract ----------------------------------------------------------------------
def test_a_list_of_two_batches_trains_on_each_batch():
    m, h = fit_sgd([(X1, Y1), (X2, Y2)])
    for got, want in zip(params_of(m), manual_sgd([(X1, Y1), (X2, Y2)])):
        np.testing.assert_allclose(got, want, rtol=1e-13)
    assert len(h["loss"]) == 1


@pytest.mark.parametrize("bad, match", [
    (((X1, Y1), (X2, Y2)), r"tuple \(X, y\) of two numpy arrays or Tensors, got a tuple of "
                           r"2: \(tuple, tuple\)"),
    ((X1.tolist(), Y1.tolist()), r"got a tuple of 2: \(list, list\); convert lists"),
    ((X1, Y1, X2), r"got a tuple of 3"),
    (X1, "got ndarray"),
    (ag.Tensor(X1), "got Tensor"),
    ({"X": X1, "y": Y1}, "got dict"),
    ([X1, Y1], "batch 1 of epoch 1 is a ndarray, not an"),
    ([(X1, Y1, X2)], "batch 1 of epoch 1 is a tuple of 3"),
])
def test_ambiguous_data_is_refused_and_changes_nothing(bad, match):
    m = linear()
    before = params_of(m)
    with pytest.raises(TypeError, match=match):
        fit(m, F.mse_loss, optim.SGD(m, lr=0.1), bad, progress=False)
    for got, want in zip(params_of(m), before):
        np.testing.assert_array_equal(got, want)


def test_rng_with_batches_is_refused_not_ignored():
    m = linear()
    with pytest.raises(ValueError, match="rng applies only to data=\\(X, y\\)"):
        fit(m, F.mse_loss, optim.SGD(m, lr=0.1), [(X1, Y1)], rng=0, progress=False)


@pytest.mark.parametrize("data_, err, match", [
    ((np.zeros((0, 3)), np.zeros((0, 1))), ValueError, r"data has no samples"),
    ((X1, Y1[:3]), ValueError, "data has 4 inputs but 3 targets"),
    ([], ValueError, "yielded no batches in epoch 1"),
    ([(X1, Y1), (X1[:0], Y1[:0])], ValueError, "batch 2 of epoch 1 has 0 inputs"),
    ([(X1, Y1[:3])], ValueError, "batch 1 of epoch 1 has 4 inputs and 3 targets"),
])
def test_empty_or_mismatched_training_data_is_an_error(data_, err, match):
    with pytest.raises(err, match=match):
        fit_sgd(data_, batch_size=None) if isinstance(data_, tuple) else fit_sgd(data_)


@pytest.mark.parametrize("val, err, match", [
    ((np.zeros((0, 3)), np.zeros((0, 1))), ValueError, "validation_data has no samples"),
    ([X2, Y2], TypeError, "validation_data must be a tuple"),
    ((X2, Y2[:2]), ValueError, "validation_data has 4 inputs but 2 targets"),
])
def test_bad_validation_data_is_refused_before_training(val, err, match):
    m = linear()
    before = params_of(m)
    with pytest.raises(err, match=match):
        fit(m, F.mse_loss, optim.SGD(m, lr=0.1), (X1, Y1), epochs=2, validation_data=val,
            progress=False)
    for got, want in zip(params_of(m), before):
        np.testing.assert_array_equal(got, want)  # not one epoch trained first


def test_evaluate_on_no_samples_is_an_error():
    with pytest.raises(ValueError, match="evaluate: no samples"):
        evaluate(linear(), F.mse_loss, np.zeros((0, 3)), np.zeros((0, 1)))


@pytest.mark.parametrize("make, match", [
    (lambda: data.BatchIterator(np.zeros((0, 3)), np.zeros(0)), "no samples"),
    (lambda: data.BatchIterator(X1, Y1, batch_size=5, drop_last=True), "leaves no batch"),
])
def test_a_batch_iterator_that_yields_nothing_is_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---- non-finite losses and gradients --------------------------------------------------------
def test_a_nan_loss_stops_training_naming_epoch_and_batch():
    X3 = RNG.normal(size=(4, 3))
    X3_good = X3.copy()
    batches = [(X1, Y1), (X2, Y2), (X3, Y2)]

    def poison(epoch, history):  # after epoch 1, batch 3 starts giving a NaN loss
        X3[1, 2] = np.nan

    m = linear()
    with pytest.raises(FloatingPointError, match="loss is nan at epoch 2, batch 3"):
        fit(m, F.mse_loss, optim.SGD(m, lr=0.1), batches, epochs=3, callback=poison,
            progress=False)
    # the parameters are those after the last good batch, never NaN
    want = manual_sgd([(X1, Y1), (X2, Y2), (X3_good, Y2), (X1, Y1), (X2, Y2)])
    for got, w in zip(params_of(m), want):
        np.testing.assert_allclose(got, w, rtol=1e-13)


def test_an_infinite_gradient_stops_training_naming_the_parameter():
    m = linear()
    for p in m.parameters():
        p.data[...] = 0.0
    X, y = np.zeros((4, 3)), np.zeros((4, 1))
    with pytest.raises(FloatingPointError, match="gradient of parameter '(weight|bias)' is "
                                                 "not finite at epoch 1, batch 1"), \
            np.errstate(divide="ignore", invalid="ignore"):
        fit(m, lambda o, t: ((o - t) ** 2).sum() ** 0.5, optim.SGD(m, lr=0.1), (X, y),
            progress=False)
    assert all(np.all(v == 0.0) for v in params_of(m))
