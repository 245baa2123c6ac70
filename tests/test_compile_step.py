"""ag.compile on whole training steps: every optimizer, modules in training and eval mode,
R1-R5 trained compiled versus eager (bit for bit), and what a compiled step refuses."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import Tensor, nn, optim
from autograd_nn.datasets import truth_table_r1, truth_table_r2
from autograd_nn.nn import functional as F
from autograd_nn.reference import r1, r2, r3, r4, r5

OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
]


def model_of(dropout=0.0):
    layers = [nn.Linear(3, 6, rng=1), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout, rng=5))
    return nn.Sequential(*layers, nn.Linear(6, 2, rng=2))


def train(compiled, make_opt, steps=15, dropout=0.0, zero_first=True):
    rng = np.random.default_rng(0)
    X, Y = Tensor(rng.normal(size=(10, 3))), Tensor(rng.normal(size=(10, 2)))
    model = model_of(dropout)
    opt = make_opt(model)

    def step(m, x, y):
        if zero_first:
            opt.zero_grad()
        loss = F.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        if not zero_first:
            opt.zero_grad()
        return loss

    fn = ag.compile(step) if compiled else step
    losses = [float(fn(model, X, Y)) for _ in range(steps)]
    return losses, [p.numpy().copy() for p in model.parameters()], fn


@pytest.mark.parametrize("cls,kw", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("zero_first", [True, False])
def test_every_optimizer_trains_bit_for_bit(cls, kw, zero_first):
    eager = train(False, lambda m: cls(m.parameters(), **kw), zero_first=zero_first)
    compiled = train(True, lambda m: cls(m.parameters(), **kw), zero_first=zero_first)
    assert compiled[0] == eager[0]
    assert all(np.array_equal(a, b) for a, b in zip(compiled[1], eager[1]))
    assert compiled[2].trace_count == 1


def test_dropout_in_a_compiled_step_follows_the_eager_stream():
    eager = train(False, lambda m: optim.SGD(m.parameters(), lr=0.1), dropout=0.3)
    compiled = train(True, lambda m: optim.SGD(m.parameters(), lr=0.1), dropout=0.3)
    assert compiled[0] == eager[0]


def test_learning_rate_changes_are_followed():
    rng = np.random.default_rng(0)
    X, Y = Tensor(rng.normal(size=(10, 3))), Tensor(rng.normal(size=(10, 2)))
    runs = []
    for compiled in (False, True):
        model = model_of()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(m, x, y, opt=opt):
            opt.zero_grad()
            loss = F.mse_loss(m(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = ag.compile(step) if compiled else step
        out = []
        for i in range(6):
            opt.param_groups[0]["lr"] = 0.1 / (i + 1)
            out.append(float(fn(model, X, Y)))
        runs.append(out)
    assert runs[0] == runs[1]


def test_parameter_hooks_run_in_a_compiled_step():
    rng = np.random.default_rng(0)
    X, Y = Tensor(rng.normal(size=(10, 3))), Tensor(rng.normal(size=(10, 2)))
    model = model_of()
    seen = []
    model[0].weight.register_hook(lambda g: seen.append(1) or g * 0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = model[0].weight.numpy().copy()

    @ag.compile
    def step(m, x, y):
        opt.zero_grad()
        loss = F.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        step(model, X, Y)
    assert seen == [1, 1, 1] and np.array_equal(model[0].weight.numpy(), before)


def test_in_place_change_inside_is_refused():
    w = Tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        loss.backward()
        with ag.no_grad():
            w.sub_(0.1 * w.grad)
        return loss

    with pytest.raises(ag.CompileError, match=r"test_compile_step\.py:\d+.*in-place"):
        ag.compile(step)(Tensor([1.0, 1.0]))


def test_autograd_grad_inside_is_refused():
    w = Tensor([1.0, 2.0], requires_grad=True)
    cf = ag.compile(lambda x: ag.autograd.grad((w * x).sum(), w)[0].sum())
    with pytest.raises(ag.CompileError, match="only loss.backward"):
        cf(Tensor([1.0, 1.0]))


def test_ops_after_backward_are_refused():
    w = Tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        loss.backward()
        return loss * 2

    with pytest.raises(ag.CompileError, match="after backward"):
        ag.compile(step)(Tensor([1.0, 1.0]))


# ---- R1-R5 trained compiled versus eager --------------------------------------------------------
def _train_reference(compiled, model, loss_fn, batches, lr, epochs):
    opt = optim.SGD(model.parameters(), lr=lr)

    def step(m, x, y):
        opt.zero_grad()
        loss = loss_fn(m, x, y)
        loss.backward()
        opt.step()
        return loss

    fn = ag.compile(step) if compiled else step
    losses = [float(fn(model, x, y)) for _ in range(epochs) for x, y in batches]
    return losses, [p.numpy().copy() for p in model.parameters()]


def _r4_batches():
    X, y, _ = r4.people_weight_height()
    return [(Tensor(a), Tensor(b)) for a, b in zip(X, y)]


def _r5_batches():
    d = r5.iris_data()
    return [(Tensor(d["X_train"]), Tensor(d["Y_train"]))]


REFERENCES = {
    "R1": (lambda: r1.engine_model(), r1.engine_cost,
           lambda: [tuple(map(Tensor, truth_table_r1()))], r1.LEARNING_RATE, 200),
    "R2": (lambda: r2.engine_model(), r2.engine_loss,
           lambda: [tuple(map(Tensor, truth_table_r2()))], 1.0, 200),
    "R3": (lambda: r3.engine_model(), r3.engine_objective,
           lambda: [tuple(map(Tensor, r3.training_data()[:2]))], 1.0, 200),
    "R4": (lambda: r4.engine_model(), lambda m, x, y: F.mse_loss(m(x), y), _r4_batches,
           r4.LEARNING_RATE, 5),
    "R5": (lambda: r5.engine_model(), lambda m, x, y: F.mse_loss(m(x), y), _r5_batches,
           r5.LEARNING_RATE, 100),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_networks_train_compiled_bit_for_bit(name):
    make, loss_fn, batches, lr, epochs = REFERENCES[name]
    eager = _train_reference(False, make(), loss_fn, batches(), lr, epochs)
    compiled = _train_reference(True, make(), loss_fn, batches(), lr, epochs)
    assert compiled[0] == eager[0]
    assert all(np.array_equal(a, b) for a, b in zip(compiled[1], eager[1]))


def test_grad_reset_inside_a_step_is_followed():
    x0 = Tensor([0.3], requires_grad=True)

    @ag.compile
    def step(x):
        x.grad = None
        loss = (ag.tanh(x * 2.0) * 3.0).sum()
        loss.backward()
        return loss

    for _ in range(3):
        step(x0)
    np.testing.assert_allclose(x0.grad.numpy(), [(1 - np.tanh(0.6) ** 2) * 6.0], rtol=1e-12)


def test_sgd_update_is_emitted_as_code_and_falls_back_when_something_changes():
    rng = np.random.default_rng(0)
    X, Y = Tensor(rng.normal(size=(10, 3))), Tensor(rng.normal(size=(10, 2)))
    runs = []
    for compiled in (False, True):
        model = model_of()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(m, x, y, opt=opt):
            opt.zero_grad()
            loss = F.mse_loss(m(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = ag.compile(step) if compiled else step
        out = [float(fn(model, X, Y)) for _ in range(3)]
        opt.param_groups[0]["momentum"] = 0.5  # the emitted update no longer applies
        out += [float(fn(model, X, Y)) for _ in range(2)]
        opt.state[model[0].weight]["momentum_buffer"] = np.zeros((3, 6))
        out += [float(fn(model, X, Y)) for _ in range(2)]
        runs.append((out, [p.numpy().copy() for p in model.parameters()]))
        if compiled:
            assert "def update(" in fn.source and "momentum_buffer" in fn.source
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_stateless_sgd_update_is_emitted_as_code():
    # plain SGD keeps an empty state: it is in its steady form from the first step on (the
    # generated update was lost once when an empty state was read as "no state yet")
    def sgd(m):
        return optim.SGD(m.parameters(), lr=0.1)

    eager = train(False, sgd, steps=4)
    compiled = train(True, sgd, steps=4)
    assert "# SGD.step()\ndef update(" in compiled[2].source
    assert compiled[0] == eager[0]
    assert all(np.array_equal(a, b) for a, b in zip(compiled[1], eager[1]))
