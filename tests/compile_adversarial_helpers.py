"""Shared helpers of the adversarial ``ag.compile`` tests (test_compile_adversarial*.py): the
comparison to 1e-12 relative, gradients of a call, and the training-step scenarios run eagerly
and compiled three ways (the model as an argument, through a closure, its parameters as
arguments)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_nn as ag
from autograd_nn import Tensor, nn, optim
from autograd_nn.nn import functional as F


def close(got, want, rtol=1e-12):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape,
                                                                 got.dtype, want.dtype)
    scale = float(np.max(np.abs(want), initial=0.0)) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, equal_nan=True)


def grads_after(fn, args, leaves):
    """fn(*args).backward() from fresh .grad; (value copy, [leaf grad copies])."""
    for t in leaves:
        t.grad = None
    out = fn(*args)
    out.backward()
    return out.numpy().copy(), [None if t.grad is None else t.grad.numpy().copy()
                                for t in leaves]


def same_records(got, want):
    """Two runs' records (nested lists/tuples of arrays, floats, None) agree to 1e-12."""
    assert type(got) is type(want) or np.isscalar(got), (type(got), type(want))
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            same_records(g, w)
    elif want is None:
        assert got is None
    else:
        close(got, want)


def data(seed=0, n=10):
    rng = np.random.default_rng(seed)
    return Tensor(rng.normal(size=(n, 3))), Tensor(rng.normal(size=(n, 2)))


def model_of(dropout=0.0, width=6):
    layers: list = [nn.Linear(3, width, rng=1), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout, rng=5))
    return nn.Sequential(*layers, nn.Linear(width, 2, rng=2))


LARGE = 2 ** 15  # elements: arrays this large are where the compiler may reuse buffers


def plain_step(opt, zero="first", set_to_none=True):
    def step(m, x, y):
        if zero == "first":
            opt.zero_grad(set_to_none=set_to_none)
        loss = F.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        if zero == "last":
            opt.zero_grad(set_to_none=set_to_none)
        return loss

    return step


def both(scenario: Callable[[bool], Any]) -> tuple[Any, Any]:
    """(eager record, compiled record) of ``scenario(compiled)``."""
    return scenario(False), scenario(True)


def maybe(compiled, fn, **kw):
    return ag.compile(fn, **kw) if compiled else fn


KINDS = ["module", "closure", "flat"]


def caller(compiled, kind, step, model):
    """``call(x, y)`` running ``step(model, x, y)``, compiled with the model as an argument
    ("module"), reached through a closure ("closure": only tensors are arguments, the case a
    generated step driver takes) or with its parameters passed as arguments ("flat")."""
    if kind == "module":
        fn = maybe(compiled, step)
        return lambda x, y: fn(model, x, y)
    if kind == "closure":
        return maybe(compiled, lambda x, y: step(model, x, y))
    fn = maybe(compiled, lambda *a: step(model, a[-2], a[-1]))
    return lambda x, y: fn(*model.parameters(), x, y)


OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1),
    "SGD-momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "SGD-dampening": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.3),
    "SGD-nesterov-wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True,
                                           weight_decay=0.01),
    "Adam": lambda p: optim.Adam(p, lr=0.01),
    "Adam-amsgrad-wd": lambda p: optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.05),
    "AdamW": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01),
    "RMSprop-centered-momentum": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5,
                                                         centered=True, weight_decay=0.01),
}
