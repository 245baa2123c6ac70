"""End-to-end differential tests against PyTorch: the same MLP (same initial weights), the same
data and the same optimizer settings, trained for 20 steps in both engines with gradients that
each engine computes itself; losses and parameters must agree at every step.

tests/test_optim.py checks each update rule against torch.optim on hand-written gradients;
this file checks the whole loop (forward, loss, backward, zero_grad, step) and what happens
around it: frozen parameters, zero_grad(set_to_none=False), an lr changed through
param_groups mid-run, and an optimizer restored from its state_dict mid-run.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn.nn import functional as F

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # tiny tensors: threads only add contention (10x slower on 2 cores)

RTOL = 1e-9  # 20 steps of float64 rounding in two engines

rng = np.random.default_rng(11)
X = rng.normal(size=(16, 3))
Y_CLASS = rng.integers(0, 3, size=16)
Y_REG = rng.normal(size=(16, 3))

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.01)),
    ("Adam", dict(lr=0.02)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.95), weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]


def models():
    """The same MLP in both engines (torch stores Linear weights transposed)."""
    ours = nn.Sequential(nn.Linear(3, 5, rng=0), nn.Tanh(), nn.Linear(5, 3, rng=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    theirs = theirs.double()
    with torch.no_grad():
        for k in (0, 2):
            theirs[k].weight.copy_(torch.tensor(ours[k].weight.data.T))
            theirs[k].bias.copy_(torch.tensor(ours[k].bias.data))
    return ours, theirs


def assert_same_params(ours, theirs, step):
    for k in (0, 2):
        np.testing.assert_allclose(ours[k].weight.data, theirs[k].weight.detach().numpy().T,
                                   rtol=RTOL, atol=1e-12, err_msg=f"layer {k} weight, step {step}")
        np.testing.assert_allclose(ours[k].bias.data, theirs[k].bias.detach().numpy(),
                                   rtol=RTOL, atol=1e-12, err_msg=f"layer {k} bias, step {step}")


def step_both(ours, theirs, opt, topt, classification=True, set_to_none=True):
    opt.zero_grad(set_to_none=set_to_none)
    topt.zero_grad(set_to_none=set_to_none)
    if classification:
        loss = F.cross_entropy(ours(ag.Tensor(X)), Y_CLASS)
        tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(X)), torch.tensor(Y_CLASS))
    else:
        loss = F.mse_loss(ours(ag.Tensor(X)), Y_REG)
        tloss = torch.nn.functional.mse_loss(theirs(torch.tensor(X)), torch.tensor(Y_REG))
    loss.backward()
    tloss.backward()
    opt.step()
    topt.step()
    return loss.item(), tloss.item()


@pytest.mark.parametrize("name, kw", CONFIGS, ids=IDS)
@pytest.mark.parametrize("classification", [True, False], ids=["cross_entropy", "mse"])
def test_twenty_training_steps_agree_with_torch(name, kw, classification):
    ours, theirs = models()
    opt = getattr(optim, name)(ours.parameters(), **kw)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)
    losses = []
    for step in range(20):
        loss, tloss = step_both(ours, theirs, opt, topt, classification)
        np.testing.assert_allclose(loss, tloss, rtol=RTOL, err_msg=f"loss at step {step}")
        assert_same_params(ours, theirs, step)
        losses.append(loss)
    assert losses[-1] < losses[0]


def test_frozen_parameters_and_zeroed_grads_agree_with_torch():
    ours, theirs = models()
    ours[0].bias.requires_grad = False
    theirs[0].bias.requires_grad_(False)
    opt = optim.SGD(ours.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    frozen = ours[0].bias.data.copy()
    for step in range(20):
        step_both(ours, theirs, opt, topt, set_to_none=False)
        assert_same_params(ours, theirs, step)
    np.testing.assert_array_equal(ours[0].bias.data, frozen)


def test_lr_changed_through_param_groups_mid_run_agrees_with_torch():
    ours, theirs = models()
    opt = optim.Adam(ours.parameters(), lr=0.05)
    topt = torch.optim.Adam(theirs.parameters(), lr=0.05)
    for step in range(20):
        if step == 10:
            for g in opt.param_groups + topt.param_groups:
                g["lr"] = 0.005
        step_both(ours, theirs, opt, topt)
        assert_same_params(ours, theirs, step)


@pytest.mark.parametrize("name, kw", [c for c in CONFIGS if c[1].get("momentum") or
                                      c[0].startswith("Adam")], ids=lambda v: str(v))
def test_optimizer_restored_from_its_state_dict_continues_like_torch(name, kw):
    ours, theirs = models()
    opt = getattr(optim, name)(ours.parameters(), **kw)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)
    for _ in range(10):
        step_both(ours, theirs, opt, topt)
    restored = getattr(optim, name)(ours.parameters(), **kw)
    restored.load_state_dict(opt.state_dict())
    del opt
    for step in range(10, 20):
        step_both(ours, theirs, restored, topt)
        assert_same_params(ours, theirs, step)
