"""Optimizers against their update equations written out here, and against torch.optim."""

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

A = np.random.default_rng(0).normal(size=(4, 4))
B = np.random.default_rng(1).normal(size=4)
C = np.random.default_rng(2).uniform(0.5, 2.0, size=(2, 3))
W0 = np.random.default_rng(3).normal(size=4)
M0 = np.random.default_rng(4).normal(size=(2, 3))


def grad_w(w):
    """Hand-written gradient of a smooth objective in w (no engine involved)."""
    return A @ w + B + 0.5 * np.sin(3 * w)


def grad_m(m):
    return C * m + np.cos(m)


def make_params():
    return nn.Parameter(W0), nn.Parameter(M0)


def set_grads(w, m):
    w.grad = ag.Tensor(grad_w(w.data))
    m.grad = ag.Tensor(grad_m(m.data))


# ---- the update equations, written out by hand ------------------------------------------------
def sgd_ref(p, g, s, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        if "buf" not in s:
            s["buf"] = g.copy()
        else:
            s["buf"] = momentum * s["buf"] + (1 - dampening) * g
        g = g + momentum * s["buf"] if nesterov else s["buf"]
    return p - lr * g


def adam_ref(p, g, s, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, decoupled=False):
    b1, b2 = betas
    s["t"] = s.get("t", 0) + 1
    t = s["t"]
    if weight_decay and decoupled:
        p = p * (1 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * p
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    v = s["v"]
    if amsgrad:
        s["vmax"] = np.maximum(s.get("vmax", 0.0), v)
        v = s["vmax"]
    m_hat = s["m"] / (1 - b1**t)
    return p - lr * m_hat / (np.sqrt(v) / math.sqrt(1 - b2**t) + eps)


def rmsprop_ref(p, g, s, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False):
    if weight_decay:
        g = g + weight_decay * p
    s["sq"] = alpha * s.get("sq", 0.0) + (1 - alpha) * g * g
    if centered:
        s["ga"] = alpha * s.get("ga", 0.0) + (1 - alpha) * g
        avg = np.sqrt(s["sq"] - s["ga"] ** 2) + eps
    else:
        avg = np.sqrt(s["sq"]) + eps
    if momentum:
        s["buf"] = momentum * s.get("buf", 0.0) + g / avg
        return p - lr * s["buf"]
    return p - lr * g / avg


CONFIGS = [
    (optim.SGD, sgd_ref, dict(lr=0.1)),
    (optim.SGD, sgd_ref, dict(lr=0.05, momentum=0.9)),
    (optim.SGD, sgd_ref, dict(lr=0.05, momentum=0.9, dampening=0.2)),
    (optim.SGD, sgd_ref, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.SGD, sgd_ref, dict(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.1)),
    (optim.Adam, adam_ref, dict(lr=0.01)),
    (optim.Adam, adam_ref, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    (optim.Adam, adam_ref, dict(lr=0.05, amsgrad=True)),
    (optim.AdamW, lambda p, g, s, **k: adam_ref(p, g, s, decoupled=True, **k),
     dict(lr=0.05, weight_decay=0.1)),
    (optim.AdamW, lambda p, g, s, **k: adam_ref(p, g, s, decoupled=True, **k),
     dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.01)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.01, alpha=0.9, centered=True)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.01, momentum=0.9)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
]
IDS = [f"{cls.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}"
       for cls, _, kw in CONFIGS]


@pytest.mark.parametrize("cls, ref, kw", CONFIGS, ids=IDS)
def test_matches_hand_written_equations(cls, ref, kw):
    w, m = make_params()
    opt = cls([w, m], **kw)
    rw, rm, sw, sm = W0.copy(), M0.copy(), {}, {}
    for _ in range(15):
        set_grads(w, m)
        opt.step()
        rw = ref(rw, grad_w(rw), sw, **kw)
        rm = ref(rm, grad_m(rm), sm, **kw)
        np.testing.assert_allclose(w.data, rw, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(m.data, rm, rtol=1e-12, atol=1e-14)
    assert not np.allclose(w.data, W0)


@pytest.mark.parametrize("cls, ref, kw", CONFIGS, ids=IDS)
def test_matches_torch_optim_over_20_steps(cls, ref, kw):
    torch = pytest.importorskip("torch")
    w, m = make_params()
    # two parameter groups, the second with its own learning rate
    opt = cls([{"params": [w]}, {"params": [m], "lr": kw["lr"] * 0.5}], **kw)
    tw = torch.tensor(W0, requires_grad=True)
    tm = torch.tensor(M0, requires_grad=True)
    topt = getattr(torch.optim, cls.__name__)(
        [{"params": [tw]}, {"params": [tm], "lr": kw["lr"] * 0.5}], **kw)
    for _ in range(20):
        set_grads(w, m)
        opt.step()
        tw.grad = torch.tensor(grad_w(tw.detach().numpy()))
        tm.grad = torch.tensor(grad_m(tm.detach().numpy()))
        topt.step()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(m.data, tm.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_param_groups_have_their_own_hyperparameters():
    w, m = make_params()
    opt = optim.SGD([{"params": [w], "lr": 0.5}, {"params": [m]}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]
    set_grads(w, m)
    opt.step()
    np.testing.assert_allclose(w.data, W0 - 0.5 * grad_w(W0), rtol=1e-15)
    np.testing.assert_allclose(m.data, M0 - 0.1 * grad_m(M0), rtol=1e-15)
    extra = nn.Parameter(np.zeros(2))
    opt.add_param_group({"params": extra, "lr": 1.0})
    assert opt.param_groups[2]["params"] == [extra] and opt.param_groups[2]["lr"] == 1.0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [w]})


def test_steps_are_outside_the_graph_and_bump_versions():
    w, m = make_params()
    opt = optim.Adam([w, m], lr=0.1)
    (w * w).sum().backward()
    v = w.version
    opt.step()  # m has no gradient: skipped
    assert w.version == v + 1 and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_array_equal(m.data, M0)
    assert m not in opt.state or not opt.state[m]
    opt.zero_grad()
    assert w.grad is None
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert np.all(w.grad.data == 0)


def test_an_update_after_the_forward_pass_is_detected_by_backward():
    w = nn.Parameter([1.0, 2.0])
    y = (w * w).sum()  # saves w
    optim.SGD([w], lr=0.1).step()  # no grad yet: nothing changes
    w.grad = ag.Tensor([1.0, 1.0])
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError):
        y.backward()


def test_closure_and_module_as_params():
    model = nn.Linear(2, 1, rng=0)
    x, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[1.0], [0.0]])
    opt = optim.SGD(model, lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 2

    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    for _ in range(20):
        last = opt.step(closure).item()
    assert last < first


@pytest.mark.parametrize("make, pattern", [
    (lambda p: optim.SGD(p, lr=0.0), "invalid lr 0.0"),
    (lambda p: optim.SGD(p, lr=-1), "invalid lr -1"),
    (lambda p: optim.SGD(p, lr=float("nan")), "invalid lr nan"),
    (lambda p: optim.SGD(p, lr=float("inf")), "invalid lr inf"),
    (lambda p: optim.SGD(p, lr="0.1"), "invalid lr '0.1'"),
    (lambda p: optim.SGD(p, lr=True), "invalid lr True"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "invalid momentum"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "invalid weight_decay"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "invalid beta2"),
    (lambda p: optim.Adam(p, betas=(-0.1, 0.9)), "invalid beta1"),
    (lambda p: optim.Adam(p, betas=0.9), "betas must be a pair"),
    (lambda p: optim.AdamW(p, eps=-1e-8), "invalid eps"),
    (lambda p: optim.RMSprop(p, alpha=1.5), "invalid alpha"),
    (lambda p: optim.RMSprop(p, momentum=-1), "invalid momentum"),
    (lambda p: optim.SGD([{"params": p, "lr": 0.1, "momentun": 0.9}], lr=0.1),
     "unknown hyperparameter"),
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: optim.SGD(p + p, lr=0.1), "twice"),
])
def test_invalid_arguments_raise_clear_errors(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make(list(make_params()))


def test_invalid_parameters_raise():
    w, _ = make_params()
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)


@pytest.mark.parametrize("cls, kw", [(optim.SGD, dict(lr=0.05, momentum=0.9)),
                                     (optim.Adam, dict(lr=0.05, amsgrad=True)),
                                     (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5))])
def test_state_dict_round_trip_continues_identically(cls, kw):
    w, m = make_params()
    opt = cls([w, m], **kw)
    for _ in range(3):
        set_grads(w, m)
        opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1] and sd["param_groups"][0]["params"] == [0, 1]
    w2, m2 = nn.Parameter(w.data), nn.Parameter(m.data)
    opt2 = cls([w2, m2], lr=0.999)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    for _ in range(3):
        set_grads(w, m)
        opt.step()
        set_grads(w2, m2)
        opt2.step()
    np.testing.assert_array_equal(w.data, w2.data)
    np.testing.assert_array_equal(m.data, m2.data)
    # the saved dict is a copy: later steps do not change it
    assert sd["state"][0] != {} and opt.state_dict()["state"][0].keys() == sd["state"][0].keys()


def test_load_state_dict_mismatch_changes_nothing():
    w, m = make_params()
    opt = optim.Adam([w, m], lr=0.1)
    set_grads(w, m)
    opt.step()
    sd = opt.state_dict()
    other = optim.Adam([nn.Parameter(W0)], lr=0.2)
    with pytest.raises(ValueError, match="do not match"):
        other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.2 and not other.state
    w3, m3 = nn.Parameter(W0), nn.Parameter(np.zeros((3, 2)))
    wrong = optim.Adam([w3, m3], lr=0.2)
    with pytest.raises(ValueError, match="parameter 1 has shape \\(2, 3\\)"):
        wrong.load_state_dict(sd)
    assert wrong.param_groups[0]["lr"] == 0.2 and not wrong.state
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="invalid lr"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1


def test_repr_lists_groups():
    w, m = make_params()
    text = repr(optim.SGD([w, m], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in text
