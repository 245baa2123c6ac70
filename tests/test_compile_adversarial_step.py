"""Adversarial tests of ``ag.compile`` on whole training steps, part 1: every optimizer compiled
versus eager over 20 steps with every result kept by reference, hyperparameter and
parameter-group edits, optimizer state reloads, gradient accumulation, hooks, ``requires_grad``
and ``.data`` changes after tracing -- each run three ways (`compile_adversarial_helpers.caller`).

The oracle is the same step run eagerly (uncompiled); values are compared to 1e-12 relative.
Bugs found on today's code are kept as ``xfail(strict=True, reason="BUG: ...")`` tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from compile_adversarial_helpers import (
    KINDS,
    OPTIMIZERS,
    both,
    caller,
    data,
    maybe,
    model_of,
    plain_step,
    same_records,
)

import autograd_nn as ag
from autograd_nn import Tensor, nn, optim
from autograd_nn.nn import functional as F


# ---- every optimizer, 20 steps, every result kept by reference --------------------------------
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("zero,set_to_none", [("first", True), ("first", False),
                                              ("last", False)])
@pytest.mark.parametrize("kind", KINDS)
def test_every_optimizer_for_twenty_steps_keeping_every_result(name, zero, set_to_none, kind):
    def run(compiled):
        X, Y = data()
        model = model_of()
        opt = OPTIMIZERS[name](model.parameters())
        call = caller(compiled, kind, plain_step(opt, zero, set_to_none), model)
        losses, grads = [], []
        for _ in range(20):
            losses.append(call(X, Y))  # the loss tensors themselves
            grads.append([p.grad for p in model.parameters()])  # the grad tensors themselves
        params = [p.numpy() for p in model.parameters()]
        state = [{k: v for k, v in sorted(opt.state[p].items())} for p in model.parameters()]
        return ([float(loss) for loss in losses], [loss.numpy() for loss in losses],
                [[None if g is None else g.numpy() for g in gs] for gs in grads], params,
                [[v for _, v in sorted(s.items())] for s in state])

    eager, compiled = both(run)
    same_records(compiled, eager)


@pytest.mark.parametrize("name", ["SGD-momentum", "Adam", "RMSprop"])
@pytest.mark.parametrize("kind", KINDS)
def test_hyperparameters_edited_every_step_take_effect(name, kind):
    def run(compiled):
        X, Y = data(1)
        model = model_of()
        opt = OPTIMIZERS[name](model.parameters())
        call = caller(compiled, kind, plain_step(opt), model)
        out = []
        for i in range(12):
            g = opt.param_groups[0]
            g["lr"] = 0.05 / (1 + i)
            if "momentum" in g and i == 6:
                g["momentum"] = 0.0 if name == "RMSprop" else 0.5
            if "betas" in g and i == 6:
                g["betas"] = (0.5, 0.9)
            if i == 9:
                g["weight_decay"] = 0.1
            out.append(float(call(X, Y)))
        return out, [p.numpy().copy() for p in model.parameters()]

    eager, compiled = both(run)
    same_records(compiled, eager)


@pytest.mark.parametrize("name", ["SGD", "SGD-momentum", "Adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_adding_a_parameter_group_mid_training(name, kind):
    def run(compiled):
        X, Y = data(2)
        model = model_of()
        ps = list(model.parameters())
        opt = OPTIMIZERS[name](ps[:2])
        call = caller(compiled, kind, plain_step(opt), model)
        out = [float(call(X, Y)) for _ in range(4)]
        opt.add_param_group({"params": ps[2:], "lr": 0.2})
        out += [float(call(X, Y)) for _ in range(4)]
        return out, [p.numpy().copy() for p in ps]

    eager, compiled = both(run)
    same_records(compiled, eager)


def _edit_group_params(edit, kind):
    def run(compiled):
        X, Y = data(3)
        model = model_of()
        ps = list(model.parameters())
        opt = optim.SGD(ps[:2] if edit == "append" else ps, lr=0.1, momentum=0.5)
        call = caller(compiled, kind, plain_step(opt), model)
        out = [float(call(X, Y)) for _ in range(3)]
        if edit == "append":
            opt.param_groups[0]["params"].extend(ps[2:])
        else:
            del opt.param_groups[0]["params"][0]
        out += [float(call(X, Y)) for _ in range(3)]
        return out, [p.numpy().copy() for p in ps]

    return run


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_appended_to_a_group_are_updated(kind):
    eager, compiled = both(_edit_group_params("append", kind))
    same_records(compiled, eager)


@pytest.mark.parametrize("kind", KINDS)
def test_parameters_removed_from_a_group_are_left_alone(kind):
    eager, compiled = both(_edit_group_params("remove", kind))
    same_records(compiled, eager)


@pytest.mark.parametrize("name", ["SGD-momentum", "Adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_optimizer_state_reloaded_or_cleared_mid_training(name, kind):
    def run(compiled):
        X, Y = data(4)
        model = model_of()
        opt = OPTIMIZERS[name](model.parameters())
        call = caller(compiled, kind, plain_step(opt), model)
        out = [float(call(X, Y)) for _ in range(3)]
        saved = opt.state_dict()
        out += [float(call(X, Y)) for _ in range(3)]
        opt.load_state_dict(saved)
        out += [float(call(X, Y)) for _ in range(3)]
        opt.state.clear()
        out += [float(call(X, Y)) for _ in range(3)]
        return out, [p.numpy().copy() for p in model.parameters()]

    eager, compiled = both(run)
    same_records(compiled, eager)


# ---- gradients: accumulation, hooks, requires_grad, .data ---------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_gradient_accumulation_over_calls_without_zero_grad(kind):
    def run(compiled):
        X, Y = data(5)
        model = model_of()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def accumulate(m, x, y):
            loss = F.mse_loss(m(x), y)
            loss.backward()
            return loss

        call = caller(compiled, kind, accumulate, model)
        out = []
        for i in range(4):
            first, second = (slice(0, 5), slice(5, 10))[::1 if i % 2 else -1]
            call(X[first], Y[first])
            call(X[second], Y[second])
            out.append([p.grad.numpy().copy() for p in model.parameters()])
            opt.step()
            opt.zero_grad()
        return out, [p.numpy().copy() for p in model.parameters()]

    eager, compiled = both(run)
    same_records(compiled, eager)


@pytest.mark.parametrize("kind", KINDS)
def test_a_step_that_accumulates_into_existing_grads_of_another_step(kind):
    def run(compiled):
        X, Y = data(6)
        model = model_of()
        opt = optim.Adam(model.parameters(), lr=0.02)

        def step(m, x, y):  # no zero_grad: the caller's gradients are added to
            loss = F.mse_loss(m(x), y)
            loss.backward()
            opt.step()
            return loss

        call = caller(compiled, kind, step, model)
        out = []
        for i in range(6):
            if i % 3 == 0:
                opt.zero_grad(set_to_none=bool(i % 2))
            out.append(float(call(X, Y)))
            out.append([p.grad.numpy().copy() for p in model.parameters()])
        return out, [p.numpy().copy() for p in model.parameters()]

    eager, compiled = both(run)
    same_records(compiled, eager)


def test_two_backwards_in_one_step_are_refused_not_merged():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)

    def step(x):
        (w * x).sum().backward()
        loss = (w * w * x).sum()
        loss.backward()
        return loss

    with pytest.raises(ag.CompileError, match="backward"):
        ag.compile(step)(Tensor(np.array([1.0, 1.0])))


@pytest.mark.parametrize("name", ["SGD-momentum", "Adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_hooks_registered_and_removed_after_tracing(name, kind):
    def run(compiled):
        X, Y = data(7)
        model = model_of()
        opt = OPTIMIZERS[name](model.parameters())
        call = caller(compiled, kind, plain_step(opt), model)
        out = [float(call(X, Y)) for _ in range(2)]
        seen: list = []
        h1 = model[0].weight.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 0.5)
        h2 = model[2].bias.register_hook(lambda g: None)
        out += [float(call(X, Y)) for _ in range(3)]
        h1.remove()
        out += [float(call(X, Y)) for _ in range(2)]
        h2.remove()
        return out, seen, [p.numpy().copy() for p in model.parameters()]

    eager, compiled = both(run)
    same_records(compiled, eager)
    assert len(compiled[1]) == 3


@pytest.mark.parametrize("name", ["SGD", "SGD-momentum", "Adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_requires_grad_turned_off_and_on_after_tracing(name, kind):
    def run(compiled):
        X, Y = data(8)
        model = model_of()
        opt = OPTIMIZERS[name](model.parameters())
        call = caller(compiled, kind, plain_step(opt), model)
        out = [float(call(X, Y)) for _ in range(2)]
        model[0].weight.requires_grad = False
        out += [float(call(X, Y)) for _ in range(3)]
        out.append(model[0].weight.grad)
        model[0].weight.requires_grad = True
        out += [float(call(X, Y)) for _ in range(2)]
        return out[:-3] + out[-2:], [p.numpy().copy() for p in model.parameters()]

    eager, compiled = both(run)
    same_records(compiled, eager)


@pytest.mark.parametrize("name", ["SGD-momentum", "Adam"])
@pytest.mark.parametrize("kind", KINDS)
def test_parameter_data_rebound_to_new_arrays_after_tracing(name, kind):
    def run(compiled):
        X, Y = data(9)
        model = model_of()
        opt = OPTIMIZERS[name](model.parameters())
        call = caller(compiled, kind, plain_step(opt), model)
        out = [float(call(X, Y)) for _ in range(2)]
        model[2].bias.data = np.array([0.5, -0.5])  # same shape, a new array
        out += [float(call(X, Y)) for _ in range(2)]
        opt.state.pop(model[2].weight, None)
        model[2].weight.data = np.full((6, 2), 0.1)  # a fresh array for a fresh state
        out += [float(call(X, Y)) for _ in range(2)]
        return out, [p.numpy().copy() for p in model.parameters()]

    eager, compiled = both(run)
    same_records(compiled, eager)


def test_a_module_parameter_replaced_by_a_new_parameter_retraces():
    def run(compiled):
        X, Y = data(10)
        model = model_of()
        fn = maybe(compiled, lambda m, x, y: F.mse_loss(m(x), y))
        out = [float(fn(model, X, Y)) for _ in range(2)]
        model[2].weight = nn.Parameter(np.full((6, 2), 0.3))
        out += [float(fn(model, X, Y)) for _ in range(2)]
        model[2].weight.data = np.full((6, 2), -0.2)
        out.append(float(fn(model, X, Y)))
        return out

    eager, compiled = both(run)
    same_records(compiled, eager)
