"""autograd_nn.nn: Module registration and naming, state dicts, layers, initialisers."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.mode import STATE
from autograd_nn.nn import functional as F
from autograd_nn.nn import init


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4, rng=0)
        self.act = nn.Sigmoid()
        self.out = nn.Linear(4, 2, bias=False, rng=1)
        self.scale = nn.Parameter([1.5, 2.5])
        self.note = "plain attribute"

    def forward(self, x):
        return self.out(self.act(self.hidden(x))) * self.scale


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def central_diff(f, x, eps=1e-6):
    """d f / d x for a scalar numpy function f, by central differences (float64)."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


# ---- registration and naming -----------------------------------------------------------------
def test_named_parameters_dotted_in_registration_order():
    m = MLP()
    names = [n for n, _ in m.named_parameters()]
    # own parameters come first in the list of this module, then the children's (PyTorch order)
    assert names == ["scale", "hidden.weight", "hidden.bias", "out.weight"]
    assert [p.shape for p in m.parameters()] == [(2,), (3, 4), (4,), (4, 2)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert m.hidden.weight is dict(m.named_parameters())["hidden.weight"]


def test_modules_children_and_named_modules():
    m = MLP()
    assert [n for n, _ in m.named_modules()] == ["", "hidden", "act", "out"]
    assert list(m.children()) == [m.hidden, m.act, m.out]
    assert list(m.modules())[0] is m
    seq = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Sequential(nn.Tanh(), nn.Linear(2, 1, rng=1)))
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.1.weight",
                                                      "1.1.bias"]


def test_unknown_attribute_raises_attribute_error():
    m = MLP()
    with pytest.raises(AttributeError, match="no attribute 'hiddden'"):
        _ = m.hiddden
    assert not hasattr(m, "weight")
    assert getattr(m, "missing", None) is None


def test_assignment_rules():
    m = MLP()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        m.scale = ag.Tensor([1.0, 2.0])
    m.scale = None
    assert "scale" not in dict(m.named_parameters())
    m.hidden = nn.Linear(3, 4, bias=False, rng=2)  # replacing a sub-module
    assert "hidden.bias" not in dict(m.named_parameters())
    m.note = nn.Parameter(np.zeros(3))  # a plain attribute becomes a parameter
    assert "note" in dict(m.named_parameters())
    del m.note
    assert "note" not in dict(m.named_parameters())
    with pytest.raises(AttributeError):
        _ = m.note

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])  # before super().__init__()

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Early()


def test_shared_parameter_listed_once_but_in_state_dict_under_both_names():
    a = nn.Linear(2, 2, rng=0)
    m = nn.Sequential(a, nn.Tanh(), a)
    assert len(list(m.parameters())) == 2
    assert set(m.state_dict()) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_parameter_is_float_leaf():
    p = nn.Parameter([1, 2, 3])
    assert p.dtype == np.float64 and p.is_leaf and p.requires_grad
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.array([1, 2], dtype=np.int64))
    with pytest.raises(TypeError, match="floating"):
        p.data = np.array([1, 2, 3])
    assert repr(p).startswith("Parameter containing:\ntensor(")
    q = nn.Parameter(np.ones(2, np.float32), requires_grad=False)
    assert q.dtype == np.float32 and not q.requires_grad


def test_zero_grad_sets_none_or_zeros():
    m = MLP()
    m(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_train_eval_flags_propagate():
    m = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Sequential(nn.Dropout(0.5, rng=0)))
    assert all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    with pytest.raises(TypeError):
        m.train("yes")


def test_call_pushes_module_scope_and_restores_it():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(STATE.scope)
            return x * 2

    probe = Probe()
    outer = nn.Sequential(probe)
    w = ag.Tensor([1.0], requires_grad=True)
    y = outer(w)
    assert seen == [(outer, probe)]
    assert y.grad_fn.scope == (outer, probe)
    assert STATE.scope == ()

    class Boom(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        nn.Sequential(Boom())(w)
    assert STATE.scope == ()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(w)


def test_repr_tree():
    m = MLP()
    assert repr(m) == (
        "MLP(\n"
        "  (hidden): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (act): Sigmoid()\n"
        "  (out): Linear(in_features=4, out_features=2, bias=False)\n"
        ")"
    )
    nested = nn.Sequential(nn.Sequential(nn.ReLU()), nn.Dropout(0.25))
    assert repr(nested) == (
        "Sequential(\n  (0): Sequential(\n    (0): ReLU()\n  )\n  (1): Dropout(p=0.25)\n)"
    )


# ---- state dicts ------------------------------------------------------------------------------
def test_state_dict_round_trip_copies_arrays():
    a, b = MLP(), MLP()
    b.hidden.reset_parameters(rng=99)
    sd = a.state_dict()
    assert list(sd) == ["scale", "hidden.weight", "hidden.bias", "out.weight"]
    sd["scale"][0] = 100.0  # a copy: the model is untouched
    assert a.scale.data[0] == 1.5
    sd = a.state_dict()
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    sd["hidden.weight"][0, 0] = 7.0  # the loaded values were copied, not shared
    assert b.hidden.weight.data[0, 0] != 7.0


@pytest.mark.parametrize("change, pattern", [
    (lambda sd: sd.pop("out.weight"), "missing key 'out.weight'"),
    (lambda sd: sd.__setitem__("extra.bias", np.zeros(2)), "unexpected key 'extra.bias'"),
    (lambda sd: sd.__setitem__("hidden.weight", np.zeros((4, 3))),
     "'hidden.weight': shape \\(4, 3\\) does not match .*\\(3, 4\\)"),
    (lambda sd: sd.__setitem__("hidden.bias", np.zeros(4, dtype=np.int64)),
     "'hidden.bias': dtype int64"),
])
def test_load_state_dict_errors_change_nothing(change, pattern):
    target = MLP()
    before = snapshot(target)
    versions = [p.version for p in target.parameters()]
    source = MLP()
    source.hidden.reset_parameters(rng=5)
    sd = source.state_dict()
    change(sd)
    with pytest.raises(nn.StateDictError, match=pattern):
        target.load_state_dict(sd)
    after = target.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert [p.version for p in target.parameters()] == versions


def test_load_state_dict_non_strict_and_casting():
    m = MLP()
    sd = {"hidden.bias": np.arange(4, dtype=np.float32), "bogus": np.zeros(1)}
    res = m.load_state_dict(sd, strict=False)
    assert res.unexpected_keys == ["bogus"]
    assert set(res.missing_keys) == {"scale", "hidden.weight", "out.weight"}
    assert m.hidden.bias.dtype == np.float64
    np.testing.assert_array_equal(m.hidden.bias.data, [0, 1, 2, 3])
    with pytest.raises(TypeError):
        m.load_state_dict([("scale", np.zeros(2))])


def test_deepcopy_gives_an_independent_model():
    m = MLP()
    c = copy.deepcopy(m)
    c.hidden.weight.data[...] = 0
    assert not np.all(m.hidden.weight.data == 0)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in m.named_parameters()]


# ---- layers -----------------------------------------------------------------------------------
def test_linear_forward_and_gradients_against_numpy_and_fd(rng):
    layer = nn.Linear(3, 2, rng=0)
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (2,)
    x = rng.normal(size=(4, 3))
    W, b = layer.weight.data.copy(), layer.bias.data.copy()
    y = layer(x)
    np.testing.assert_allclose(y.data, x @ W + b, rtol=1e-15)
    c = rng.normal(size=(4, 2))
    (y * c).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data,
                               central_diff(lambda w: np.sum((x @ w + b) * c), W), rtol=1e-7)
    np.testing.assert_allclose(layer.bias.grad.data,
                               central_diff(lambda bb: np.sum((x @ W + bb) * c), b), rtol=1e-7)


def test_linear_init_choices():
    default = nn.Linear(16, 8, rng=3)
    bound = 1 / np.sqrt(16)
    gen = np.random.default_rng(3)
    np.testing.assert_array_equal(default.weight.data, gen.uniform(-bound, bound, (16, 8)))
    np.testing.assert_array_equal(default.bias.data, gen.uniform(-bound, bound, 8))
    xav = nn.Linear(16, 8, init="xavier_uniform", rng=3)
    b = np.sqrt(6 / (16 + 8))
    np.testing.assert_array_equal(xav.weight.data,
                                  np.random.default_rng(3).uniform(-b, b, (16, 8)))
    assert np.all(xav.bias.data == 0)
    he = nn.Linear(16, 8, init="he_normal", rng=3)
    np.testing.assert_array_equal(he.weight.data,
                                  np.random.default_rng(3).normal(0, np.sqrt(2 / 16), (16, 8)))
    custom = nn.Linear(2, 2, init=lambda w, rng: init.constant_(w, 0.5))
    assert np.all(custom.weight.data == 0.5)
    with pytest.raises(ValueError, match="unknown init 'xavier'"):
        nn.Linear(2, 2, init="xavier")
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 2)
    assert nn.Linear(2, 3, dtype=np.float32).weight.dtype == np.float32


def test_sequential_containers():
    layers = [nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    x = np.ones((2, 2))
    np.testing.assert_array_equal(seq(x).data, layers[2](layers[1](layers[0](x))).data)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2, rng=0)), ("act", nn.Tanh())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    assert named.fc is named[0]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(IndexError, match="length 4"):
        seq[10]
    ml = nn.ModuleList([nn.Linear(1, 1, rng=0), nn.Linear(1, 1, rng=1)])
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight",
                                                     "1.bias"]
    assert isinstance(ml[:1], nn.ModuleList)


def test_activation_modules_match_numpy(rng):
    x = rng.normal(size=(3, 4)) * 3
    e = np.exp(x - x.max(axis=1, keepdims=True))
    cases = [
        (nn.Sigmoid(), 1 / (1 + np.exp(-x))),
        (nn.Tanh(), np.tanh(x)),
        (nn.ReLU(), np.maximum(x, 0)),
        (nn.LeakyReLU(0.2), np.where(x > 0, x, 0.2 * x)),
        (nn.Softplus(), np.log1p(np.exp(x))),
        (nn.Softmax(dim=1), e / e.sum(axis=1, keepdims=True)),
        (nn.LogSoftmax(), np.log(e / e.sum(axis=1, keepdims=True))),
        (nn.Identity(), x),
    ]
    for module, expected in cases:
        np.testing.assert_allclose(module(x).data, expected, rtol=1e-12, atol=1e-15)
    assert nn.Flatten()(np.ones((2, 3, 4))).shape == (2, 12)


def test_dropout_seeded_scaled_and_identity_in_eval():
    x = ag.Tensor(np.ones((200, 50)), requires_grad=True)
    a, b = nn.Dropout(0.3, rng=7), nn.Dropout(0.3, seed=7)
    ya, yb = a(x), b(x)
    np.testing.assert_array_equal(ya.data, yb.data)
    kept = ya.data != 0
    np.testing.assert_allclose(ya.data[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.02
    assert not np.array_equal(a(x).data, ya.data)  # the generator moves on
    ya.sum().backward()
    np.testing.assert_allclose(x.grad.data, kept / 0.7)
    a.eval()
    assert a(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(F.dropout(x, 1.0).data == 0)
    for p in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="dropout probability"):
            nn.Dropout(p)


# ---- initialisers -----------------------------------------------------------------------------
def test_init_fans_gains_and_statistics():
    assert init.calculate_fans((30, 20)) == (30, 20)
    assert init.calculate_fans((3, 4, 5, 5)) == (75, 100)
    with pytest.raises(ValueError, match="2 dimensions"):
        init.calculate_fans((5,))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(np.sqrt(2))
    w = nn.Parameter(np.empty((400, 600)))
    init.xavier_normal_(w, rng=0)
    assert w.data.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    init.glorot_uniform(w, rng=0)
    assert np.abs(w.data).max() <= np.sqrt(6 / 1000)
    assert w.data.std() == pytest.approx(np.sqrt(6 / 1000) / np.sqrt(3), rel=0.02)
    init.kaiming_normal_(w, rng=0)
    assert w.data.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    init.kaiming_uniform_(w, mode="fan_out", rng=0)
    assert np.abs(w.data).max() <= np.sqrt(6 / 600)
    init.he_uniform(w, rng=1)
    assert np.abs(w.data).max() <= np.sqrt(6 / 400)
    init.normal_(w, mean=2.0, std=0.5, rng=0)
    assert w.data.mean() == pytest.approx(2.0, abs=0.01)
    init.uniform_(w, -3, -2, rng=0)
    assert w.data.min() >= -3 and w.data.max() < -2
    init.zeros_(w)
    assert np.all(w.data == 0)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(w, mode="fan_avg")


def test_init_is_seeded_and_accepts_generators():
    a, b = nn.Parameter(np.empty((3, 3))), nn.Parameter(np.empty((3, 3)))
    init.normal_(a, rng=11)
    init.normal_(b, rng=11)
    np.testing.assert_array_equal(a.data, b.data)
    gen = np.random.default_rng(11)
    init.normal_(a, rng=gen)
    init.normal_(b, rng=gen)  # one generator, two different draws
    assert not np.array_equal(a.data, b.data)
    v = a.version
    init.zeros_(a)
    assert a.version == v + 1


def test_fill_from_numpy_global_reproduces_r1_bit_for_bit():
    net = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Sigmoid(), nn.Linear(4, 5, bias=False),
                        nn.Sigmoid(), nn.Linear(5, 1, bias=False), nn.Sigmoid())
    init.fill_from_numpy_global(net, seed=1)
    np.random.seed(1)
    W1, W2, W3 = np.random.randn(3, 4), np.random.randn(4, 5), np.random.randn(5, 1)
    for p, w in zip(net.parameters(), (W1, W2, W3)):
        assert p.data.tobytes() == w.tobytes()
    # explicit order, uniform draws, and continuing from the current global state
    p1, p2 = nn.Parameter(np.empty((3, 4))), nn.Parameter(np.empty((4, 1)))
    np.random.seed(3)
    init.fill_from_numpy_global([p1, p2], distribution="rand")
    np.random.seed(3)
    assert p1.data.tobytes() == np.random.rand(3, 4).tobytes()
    assert p2.data.tobytes() == np.random.rand(4, 1).tobytes()
    # scalar draws np.random.normal() one at a time follow the same stream as randn
    q = nn.Parameter(np.empty(9))
    init.fill_from_numpy_global([q], seed=0)
    np.random.seed(0)
    assert q.data.tolist() == [np.random.normal() for _ in range(9)]
    with pytest.raises(ValueError, match="distribution"):
        init.fill_from_numpy_global([q], distribution="gauss")
