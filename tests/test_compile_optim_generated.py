"""Adam, AdamW and RMSprop updates generated as code in a compiled training step
(compile/update.py, compile/pynum.py): bit for bit against eager ``opt.step()`` over many steps
(raw bytes of parameters and state, float64 and float32), every option and per-group options,
learning rates changed between calls, state dicts and eager steps mixed in, and ``opt.step()``
itself wherever the generated code does not apply."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_nn as ag
from autograd_nn import Tensor, nn, optim
from autograd_nn.nn import functional as F

CASES = [
    (optim.Adam, {}),
    (optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.Adam, dict(lr=0.02, weight_decay=0.05, amsgrad=True, betas=(0.5, 0.9))),
    (optim.AdamW, {}),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.0)),
    (optim.RMSprop, {}),
    (optim.RMSprop, dict(lr=0.005, alpha=0.9, eps=1e-6)),
    (optim.RMSprop, dict(lr=0.01, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5)),
    (optim.RMSprop, dict(lr=0.01, centered=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.01)),
]


def data(dtype):
    rng = np.random.default_rng(0)
    return (Tensor(rng.normal(size=(10, 3)).astype(dtype)),
            Tensor(rng.normal(size=(10, 2)).astype(dtype)))


def model_of(dtype):
    return nn.Sequential(nn.Linear(3, 6, rng=1, dtype=dtype), nn.Tanh(),
                         nn.Linear(6, 2, rng=2, dtype=dtype))


def make_step(model, opt, tensors_only):
    """A whole step; with ``tensors_only`` the model is captured (the generated driver runs
    the update), otherwise passed as an argument (the general path runs it)."""
    def step_m(m, x, y):
        opt.zero_grad()
        loss = F.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        return loss

    if tensors_only:
        return lambda x, y: step_m(model, x, y)
    return step_m


def call(fn, model, x, y, tensors_only):
    return fn(x, y) if tensors_only else fn(model, x, y)


def count_eager_updates(opt):
    """Count the optimizer's own per-parameter updates from now on (the compiled step's
    fallback, ``opt.step()``); the generated update does not call ``_update``."""
    calls = [0]
    own = opt._update

    def counted(*a):
        calls[0] += 1
        return own(*a)

    opt._update = counted
    return calls


def snapshot(model, opt):
    """Raw bytes of every parameter and state entry (and the counts, exactly)."""
    params = [p._data.tobytes() for p in model.parameters()]
    state = [{k: (v.tobytes(), v.dtype) if isinstance(v, np.ndarray) else (type(v), v)
              for k, v in opt.state[p].items()} for p in model.parameters()]
    return params, state


def train(cls, kw, dtype, compiled, tensors_only=True, steps=50, schedule=None, groups=None):
    x, y = data(dtype)
    model = model_of(dtype)
    opt = cls(groups(model) if groups else model.parameters(), **kw)
    fn = make_step(model, opt, tensors_only)
    if compiled:
        fn = ag.compile(fn)
    losses, calls = [], None
    for i in range(steps):
        if schedule is not None:
            schedule(opt, i)
        losses.append(call(fn, model, x, y, tensors_only)._data.tobytes())
        if compiled and i == 1:
            calls = count_eager_updates(opt)  # after the trace and the first steady call
    return losses, snapshot(model, opt), fn, calls


def check_same(cls, kw, dtype, tensors_only=True, **more):
    eager = train(cls, kw, dtype, False, tensors_only, **more)
    compiled = train(cls, kw, dtype, True, tensors_only, **more)
    assert compiled[0] == eager[0]
    assert compiled[1] == eager[1]
    return compiled


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls,kw", CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_generated_update_is_bit_exact_and_used(cls, kw, dtype):
    _, _, fn, calls = check_same(cls, kw, dtype)
    assert fn.trace_count == 1
    assert calls[0] == 0  # every steady call ran the generated update, never opt.step()
    assert "def update(" in fn.source and f"# {cls.__name__}.step()" in fn.source


@pytest.mark.parametrize("cls,kw", [CASES[4], CASES[6], CASES[13]],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_general_path_runs_the_generated_update_too(cls, kw):
    _, _, fn, calls = check_same(cls, kw, np.float64, tensors_only=False)
    assert calls[0] == 0 and "# the compiled call" not in fn.source


@given(beta1=st.floats(0.0, 0.99), beta2=st.floats(0.0, 0.9999), eps=st.floats(0.0, 1e-3),
       wd=st.sampled_from([0.0, 1e-3, 0.5]), amsgrad=st.booleans(),
       cls=st.sampled_from([optim.Adam, optim.AdamW]),
       lr=st.floats(1e-4, 0.5), dtype=st.sampled_from([np.float64, np.float32]))
def test_adam_options_drawn_bit_exact(beta1, beta2, eps, wd, amsgrad, cls, lr, dtype):
    kw = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=wd, amsgrad=amsgrad)
    with np.errstate(all="ignore"):  # eps = 0 divides by zero, in eager mode too
        _, _, _, calls = check_same(cls, kw, dtype, steps=12)
    assert calls[0] == 0


@given(alpha=st.floats(0.0, 0.999), eps=st.floats(1e-9, 1e-3), wd=st.sampled_from([0.0, 0.1]),
       momentum=st.sampled_from([0.0, 0.5, 0.9]), centered=st.booleans(),
       lr=st.floats(1e-4, 0.1), dtype=st.sampled_from([np.float64, np.float32]))
def test_rmsprop_options_drawn_bit_exact(alpha, eps, wd, momentum, centered, lr, dtype):
    kw = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=momentum,
              centered=centered)
    with np.errstate(all="ignore"):  # centered in float32 may take sqrt(-tiny), eagerly too
        _, _, _, calls = check_same(optim.RMSprop, kw, dtype, steps=12)
    assert calls[0] == 0


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW, optim.RMSprop])
def test_per_group_options(cls):
    extra = dict(amsgrad=True) if cls is not optim.RMSprop else dict(centered=True)

    def groups(m):
        return [{"params": m[0].parameters(), "lr": 0.02, **extra},
                {"params": m[2].parameters(), "weight_decay": 0.2}]

    _, _, fn, calls = check_same(cls, dict(lr=0.01), np.float32, groups=groups)
    assert calls[0] == 0 and "lr0" in fn.source and "lr1" in fn.source


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW, optim.RMSprop])
def test_learning_rate_schedule_is_read_each_call(cls):
    def schedule(opt, i):
        opt.param_groups[0]["lr"] = 0.05 * 0.9 ** i

    _, _, fn, calls = check_same(cls, {}, np.float64, schedule=schedule)
    assert calls[0] == 0  # a new learning rate keeps the generated update


def test_hyperparameter_changes_fall_back_to_opt_step_exactly():
    """Changes the generated code took as fixed: each makes the step call ``opt.step()``
    (counted), with eager's results; an invalid learning rate raises eager's error."""
    def schedule(opt, i):
        g = opt.param_groups[0]
        if i == 10:
            g["betas"] = (0.5, 0.9)
        if i == 15:
            g["amsgrad"] = True  # its state gains max_exp_avg_sq: a new layout
        if i == 20:
            g["lr"] = np.float64(0.01)  # another type: numpy promotes differently
        if i == 25:
            g["lr"] = 0.01
        if i == 30:
            g["eps"] = 1e-3

    _, _, fn, calls = check_same(optim.Adam, dict(lr=0.02), np.float32, schedule=schedule)
    assert calls[0] > 0
    for bad in (-1.0, float("nan"), float("inf"), 0.0):
        x, y = data(np.float64)
        model = model_of(np.float64)
        opt = optim.Adam(model.parameters(), lr=0.01)
        fn = ag.compile(make_step(model, opt, True))
        for _ in range(3):
            fn(x, y)
        before = snapshot(model, opt)
        opt.param_groups[0]["lr"] = bad
        with pytest.raises(ValueError, match="invalid lr"):
            fn(x, y)
        assert snapshot(model, opt) == before


def test_state_changes_fall_back():
    x, y = data(np.float32)
    runs = []
    for compiled in (False, True):
        model = model_of(np.float32)
        opt = optim.Adam(model.parameters(), lr=0.01)
        fn = make_step(model, opt, True)
        fn = ag.compile(fn) if compiled else fn
        for i in range(12):
            if i == 4:
                opt.state[model[0].weight]["step"] = np.int64(100)  # not a Python int
            if i == 6:
                opt.state[model[2].weight]["step"] = -1  # eager's check raises
                with pytest.raises(TypeError, match="non-negative int"):
                    fn(x, y)
                opt.state[model[2].weight]["step"] = 6
            if i == 7:
                opt.state[model[0].bias]["step"] = 1000
            if i == 9:
                opt.state[model[2].bias]["exp_avg"] = np.ones((2,), np.float32)
            fn(x, y)
        runs.append(snapshot(model, opt))
    assert runs[0] == runs[1]


def test_a_parameter_without_gradient_is_skipped_as_eager_does():
    x, y = data(np.float64)
    runs = []
    for compiled in (False, True):
        model = model_of(np.float64)
        unused = Tensor(np.ones(3), requires_grad=True)
        opt = optim.Adam([*model.parameters(), unused], lr=0.01)
        fn = make_step(model, opt, True)
        fn = ag.compile(fn) if compiled else fn
        for _ in range(10):
            fn(x, y)
        runs.append((snapshot(model, opt), unused._data.tobytes(), opt.state.get(unused)))
    assert runs[0] == runs[1]


def test_rule_that_reads_a_number_keeps_opt_step():
    """A rule branching on its step count cannot be generated: ``opt.step()`` runs (this
    test fails if the generated code were used in its place: the branch would be baked in)."""
    class Warm(optim.Adam):
        def _update(self, p, g, group, state):
            super()._update(p, g, group, state)
            if state["step"] > 3:
                p._data *= 0.5

    x, y = data(np.float64)
    runs = []
    for compiled in (False, True):
        model = model_of(np.float64)
        opt = Warm(model.parameters(), lr=0.01)
        fn = make_step(model, opt, True)
        fn = ag.compile(fn) if compiled else fn
        for _ in range(8):
            fn(x, y)
        runs.append(snapshot(model, opt))
        if compiled:
            assert "def update(" not in fn.source
    assert runs[0] == runs[1]


@pytest.mark.parametrize("cls", [optim.Adam, optim.RMSprop])
def test_state_dict_round_trip_and_eager_steps_mixed_in(cls):
    kw = dict(lr=0.01, amsgrad=True) if cls is optim.Adam else dict(lr=0.01, momentum=0.5,
                                                                    centered=True)
    x, y = data(np.float32)
    reference = train(cls, kw, np.float32, False, steps=40)[1]

    model = model_of(np.float32)
    opt = cls(model.parameters(), **kw)
    eager = make_step(model, opt, True)
    fn = ag.compile(eager)
    for i in range(20):
        (fn if i % 3 else eager)(x, y)  # compiled and eager steps on one optimizer
    saved = opt.state_dict()
    params = [p._data.copy() for p in model.parameters()]
    assert all(s["step"] == 20 for s in saved["state"].values())
    opt.load_state_dict(saved)  # new state arrays: the compiled step reads them
    for _ in range(10):
        fn(x, y)
    # a fresh model and optimizer loaded from the state dict saved at step 20
    model2 = model_of(np.float32)
    for p, a in zip(model2.parameters(), params):
        p._data[...] = a
    opt2 = cls(model2.parameters(), **kw)
    opt2.load_state_dict(saved)
    fn2 = ag.compile(make_step(model2, opt2, True))
    for _ in range(10):
        fn2(x, y)
    for _ in range(10):
        fn(x, y)
        fn2(x, y)
    assert snapshot(model, opt) == reference
    assert snapshot(model2, opt2) == reference


def test_source_shows_the_update_lines():
    _, _, fn, _ = train(optim.Adam, dict(lr=0.01), np.float64, True, steps=3)
    src = fn.source
    update = src[src.index("# Adam.step()"):src.index("# the compiled call")]
    for line in ("step0 + 1", "0.999 ** ", "math.sqrt(", "lr0 / ", "exp_avg_sq0 *= 0.999",
                 "return "):
        assert line in update, line
    assert "type(_obj" in src and "['lr']) is float" in src  # the learning rate read each call


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls,kw", [CASES[4], CASES[6], CASES[13]],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_large_parameters_written_into_buffers_bit_exact(cls, kw, dtype):
    """A 200x200 weight (40,000 elements: the update's temporaries go into ``out=`` buffers,
    buffers.py) with a learning-rate schedule."""
    runs = []
    for compiled in (False, True):
        rng = np.random.default_rng(0)
        x = Tensor(rng.normal(size=(4, 200)).astype(dtype))
        y = Tensor(rng.normal(size=(4, 1)).astype(dtype))
        model = nn.Sequential(nn.Linear(200, 200, rng=1, dtype=dtype), nn.Tanh(),
                              nn.Linear(200, 1, rng=2, dtype=dtype))
        opt = cls(model.parameters(), **kw)
        fn = make_step(model, opt, True)
        fn = ag.compile(fn) if compiled else fn
        calls = None
        for i in range(20):
            opt.param_groups[0]["lr"] = 0.01 * 0.95 ** i
            fn(x, y)
            if compiled and i == 1:
                calls = count_eager_updates(opt)
        runs.append(snapshot(model, opt))
        if compiled:
            src = fn.source
            assert calls[0] == 0 and "_B[" in src[src.index(f"# {cls.__name__}.step()"):]
    assert runs[0] == runs[1]
