"""The layers against PyTorch (the oracle, when installed): values and gradients to 1e-10 in
float64 on hypothesis-drawn shapes, strides, paddings, dilations and groups; whole modules
(convolution with padding modes, batch norm through train and eval, recurrent stacks) with
the same parameters loaded through `from_torch_state_dict`.

Example counts come from the hypothesis profile (tests/conftest.py: 25 by default, 300 under
HYPOTHESIS_PROFILE=thorough)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_nn as ag
import autograd_nn.nn.functional as F
from autograd_nn import nn

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
TF = torch.nn.functional
RTOL = 1e-10
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                    deadline=None)


def compare(ours, theirs, arrays, seed=0):
    """Values and the gradients of sum(r * out) w.r.t. every array, engine vs torch."""
    ts = [ag.Tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = ours(*ts), theirs(*tt)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=RTOL, atol=RTOL)
    r = np.random.default_rng(seed).standard_normal(y.shape)
    (y * r).sum().backward()
    (yt * torch.tensor(r)).sum().backward()
    for k, (a, b) in enumerate(zip(ts, tt)):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=RTOL, atol=RTOL,
                                   err_msg=f"gradient of operand {k}")


@st.composite
def conv_setups(draw, d=2, transposed=False):
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(d))
    span = [dl * (k - 1) + 1 for k, dl in zip(kernel, dilation)]
    spatial = tuple(draw(st.integers(max(1, s - 2 * p), s + 4))
                    for s, p in zip(span, padding))
    if transposed:
        extra = tuple(draw(st.integers(0, max(s, dl) - 1)) for s, dl in zip(stride, dilation))
        out = [(n - 1) * s - 2 * p + dl * (k - 1) + e + 1 for n, s, p, dl, k, e
               in zip(spatial, stride, padding, dilation, kernel, extra)]
        if min(out) < 1:
            extra = None
        wshape = (cin, cout // groups) + kernel
    else:
        extra = ()
        wshape = (cout, cin // groups) + kernel
    return dict(n=draw(st.integers(1, 2)), cin=cin, cout=cout, spatial=spatial,
                wshape=wshape, kw=dict(stride=stride, padding=padding, dilation=dilation,
                                       groups=groups), extra=extra, seed=draw(st.integers(0, 99)))


def _arrays(s):
    rng = np.random.default_rng(s["seed"])
    return [rng.standard_normal((s["n"], s["cin"]) + s["spatial"]),
            rng.standard_normal(s["wshape"]), rng.standard_normal(s["cout"])]


@SETTINGS
@given(conv_setups(2))
def test_conv2d(s):
    compare(lambda x, w, b: F.conv2d(x, w, b, **s["kw"]),
            lambda x, w, b: TF.conv2d(x, w, b, **s["kw"]), _arrays(s), s["seed"])


@SETTINGS
@given(conv_setups(1))
def test_conv1d(s):
    compare(lambda x, w, b: F.conv1d(x, w, b, **s["kw"]),
            lambda x, w, b: TF.conv1d(x, w, b, **s["kw"]), _arrays(s), s["seed"])


@SETTINGS
@given(conv_setups(2, transposed=True))
def test_conv_transpose2d(s):
    if s["extra"] is None:
        return
    kw = dict(s["kw"], output_padding=s["extra"])
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
            lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw), _arrays(s), s["seed"])


@SETTINGS
@given(conv_setups(1, transposed=True))
def test_conv_transpose1d(s):
    if s["extra"] is None:
        return
    kw = dict(s["kw"], output_padding=s["extra"])
    compare(lambda x, w, b: F.conv_transpose1d(x, w, b, **kw),
            lambda x, w, b: TF.conv_transpose1d(x, w, b, **kw), _arrays(s), s["seed"])


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(2, 7),
       st.integers(2, 7), st.integers(0, 99))
def test_conv2d_same_padding(kh, kw, dil, h, w, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((2, 2, h, w)), rng.standard_normal((3, 2, kh, kw))]
    compare(lambda x, k: F.conv2d(x, k, padding="same", dilation=dil),
            lambda x, k: TF.conv2d(x, k, padding="same", dilation=dil), arrays)


@st.composite
def pool_setups(draw):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    spatial = tuple(draw(st.integers(k, k + 5)) for k in kernel)
    return dict(kernel_size=kernel, stride=stride, padding=padding,
                ceil_mode=draw(st.booleans())), spatial, draw(st.integers(0, 99))


@SETTINGS
@given(pool_setups(), st.integers(1, 2))
def test_max_pool2d(setup, dil):
    kw, spatial, seed = setup
    rng = np.random.default_rng(seed)
    n = 2 * 3 * int(np.prod(spatial))
    x = (rng.permutation(n) * 0.01).reshape((2, 3) + spatial)  # no ties: the conventions agree
    if any(dil * (k - 1) + 1 > s + 2 * p for k, s, p in zip(kw["kernel_size"], spatial,
                                                           kw["padding"])):
        return
    compare(lambda x: F.max_pool2d(x, dilation=dil, **kw),
            lambda x: TF.max_pool2d(x, dilation=dil, **kw), [x])


@SETTINGS
@given(pool_setups(), st.booleans())
def test_avg_pool2d(setup, include_pad):
    kw, spatial, seed = setup
    x = np.random.default_rng(seed).standard_normal((2, 3) + spatial)
    compare(lambda x: F.avg_pool2d(x, count_include_pad=include_pad, **kw),
            lambda x: TF.avg_pool2d(x, count_include_pad=include_pad, **kw), [x])


@SETTINGS
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.integers(1, 9))
def test_adaptive_avg_pool2d(h, w, oh, ow):
    x = np.random.default_rng(h * w).standard_normal((2, 2, h, w))
    compare(lambda x: F.adaptive_avg_pool2d(x, (oh, ow)),
            lambda x: TF.adaptive_avg_pool2d(x, (oh, ow)), [x])


@SETTINGS
@given(st.sampled_from(["constant", "reflect", "replicate", "circular"]),
       st.lists(st.integers(0, 2), min_size=4, max_size=4), st.integers(3, 5))
def test_pad_modes(mode, pads, size):
    x = np.random.default_rng(size).standard_normal((2, 2, size, size + 1))
    compare(lambda x: F.pad(x, tuple(pads), mode=mode),
            lambda x: TF.pad(x, tuple(pads), mode=mode), [x])


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.integers(1, 2))
def test_unfold_and_fold(k, s, p, dl):
    x = np.random.default_rng(k).standard_normal((2, 2, 6, 5))
    kw = dict(kernel_size=k, stride=s, padding=p, dilation=dl)
    compare(lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), [x])
    cols = TF.unfold(torch.tensor(x), **kw).numpy()
    compare(lambda c: F.fold(c, (6, 5), **kw), lambda c: TF.fold(c, (6, 5), **kw), [cols])


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 99))
def test_norms(n, groups, per_group, seed):
    rng = np.random.default_rng(seed)
    c = groups * per_group
    x, w, b = rng.standard_normal((n + 1, c, 3)), rng.standard_normal(c), rng.standard_normal(c)
    compare(lambda x, w, b: F.group_norm(x, groups, w, b),
            lambda x, w, b: TF.group_norm(x, groups, w, b), [x, w, b])
    compare(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
            lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), [x, w, b])
    w2, b2 = rng.standard_normal((c, 3)), rng.standard_normal((c, 3))
    compare(lambda x, w, b: F.layer_norm(x, (c, 3), w, b),
            lambda x, w, b: TF.layer_norm(x, (c, 3), w, b), [x, w2, b2])


# ---- whole modules ----------------------------------------------------------------------------
def _twin(ours, theirs):
    theirs = theirs.double()
    ours.load_state_dict(nn.from_torch_state_dict(ours, theirs.state_dict()))
    return ours, theirs


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_module_padding_modes(mode):
    ours, theirs = _twin(nn.Conv2d(2, 3, (3, 2), padding=(1, 1), padding_mode=mode),
                         torch.nn.Conv2d(2, 3, (3, 2), padding=(1, 1), padding_mode=mode))
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 4))
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=RTOL, atol=RTOL)


def test_batch_norm_module_through_train_and_eval():
    ours, theirs = _twin(nn.BatchNorm2d(3, momentum=None), torch.nn.BatchNorm2d(3, momentum=None))
    rng = np.random.default_rng(1)
    for step in range(4):
        x = rng.standard_normal((4, 3, 2, 2)) * (step + 1)
        np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=RTOL, atol=RTOL)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k], v.numpy(), rtol=RTOL, err_msg=k)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidirectional,batch_first", [(1, False, False),
                                                              (2, True, True)])
def test_recurrent_modules_values_and_gradients(kind, layers, bidirectional, batch_first):
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    ours, theirs = _twin(getattr(nn, kind)(3, 4, **kw), getattr(torch.nn, kind)(3, 4, **kw))
    x = np.random.default_rng(2).standard_normal((2, 5, 3))
    out, _ = ours(ag.Tensor(x))
    out_t, _ = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=RTOL, atol=RTOL)
    r = np.random.default_rng(3).standard_normal(out.shape)
    (out * r).sum().backward()
    (out_t * torch.tensor(r)).sum().backward()
    grads = nn.from_torch_state_dict(ours, {k: p.grad for k, p in theirs.named_parameters()})
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads[k], rtol=RTOL, atol=RTOL, err_msg=k)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_and_state_dict_round_trip(kind):
    ours, theirs = _twin(getattr(nn, kind)(3, 4), getattr(torch.nn, kind)(3, 4))
    x = np.random.default_rng(4).standard_normal((2, 3))
    got, want = ours(x), theirs(torch.tensor(x))
    got, want = (got[0], want[0]) if kind == "LSTMCell" else (got, want)
    np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=RTOL, atol=RTOL)
    back = nn.to_torch_state_dict(ours)
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(back[k], v.numpy())
