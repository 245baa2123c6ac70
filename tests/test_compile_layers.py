"""Every nn layer under ag.compile, in training and eval mode, against eager twins bit for bit;
batch norm's running statistics (momentum, the cumulative average, num_batches_tracked) after
many compiled calls and training steps; the in-place changes ag.compile follows and those it
refuses."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import Tensor, nn, optim
from autograd_nn.nn import functional as F


def _same(a, b):
    a = a.numpy() if isinstance(a, Tensor) else np.asarray(a)
    b = b.numpy() if isinstance(b, Tensor) else np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


def _state_equal(m1, m2):
    s1, s2 = m1.state_dict(), m2.state_dict()
    return s1.keys() == s2.keys() and all(_same(s1[k], s2[k]) for k in s1)


def _calls(model, twin, shapes, n=4, seed=0):
    """``n`` calls of ``ag.compile(model)`` and of the eager twin on the same inputs: outputs,
    gradients of the input and of every parameter, and the state (buffers) after each."""
    rng = np.random.default_rng(seed)
    cm = ag.compile(lambda x: model(x))
    for _ in range(n):
        data = rng.normal(size=shapes)
        outs = []
        for m, fn in ((model, cm), (twin, twin)):
            m.zero_grad()
            x = Tensor(data, requires_grad=True)
            y = fn(x)
            (y * Tensor(np.linspace(-1, 1, y.size).reshape(y.shape))).sum().backward()
            outs.append((y, x.grad, [p.grad for p in m.parameters()]))
        (y1, gx1, gp1), (y2, gx2, gp2) = outs
        assert _same(y1, y2) and _same(gx1, gx2)
        assert all(_same(a, b) for a, b in zip(gp1, gp2))
        assert _state_equal(model, twin)
    return cm


@pytest.mark.parametrize("momentum", [0.1, None, 0.0])
@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                       (nn.BatchNorm2d, (4, 3, 2, 3))])
@pytest.mark.parametrize("affine,track", [(True, True), (False, True), (True, False)])
def test_batch_norm_compiled_as_eager(cls, shape, momentum, affine, track):
    bn = cls(3, momentum=momentum, affine=affine, track_running_stats=track)
    twin = copy.deepcopy(bn)
    cm = _calls(bn, twin, shape, n=5)
    if track:
        assert int(bn.num_batches_tracked.numpy()) == 5
        moved = not np.array_equal(bn.running_mean.numpy(), np.zeros(3))
        assert moved == (momentum != 0.0)
    bn.eval()
    twin.eval()
    _calls(bn, twin, shape, n=3, seed=1) if track else None
    bn.train()
    twin.train()
    traces = cm.trace_count
    _calls(bn, twin, shape, n=2, seed=2)
    assert cm.trace_count == traces  # the mode is part of the signature: no new trace


def test_cumulative_average_counts_every_compiled_call():
    """momentum=None: the running mean is the plain average of the batch means (independent
    of the code: computed here with numpy)."""
    bn = nn.BatchNorm1d(2, momentum=None)
    cm = ag.compile(bn)
    rng = np.random.default_rng(3)
    batches = [rng.normal(size=(5, 2)) for _ in range(6)]
    for b in batches:
        cm(Tensor(b))
    want = np.mean([b.mean(axis=0) for b in batches], axis=0)
    assert np.allclose(bn.running_mean.numpy(), want, rtol=1e-13, atol=0)
    unbiased = np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0)
    assert np.allclose(bn.running_var.numpy(), unbiased, rtol=1e-13, atol=0)
    assert int(bn.num_batches_tracked.numpy()) == 6 and cm.trace_count == 1


def test_running_statistics_in_float32_as_eager():
    bn = nn.BatchNorm1d(4, momentum=None, dtype=np.float32)
    twin = copy.deepcopy(bn)
    _calls(bn, twin, (7, 4), n=4)
    assert bn.running_var.dtype == np.float32


def _cnn(seed):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=seed), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 8, rng=seed + 1),
        nn.BatchNorm1d(8, momentum=None), nn.Tanh(), nn.Linear(8, 3, rng=seed + 2))


@pytest.mark.parametrize("make_opt", [lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                                      lambda p: optim.Adam(p, lr=0.01)])
def test_cnn_with_batch_norm_trained_compiled_as_eager(make_opt):
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(16, 1, 6, 6)), rng.integers(0, 3, size=16)
    runs = []
    for compiled in (True, False):
        model = _cnn(10)
        opt = make_opt(model.parameters())

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = ag.compile(step) if compiled else step
        losses = []
        for _ in range(3):
            model.train()
            for i in range(0, 16, 8):
                losses.append(float(fn(Tensor(X[i:i + 8]), Tensor(Y[i:i + 8]))))
            model.eval()  # an evaluation pass between epochs, on the running statistics
            with ag.no_grad():
                losses.append(float(F.cross_entropy(model(Tensor(X)), Tensor(Y))))
        runs.append((losses, model.state_dict()))
        if compiled:
            assert fn.trace_count == 1
    (l1, s1), (l2, s2) = runs
    assert l1 == l2
    assert s1.keys() == s2.keys() and all(np.array_equal(s1[k], s2[k]) for k in s1)
    assert int(s1["1.num_batches_tracked"]) == 6


def test_a_guard_after_a_write_puts_the_statistics_back():
    """The guard fails after the forward updated the running stats: they are restored, so the
    retrace (which updates them eagerly) moves them once, as eager mode does."""
    def f(bn, x):
        y = bn(x)
        if (x.sum() > 0):
            return (y * 2).sum()
        return (y * 3).sum()

    bn, twin = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    cf = ag.compile(f)
    rng = np.random.default_rng(5)
    for sign in (1, 1, -1, -1, 1, -1):
        x = sign * np.abs(rng.normal(size=(4, 2)))
        assert _same(cf(bn, Tensor(x)), f(twin, Tensor(x)))
        assert _state_equal(bn, twin)
    assert "_rollback(" in cf.source and cf.trace_count == 2


def test_writes_into_a_buffer_are_followed_and_bump_its_version():
    total = Tensor(np.zeros(3))

    @ag.compile
    def f(x):
        with ag.no_grad():
            total.add_(x.detach() * 2.0)
        return (x * total).sum()

    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for k in range(1, 4):
        v = total._version_counter().version
        y = f(x)
        assert np.array_equal(total.numpy(), 2.0 * k * x.numpy())
        assert total._version_counter().version > v
        y.backward()  # the product saved total after the write: no complaint
        assert np.array_equal(x.grad.numpy(), total.numpy())
        x.grad = None
    assert f.trace_count == 1 and "out=" in f.source


def test_item_assignment_and_fill_of_buffers():
    state = Tensor(np.zeros(4))

    @ag.compile
    def f(x, i):
        with ag.no_grad():
            state.fill_(1.0)
            state[i] = x.detach().sum()
        return (x * state[:2]).sum()

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    for i in (0, 3, 0):
        f(x, i)
        want = np.ones(4)
        want[i] = 3.0
        assert np.array_equal(state.numpy(), want)
    x2 = Tensor(np.array([5.0, 2.0]), requires_grad=True)
    f(x2, 3)
    assert state.numpy()[3] == 7.0


def test_refused_in_place_changes():
    w = Tensor(np.ones(3), requires_grad=True)

    def into_parameter(x):
        with ag.no_grad():
            w.mul_(x.detach())
        return (x * w).sum()

    def into_result(x):
        y = x * 2
        with ag.no_grad():
            y += 1
        return y.sum()

    def into_made_inside(x):
        acc = ag.zeros(3)
        with ag.no_grad():
            acc += x.detach()
        return (x * acc).sum()

    saved = Tensor(np.ones(3))

    def into_saved(x):
        y = (x * saved).sum()
        with ag.no_grad():
            saved.add_(1.0)
        return y

    x = Tensor(np.ones(3), requires_grad=True)
    for fn, match in ((into_parameter, "requires grad"), (into_result, "computed by"),
                      (into_made_inside, "made inside"), (into_saved, "saved for its backward")):
        before = (w.numpy().copy(), saved.numpy().copy())
        with pytest.raises(ag.CompileError, match=match):
            ag.compile(fn)(x)
        assert np.array_equal(w.numpy(), before[0]) and np.array_equal(saved.numpy(), before[1])


def _layers():
    """(name, module factory, input shape, integer input?)"""
    return [
        ("Linear", lambda: nn.Linear(4, 3, rng=0), (5, 4), False),
        ("Conv1d", lambda: nn.Conv1d(2, 3, 3, padding=1, rng=0), (2, 2, 6), False),
        ("Conv2d", lambda: nn.Conv2d(2, 3, 3, stride=2, rng=0), (2, 2, 5, 5), False),
        ("ConvTranspose1d", lambda: nn.ConvTranspose1d(2, 3, 3, rng=0), (2, 2, 4), False),
        ("ConvTranspose2d", lambda: nn.ConvTranspose2d(2, 2, 2, stride=2, rng=0), (1, 2, 3, 3),
         False),
        ("MaxPool1d", lambda: nn.MaxPool1d(2), (2, 3, 6), False),
        ("MaxPool2d", lambda: nn.MaxPool2d(2), (2, 2, 4, 4), False),
        ("AvgPool1d", lambda: nn.AvgPool1d(3, stride=1), (2, 3, 6), False),
        ("AvgPool2d", lambda: nn.AvgPool2d(2), (2, 2, 4, 4), False),
        ("AdaptiveAvgPool1d", lambda: nn.AdaptiveAvgPool1d(2), (2, 3, 5), False),
        ("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d((2, 1)), (2, 2, 5, 4), False),
        ("BatchNorm1d", lambda: nn.BatchNorm1d(4), (5, 4), False),
        ("BatchNorm2d", lambda: nn.BatchNorm2d(2, momentum=None), (3, 2, 2, 2), False),
        ("LayerNorm", lambda: nn.LayerNorm(4), (3, 4), False),
        ("GroupNorm", lambda: nn.GroupNorm(2, 4), (3, 4, 2), False),
        ("Embedding", lambda: nn.Embedding(6, 3, rng=0), (4, 2), True),
        ("Embedding padding", lambda: nn.Embedding(6, 3, padding_idx=2, rng=0), (4, 2), True),
        ("RNN", lambda: nn.RNN(3, 4, rng=0), (5, 2, 3), False),
        ("LSTM", lambda: nn.LSTM(3, 4, rng=0), (5, 2, 3), False),
        ("GRU", lambda: nn.GRU(3, 4, rng=0), (5, 2, 3), False),
        ("Dropout", lambda: nn.Dropout(0.4, rng=np.random.default_rng(1)), (4, 5), False),
        ("Flatten", lambda: nn.Flatten(), (2, 3, 2), False),
        ("Unflatten", lambda: nn.Unflatten(1, (2, 3)), (2, 6), False),
        ("activations", lambda: nn.Sequential(nn.ReLU(), nn.LeakyReLU(0.1), nn.Sigmoid(),
                                              nn.Tanh(), nn.Softplus(), nn.Softmax(dim=1),
                                              nn.LogSoftmax(dim=1), nn.Identity()),
         (3, 4), False),
    ]


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name,make,shape,integer", _layers(), ids=[c[0] for c in _layers()])
@pytest.mark.parametrize("training", [True, False])
def test_every_layer_compiled_as_eager(name, make, shape, integer, training):
    model = make()
    twin = copy.deepcopy(model)  # a deep copy: the same weights, buffers and generator state
    model.train(training)
    twin.train(training)
    cm = ag.compile(lambda x: _first(model(x)))
    rng = np.random.default_rng(6)
    for _ in range(4):
        data = rng.integers(0, 6, size=shape) if integer else rng.normal(size=shape)
        results = []
        for m, fn in ((model, cm), (twin, lambda x: _first(twin(x)))):
            m.zero_grad()
            x = Tensor(data, requires_grad=not integer)
            y = fn(x)
            (y * Tensor(np.cos(np.arange(y.size)).reshape(y.shape))).sum().backward()
            results.append((y, None if integer else x.grad, [p.grad for p in m.parameters()]))
        (y1, gx1, gp1), (y2, gx2, gp2) = results
        assert _same(y1, y2), name
        assert (gx1 is None and gx2 is None) or _same(gx1, gx2)
        assert all((a is None and b is None) or _same(a, b) for a, b in zip(gp1, gp2)), name
        assert _state_equal(model, twin)
    assert cm.trace_count == 1


def test_losses_follow_their_targets():
    pred = Tensor(np.array([0.5, 1.5, 2.5]), requires_grad=True)
    mse = ag.compile(lambda p, t: F.mse_loss(p, t))
    for target in ([0, 1, 2], [3, 0, 1]):
        t = Tensor(np.array(target))  # integer targets, cast to the input's dtype
        assert float(mse(pred, t)) == float(F.mse_loss(pred, t))
    ce = ag.compile(lambda z, t: F.cross_entropy(z, t))
    logits = Tensor(np.array([0.1, 2.0, -1.0]), requires_grad=True)
    for k in (0, 1, 2, 1):
        t = Tensor(np.array(k))
        assert float(ce(logits, t)) == float(F.cross_entropy(logits, t))
    assert mse.trace_count == 1 and ce.trace_count == 1


def test_a_replaced_buffer_is_followed():
    bn, twin = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    cm = ag.compile(bn)
    x = Tensor(np.arange(8.0).reshape(4, 2))
    cm(x)
    cm(x)
    twin(x)
    twin(x)
    for m in (bn, twin):
        m.running_mean = Tensor(np.array([5.0, -5.0]))
    assert _same(cm(x), twin(x)) and _same(cm(x), twin(x))
    assert _state_equal(bn, twin) and cm.trace_count == 2


def test_indices_out_of_range_raise_on_a_compiled_call_too():
    emb = nn.Embedding(5, 2, rng=0)
    ce = ag.compile(lambda z, t: F.cross_entropy(z, t))
    ce_emb = ag.compile(lambda i: emb(i).sum())
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    ce(logits, Tensor(np.array([0, 2])))
    ce_emb(Tensor(np.array([1, 4])))
    for bad in ([0, 3], [-1, 0]):  # eager mode raises; so must the compiled calls
        with pytest.raises(ValueError, match="out of range"):
            ce(logits, Tensor(np.array(bad)))
        with pytest.raises(IndexError, match="indices must be in"):
            ce_emb(Tensor(np.array(bad) + np.array([0, 2])))
    assert float(ce(logits, Tensor(np.array([1, 1])))) == float(np.log(3.0))
