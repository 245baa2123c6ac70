"""Every layer functional: forward values against plain-loop numpy references (layer_refs.py),
first derivatives against float64 central differences (fd_oracle.py), second derivatives by
gradgradcheck, and a plain backward that records nothing."""

from __future__ import annotations

import numpy as np
import pytest
from fd_oracle import assert_grads_match, fd_gradients
from layer_refs import (
    avg_pool2d_ref,
    conv2d_ref,
    conv_transpose2d_ref,
    lstm_step_ref,
    max_pool2d_ref,
)

import autograd_nn as ag
import autograd_nn.nn.functional as F
from autograd_nn import nn
from autograd_nn.nn.recurrent import cell_step


def distinct(rng, shape):
    """Values without ties (max pooling's derivative is defined there), spaced 0.01+ apart."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.013 - n * 0.0065).reshape(shape)


# (id, fn on tensors, operand shapes, operand generator)
CASES = [
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
     [(2, 3, 9), (4, 3, 3), (4,)], None),
    ("conv1d_groups_same", lambda x, w: F.conv1d(x, w, padding="same", groups=2),
     [(2, 4, 6), (2, 2, 4)], None),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
     [(2, 3, 5, 4), (4, 3, 3, 2), (4,)], None),
    ("conv2d_dilation_groups", lambda x, w: F.conv2d(x, w, dilation=(2, 1), groups=3),
     [(1, 6, 6, 5), (3, 2, 2, 3)], None),
    ("conv2d_same_unbatched", lambda x, w: F.conv2d(x, w, padding="same"),
     [(2, 4, 4), (3, 2, 2, 3)], None),
    ("conv3d", lambda x, w: F.conv3d(x, w, padding=1, stride=2), [(1, 2, 3, 4, 3),
                                                                 (2, 2, 2, 2, 2)], None),
    ("conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1,
                                                            output_padding=1),
     [(2, 3, 4), (3, 2, 3), (2,)], None),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(
        x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
        dilation=(1, 2)), [(2, 4, 3, 2), (4, 1, 3, 2), (2,)], None),
    ("pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), [(2, 3, 4)], None),
    ("pad_negative", lambda x: F.pad(x, (-1, 2, 1, -2)), [(2, 4, 5)], None),
    ("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), [(1, 2, 4, 3)], None),
    ("pad_replicate", lambda x: F.pad(x, (2, 3), mode="replicate"), [(2, 2, 3)], None),
    ("pad_circular", lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"), [(1, 2, 3, 4)], None),
    ("unfold", lambda x: F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
     [(2, 2, 5, 4)], None),
    ("fold", lambda x: F.fold(x, (4, 5), 2, padding=1, stride=2), [(2, 8, 9)], None),
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), [(2, 3, 8)], distinct),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), [(2, 3, 4, 6)], distinct),
    ("max_pool2d_overlap", lambda x: F.max_pool2d(x, 3, stride=1, padding=1, dilation=(1, 2)),
     [(1, 2, 4, 5)], distinct),
    ("max_pool2d_ceil", lambda x: F.max_pool2d(x, (3, 2), stride=2, padding=1, ceil_mode=True),
     [(2, 2, 5, 6)], distinct),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
     [(2, 3, 7)], None),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
     [(2, 2, 6, 5)], None),
    ("avg_pool2d_divisor", lambda x: F.avg_pool2d(x, 2, divisor_override=3), [(1, 2, 4, 4)],
     None),
    ("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 3), [(2, 3, 7)], None),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, None)), [(2, 2, 5, 4)],
     None),
    ("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     [(4, 3, 2, 2), (3,), (3,)], None),
    ("batch_norm_eval", lambda x, w, b: F.batch_norm(x, np.array([0.1, -0.2, 0.3]),
                                                     np.array([0.5, 1.5, 2.0]), w, b),
     [(4, 3, 2), (3,), (3,)], None),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)],
     None),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [(3, 4, 5), (4,), (4,)], None),
    ("embedding", lambda w: F.embedding(np.array([[1, 0, 3], [3, 3, 2]]), w), [(5, 3)], None),
]


def _operands(rng, shapes, gen):
    return [(gen or (lambda r, s: r.uniform(-1.5, 1.5, s)))(rng, s) for s in shapes]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(case):
    _, fn, shapes, gen = case
    rng = np.random.default_rng(0)
    xs = _operands(rng, shapes, gen)
    ts = [ag.Tensor(x, requires_grad=True) for x in xs]
    out = fn(*ts)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()

    def loss(*arrays):
        with ag.no_grad():
            return float((fn(*[ag.Tensor(a) for a in arrays]).data * weights).sum())

    assert_grads_match([t.grad.data for t in ts], fd_gradients(loss, xs), rtol=1e-6,
                       atol=1e-8)


SECOND_ORDER = [c for c in CASES if c[0] in {
    "conv1d", "conv2d", "conv2d_dilation_groups", "conv_transpose2d", "pad_reflect", "unfold",
    "fold", "max_pool2d_overlap", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm_train",
    "layer_norm", "group_norm", "embedding"}]


@pytest.mark.parametrize("case", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_derivatives_by_gradgradcheck(case):
    _, fn, shapes, gen = case
    rng = np.random.default_rng(1)
    ts = [ag.Tensor(x, requires_grad=True) for x in _operands(rng, shapes, gen)]
    # conv and pooling are linear in each operand: tanh makes the second derivative non-zero
    ag.gradgradcheck(lambda *a: ag.tanh(fn(*a)), ts, seed=0)


def test_conv2d_grad_of_grad_is_the_mixed_derivative():
    """d/dw of <dL/dx, v> for L = sum(r * conv(x, w)) is conv's weight gradient with v as
    the input: conv2d is bilinear, so grad-of-grad gives an exact closed form."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3))
    r, v = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal(x.shape)
    tx, tw = ag.Tensor(x, requires_grad=True), ag.Tensor(w, requires_grad=True)
    (gx,) = ag.autograd.grad((F.conv2d(tx, tw) * r).sum(), [tx], create_graph=True)
    (gw,) = ag.autograd.grad((gx * v).sum(), [tw])
    tv = ag.Tensor(v)
    tw2 = ag.Tensor(w, requires_grad=True)
    (F.conv2d(tv, tw2) * r).sum().backward()
    np.testing.assert_allclose(gw.data, tw2.grad.data, rtol=1e-12, atol=1e-12)


# ---- forward values against the plain loops ---------------------------------------------------
@pytest.mark.parametrize("stride,padding,dilation,groups", [
    ((1, 1), 0, (1, 1), 1), ((2, 1), (1, 2), (1, 1), 1), ((1, 2), 1, (2, 1), 2),
    ((1, 1), "same", (2, 2), 1), ((3, 2), (2, 0), (1, 2), 4)])
def test_conv2d_values_match_the_loop_definition(stride, padding, dilation, groups):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    b = rng.standard_normal(4)
    got = F.conv2d(x, w, b, stride, padding, dilation, groups).data
    if padding == "same":
        pads = tuple((t // 2, t - t // 2) for t in (dilation[0] * 2, dilation[1] * 1))
    else:
        p = (padding, padding) if isinstance(padding, int) else padding
        pads = ((p[0], p[0]), (p[1], p[1]))
    np.testing.assert_allclose(got, conv2d_ref(x, w, b, stride, pads, dilation, groups),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups", [
    ((1, 1), (0, 0), (0, 0), (1, 1), 1), ((2, 3), (1, 0), (1, 2), (1, 2), 2),
    ((2, 2), (1, 1), (0, 1), (2, 1), 1)])
def test_conv_transpose2d_values_match_the_scatter_definition(stride, padding, output_padding,
                                                             dilation, groups):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 3, 4))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(3 * groups)
    got = F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation).data
    want = conv_transpose2d_ref(x, w, b, stride, padding, output_padding, dilation, groups)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for every x, y."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    y = F.conv2d(x, w, stride=2, padding=1).data
    v = rng.standard_normal(y.shape)
    back = F.conv_transpose2d(v, w, stride=2, padding=1).data
    assert back.shape == x.shape
    np.testing.assert_allclose((y * v).sum(), (x * back).sum(), rtol=1e-12)


@pytest.mark.parametrize("k,s,p", [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 2), (1, 1)),
                                   ((3, 2), (2, 1), (1, 0))])
def test_pooling_values_match_the_loop_definition(k, s, p):
    x = np.random.default_rng(6).standard_normal((2, 3, 6, 5))
    np.testing.assert_array_equal(F.max_pool2d(x, k, s, p).data, max_pool2d_ref(x, k, s, p))
    np.testing.assert_allclose(F.avg_pool2d(x, k, s, p).data, avg_pool2d_ref(x, k, s, p),
                               rtol=1e-13)


def test_embedding_padding_row_gets_no_gradient_but_is_looked_up():
    w = ag.Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = F.embedding(np.array([2, 0, 2, 1]), w, padding_idx=-2)  # row 2
    np.testing.assert_array_equal(out.data, w.data[[2, 0, 2, 1]])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_max_pool_ties_share_the_gradient_equally():
    x = ag.Tensor(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0, 0.5], [0.5, 0]]]])


def test_lstm_step_matches_the_written_out_equations():
    rng = np.random.default_rng(7)
    cell = nn.LSTMCell(3, 4, rng=0)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    h2, c2 = cell(x, (ag.Tensor(h), ag.Tensor(c)))
    p = {k: v.data for k, v in cell.named_parameters()}
    want_h, want_c = lstm_step_ref(x, h, c, p["weight_ih"], p["weight_hh"], p["bias_ih"],
                                   p["bias_hh"])
    np.testing.assert_allclose(h2.data, want_h, rtol=1e-13)
    np.testing.assert_allclose(c2.data, want_c, rtol=1e-13)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_one_recurrent_step_gradcheck_and_gradgradcheck(kind):
    rng = np.random.default_rng(8)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    xw = ag.Tensor(rng.standard_normal((2, 3 * gates)), requires_grad=True)
    h = ag.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    c = ag.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = ag.Tensor(rng.standard_normal((3, 3 * gates)) * 0.5, requires_grad=True)
    b = ag.Tensor(rng.standard_normal(3 * gates), requires_grad=True)

    def step(xw, h, w, b, *c):  # c (the cell state) only for the LSTM
        h2, c2 = cell_step(kind, xw, h, c[0] if c else None, w, b)
        return h2 if c2 is None else h2 + 2 * c2

    inputs = [xw, h, w, b] + ([c] if kind == "lstm" else [])
    ag.gradcheck(step, inputs, seed=0)
    ag.gradgradcheck(step, inputs, seed=0)


def test_plain_backward_through_the_layers_records_nothing(monkeypatch):
    original = ag.Function.__dict__["apply"].__func__
    calls = []

    def counting(cls, *args, **kwargs):
        calls.append(cls.name)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(ag.Function, "apply", classmethod(counting))
    rng = np.random.default_rng(9)
    for _, fn, shapes, gen in CASES:
        ts = [ag.Tensor(x, requires_grad=True) for x in _operands(rng, shapes, gen)]
        out = fn(*ts).sum()
        calls.clear()
        out.backward()
        assert calls == [], calls
