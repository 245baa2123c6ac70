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


# ---- optimizers: everything checked before the first write ----------------------------------
OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "SGD-nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "Adam": lambda ps: optim.Adam(ps, lr=0.1),
    "Adam-amsgrad": lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.1),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.5, centered=True),
}


def stepped_optimizer(kind):
    """Two parameters and an optimizer that has stepped twice (so it has state), with
    fresh gradients for a third step."""
    rng = np.random.default_rng(3)
    ps = [nn.Parameter(rng.normal(size=(2, 3))), nn.Parameter(rng.normal(size=3))]
    opt = OPTIMIZERS[kind](ps)
    for _ in range(3):
        for p in ps:
            p.grad = ag.Tensor(rng.normal(size=p.shape))
        if _ < 2:
            opt.step()
    return ps, opt


def snapshot(ps, opt):
    import copy
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    return ([p.numpy().copy() for p in ps], copy.deepcopy(groups),
            {id(p): copy.deepcopy(s) for p, s in opt.state.items()})


def assert_same(a, b):
    (pa, ga, sa), (pb, gb, sb) = a, b
    for x, y in zip(pa, pb):
        np.testing.assert_array_equal(x, y)
    assert repr(ga) == repr(gb)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].keys() == sb[k].keys()
        for name in sa[k]:
            np.testing.assert_array_equal(sa[k][name], sb[k][name])


HYPER_EDITS = [("lr", np.nan), ("lr", np.inf), ("lr", "0.1"), ("lr", -1.0), ("lr", True),
               ("weight_decay", np.nan), ("eps", -1e-8)]
FLAG = {"SGD": "nesterov", "SGD-nesterov": "nesterov", "Adam": "amsgrad",
        "Adam-amsgrad": "amsgrad", "AdamW": "amsgrad", "RMSprop": "centered"}


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
@pytest.mark.parametrize("key, value", HYPER_EDITS + [("flag", "no"), ("flag", 1),
                                                      ("lr_typo", 0.1)])
def test_step_refuses_hyperparameters_edited_through_param_groups(kind, key, value):
    ps, opt = stepped_optimizer(kind)
    key = FLAG[kind] if key == "flag" else key
    if key not in opt.defaults and key != "lr_typo":
        pytest.skip(f"{kind} has no {key}")
    opt.param_groups[0][key] = value
    before = snapshot(ps, opt)
    with pytest.raises((ValueError, TypeError), match=key):
        opt.step()
    assert_same(snapshot(ps, opt), before)


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_step_with_a_read_only_parameter_updates_nothing(kind):
    ps, opt = stepped_optimizer(kind)
    ps[1].data.flags.writeable = False
    before = snapshot(ps, opt)
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(3,\)\) has a read-only array"):
        opt.step()
    assert_same(snapshot(ps, opt), before)


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov="no"), "SGD: nesterov must be a bool"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=1), "SGD: nesterov must be a bool"),
    (lambda p: optim.Adam(p, amsgrad="yes"), "Adam: amsgrad must be a bool"),
    (lambda p: optim.AdamW(p, amsgrad=0), "AdamW: amsgrad must be a bool"),
    (lambda p: optim.RMSprop(p, centered="False"), "RMSprop: centered must be a bool"),
    (lambda p: optim.SGD([{"params": p, "nesterov": "no"}], lr=0.1, momentum=0.9),
     "SGD: nesterov must be a bool"),
])
def test_optimizer_flags_must_be_bools(make, match):
    with pytest.raises(TypeError, match=match):
        make([nn.Parameter(np.ones(3))])


def corrupt(kind, how):
    """A state dict of a stepped optimizer with one defect in parameter 1's entry (so that
    parameter 0's entry, checked first, is fine)."""
    ps, opt = stepped_optimizer(kind)
    sd = opt.state_dict()
    entry = sd["state"][1]
    counter = "step" if "step" in entry else None
    buffer = next(k for k in ("exp_avg_sq", "square_avg", "momentum_buffer") if k in entry)
    if how == "step as str" and counter:
        entry[counter] = "3"
    elif how == "negative step" and counter:
        entry[counter] = -1
    elif how == "fractional step" and counter:
        entry[counter] = 2.5
    elif how == "bool step" and counter:
        entry[counter] = True
    elif how == "missing buffer":
        del entry[buffer]
        if buffer == "momentum_buffer":  # optional for SGD: a missing one starts afresh
            entry["velocity"] = np.zeros(3)
    elif how == "list buffer":
        entry[buffer] = entry[buffer].tolist()
    elif how == "buffer of the wrong shape":
        entry[buffer] = np.zeros((2, 3))
    elif how == "int buffer":
        entry[buffer] = np.zeros(3, dtype=int)
    elif how == "unknown entry":
        entry["exp_avg_typo"] = np.zeros(3)
    elif how == "entry not a dict":
        sd["state"][1] = [entry]
    elif how == "unknown parameter index":
        sd["state"][7] = sd["state"].pop(1)
    elif how == "bool parameter index":
        sd["state"][True] = sd["state"].pop(1)
    elif how == "unknown hyperparameter":
        sd["param_groups"][0]["lr_typo"] = 0.1
    elif how == "missing hyperparameter":
        del sd["param_groups"][0]["lr"]
    elif how == "nan lr":
        sd["param_groups"][0]["lr"] = float("nan")
    elif how == "str flag":
        sd["param_groups"][0][FLAG[kind]] = "no"
    elif how == "repeated parameter index":
        sd["param_groups"][0]["params"] = [0, 0]
    elif how == "extra section":
        sd["extra"] = {}
    else:
        return None
    return ps, opt, sd


DEFECTS = ["step as str", "negative step", "fractional step", "bool step", "missing buffer",
           "list buffer", "buffer of the wrong shape", "int buffer", "unknown entry",
           "entry not a dict", "unknown parameter index", "bool parameter index",
           "unknown hyperparameter", "missing hyperparameter", "nan lr", "str flag",
           "repeated parameter index", "extra section"]


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
@pytest.mark.parametrize("how", DEFECTS)
def test_load_state_dict_is_all_or_nothing(kind, how):
    made = corrupt(kind, how)
    if made is None:
        pytest.skip(f"{kind} keeps no step count")
    ps, opt, sd = made
    before = snapshot(ps, opt)
    with pytest.raises((ValueError, TypeError), match=f"{type(opt).__name__}.load_state_dict"):
        opt.load_state_dict(sd)
    assert_same(snapshot(ps, opt), before)
    opt.step()  # the optimizer still works


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
@pytest.mark.parametrize("how", ["list buffer", "step as str", "unknown entry"])
def test_step_refuses_state_edited_in_place(kind, how):
    made = corrupt(kind, how)
    if made is None:
        pytest.skip(f"{kind} keeps no step count")
    ps, opt, sd = made
    p1 = opt.param_groups[0]["params"][1]
    opt.state[p1] = sd["state"][1]
    before = snapshot(ps, opt)
    with pytest.raises((ValueError, TypeError), match="of parameter 1"):
        opt.step()
    assert_same(snapshot(ps, opt), before)


# ---- flags and axes are not read as truthy ----------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: ag.Tensor(1.0, requires_grad="no"), "Tensor: requires_grad must be a bool"),
    (lambda: ag.Tensor(1.0, requires_grad=0), "Tensor: requires_grad must be a bool"),
    (lambda: nn.Parameter(np.ones(2), requires_grad="no"),
     "Parameter: requires_grad must be a bool"),
    (lambda: setattr(ag.Tensor(1.0), "requires_grad", "no"), "requires_grad must be a bool"),
    (lambda: data.BatchIterator(X1, shuffle="no"), "shuffle must be a bool"),
    (lambda: data.BatchIterator(X1, drop_last="no"), "drop_last must be a bool"),
])
def test_flags_must_be_bools(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_module_flags_must_be_bools_and_change_nothing():
    m = linear()
    for p in m.parameters():
        p.grad = ag.Tensor(np.ones(p.shape))
    with pytest.raises(TypeError, match="requires_grad must be a bool"):
        m.requires_grad_("no")
    assert all(p.requires_grad for p in m.parameters())
    with pytest.raises(TypeError, match="set_to_none must be a bool"):
        m.zero_grad(set_to_none="no")
    assert all(p.grad is not None for p in m.parameters())


X23 = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
AXIS_OPS = {
    "sum": lambda a: ag.sum(X23, axis=a), "mean": lambda a: ag.mean(X23, axis=a),
    "max": lambda a: ag.max(X23, axis=a), "min": lambda a: ag.min(X23, axis=a),
    "prod": lambda a: ag.prod(X23, axis=a), "var": lambda a: ag.var(X23, axis=a),
    "std": lambda a: ag.std(X23, axis=a), "logsumexp": lambda a: ag.logsumexp(X23, axis=a),
    "softmax": lambda a: ag.softmax(X23, axis=a),
    "log_softmax": lambda a: ag.log_softmax(X23, axis=a),
    "Tensor.sum": lambda a: X23.sum(axis=a), "np.sum": lambda a: np.sum(X23, axis=a),
    "squeeze": lambda a: ag.squeeze(X23.reshape(2, 1, 3), axis=a),
    "expand_dims": lambda a: ag.expand_dims(X23, a),
    "stack": lambda a: ag.stack([X23, X23], axis=a),
}


@pytest.mark.parametrize("op", sorted(AXIS_OPS))
@pytest.mark.parametrize("axis", [True, False, np.True_, (0, True)])
def test_a_bool_axis_is_refused(op, axis):
    with pytest.raises(TypeError, match="axis must be an int or a tuple of ints"):
        AXIS_OPS[op](axis)
