"""Layer modules: buffers (registration, state_dict, .npz files without pickle), train/eval,
shapes and reprs, and bad arguments rejected with messages that name the op and change
nothing."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.nn.functional as F
from autograd_nn import nn


def small_cnn(seed=0):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=seed), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.5, rng=seed), nn.Flatten(), nn.Linear(16, 3, rng=seed),
    )


# ---- buffers ----------------------------------------------------------------------------------
def test_register_buffer_and_lookup():
    m = nn.Module()
    m.register_buffer("count", np.zeros((), dtype=np.int64))
    m.register_buffer("scratch", np.ones(2), persistent=False)
    assert isinstance(m.count, ag.Tensor) and not m.count.requires_grad
    assert [n for n, _ in m.named_buffers()] == ["count", "scratch"]
    assert list(m.state_dict()) == ["count"]  # non-persistent buffers are not saved
    m.count = np.array(5)  # assigning keeps the buffer slot
    assert int(m.count.item()) == 5 and list(m.parameters()) == []
    assert "count" in dir(m)
    del m.count
    assert [n for n, _ in m.named_buffers()] == ["scratch"]


def test_buffer_cannot_hold_a_parameter_or_a_graph():
    m = nn.Module()
    with pytest.raises(TypeError, match="buffer 'w' cannot hold a Parameter"):
        m.register_buffer("w", nn.Parameter(np.ones(2)))
    with pytest.raises(TypeError, match="must not require grad"):
        m.register_buffer("w", ag.Tensor(np.ones(2), requires_grad=True))
    with pytest.raises(TypeError, match="must be numeric"):
        m.register_buffer("w", np.array(["a"]))


def test_state_dict_holds_parameters_then_buffers_module_by_module():
    keys = list(small_cnn().state_dict())
    assert keys == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                    "1.running_var", "1.num_batches_tracked", "6.weight", "6.bias"]
    assert small_cnn().state_dict()["1.num_batches_tracked"].dtype == np.int64


def test_save_and_load_round_trip_buffers_without_pickle(tmp_path):
    model = small_cnn()
    x = np.random.default_rng(0).standard_normal((8, 1, 4, 4))
    for _ in range(3):
        model(x)  # training: running statistics move
    path = nn.save(model, tmp_path / "cnn.npz")
    with zipfile.ZipFile(path) as z:
        assert "1.running_var.npy" in z.namelist()
    fresh = small_cnn(seed=1)
    nn.load(path, fresh)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k], v)
    assert int(fresh[1].num_batches_tracked.item()) == 3
    model.eval()
    fresh.eval()
    np.testing.assert_array_equal(model(x).data, fresh(x).data)


def test_loading_a_float_into_the_integer_buffer_is_refused_and_changes_nothing():
    model = small_cnn()
    sd = model.state_dict()
    before = {k: v.copy() for k, v in sd.items()}
    sd = {k: v + 1 for k, v in sd.items()}
    sd["1.num_batches_tracked"] = np.array(2.5)
    with pytest.raises(nn.StateDictError, match="'1.num_batches_tracked'.*not integer"):
        model.load_state_dict(sd)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


# ---- train / eval -----------------------------------------------------------------------------
def test_train_and_eval_switch_batch_norm_and_dropout():
    model = small_cnn()
    x = np.random.default_rng(1).standard_normal((6, 1, 4, 4))
    bn = model[1]
    model(x)
    stats = bn.running_mean.data.copy()
    assert not np.allclose(stats, 0)
    model.eval()
    a, b = model(x).data, model(x).data
    np.testing.assert_array_equal(a, b)  # no dropout, no batch statistics
    np.testing.assert_array_equal(bn.running_mean.data, stats)  # eval does not update
    model.train()
    c = model(x).data
    assert not np.array_equal(a, c)
    assert int(bn.num_batches_tracked.item()) == 2


def test_batch_norm_eval_uses_running_statistics():
    bn = nn.BatchNorm1d(2).eval()
    bn.running_mean = np.array([1.0, -1.0])
    bn.running_var = np.array([4.0, 0.25])
    out = bn(np.array([[3.0, 0.0]])).data
    np.testing.assert_allclose(out, [[2 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]])


def test_batch_norm_without_running_stats_always_uses_the_batch():
    bn = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert bn.running_mean is None and list(bn.state_dict()) == ["weight", "bias"]
    out = bn(np.random.default_rng(2).standard_normal((5, 3))).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)


# ---- shapes and reprs -------------------------------------------------------------------------
def test_cnn_shapes_and_training_step():
    model = small_cnn()
    x = np.random.default_rng(3).standard_normal((5, 1, 4, 4))
    loss = F.cross_entropy(model(x), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    assert model[0].weight.shape == (4, 1, 3, 3)


@pytest.mark.parametrize("module,shape,out", [
    (nn.Conv1d(2, 3, 3, stride=2), (4, 2, 9), (4, 3, 4)),
    (nn.Conv2d(2, 4, (3, 1), padding="same", groups=2), (1, 2, 5, 5), (1, 4, 5, 5)),
    (nn.ConvTranspose2d(3, 2, 2, stride=2), (2, 3, 4, 5), (2, 2, 8, 10)),
    (nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 4), (2, 2, 8)),
    (nn.MaxPool1d(2), (2, 3, 7), (2, 3, 3)),
    (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (1, 2, 6, 6), (1, 2, 4, 4)),
    (nn.AdaptiveAvgPool2d(1), (2, 3, 5, 4), (2, 3, 1, 1)),
    (nn.AdaptiveAvgPool1d(2), (2, 3, 5), (2, 3, 2)),
    (nn.LayerNorm(4), (2, 3, 4), (2, 3, 4)),
    (nn.GroupNorm(2, 4), (2, 4, 3), (2, 4, 3)),
    (nn.Flatten(0, 1), (2, 3, 4), (6, 4)),
    (nn.Unflatten(1, (2, 2)), (3, 4), (3, 2, 2)),
    (nn.Identity(), (2, 2), (2, 2)),
])
def test_module_output_shapes(module, shape, out):
    assert module(np.zeros(shape)).shape == out


def test_embedding_module_padding_row_starts_at_zero():
    emb = nn.Embedding(5, 3, padding_idx=1, rng=0)
    np.testing.assert_array_equal(emb.weight.data[1], 0)
    assert emb(np.array([[1, 4]])).shape == (1, 2, 3)


def test_reprs():
    assert repr(nn.Conv2d(1, 16, 3, padding=1)) == \
        "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.LSTM(3, 4, num_layers=2)) == "LSTM(3, 4, num_layers=2)"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert nn.Conv2d(1, 16, 3, stride=2).box_note() == "kernel 3x3, stride 2"


def test_recurrent_weights_are_in_the_linear_layout():
    lstm = nn.LSTM(3, 5)
    assert lstm.weight_ih_l0.shape == (3, 20) and lstm.weight_hh_l0.shape == (5, 20)
    cell = nn.GRUCell(3, 5)
    assert cell.weight_ih.shape == (3, 15)


# ---- bad arguments ----------------------------------------------------------------------------
X4 = np.zeros((2, 3, 5, 5))


@pytest.mark.parametrize("call,kind,words", [
    (lambda: F.conv2d(X4, np.zeros((4, 2, 3, 3))), ValueError,
     ["conv2d", "(4, 2, 3, 3)", "(2, 3, 5, 5)"]),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), groups=2), ValueError, ["groups=2"]),
    (lambda: F.conv2d(X4[0, 0], np.zeros((1, 1, 3, 3))), ValueError, ["conv2d", "(5, 5)"]),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 7, 3))), ValueError, ["conv2d", "output size"]),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), stride=0), ValueError, ["stride"]),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), stride=2, padding="same"), ValueError,
     ["'same' needs stride 1"]),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3), np.float32)), TypeError, ["float32"]),
    (lambda: F.conv2d(X4.astype(int), np.zeros((4, 3, 3, 3))), TypeError, ["floating"]),
    (lambda: F.conv2d(X4, np.zeros((4, 3, 3, 3)), np.zeros(3)), ValueError, ["bias", "(4,)"]),
    (lambda: F.conv_transpose2d(X4, np.zeros((3, 2, 2, 2)), stride=2, output_padding=2),
     ValueError, ["output_padding"]),
    (lambda: F.max_pool2d(X4, 2, padding=2), ValueError, ["at most half"]),
    (lambda: F.max_pool2d(X4, 2, return_indices=True), NotImplementedError, ["return_indices"]),
    (lambda: F.avg_pool2d(X4, 6), ValueError, ["avg_pool2d", "output size"]),
    (lambda: F.adaptive_avg_pool2d(X4, 0), ValueError, ["output_size"]),
    (lambda: F.pad(X4, (1, 2, 3)), ValueError, ["even number"]),
    (lambda: F.pad(X4, (5, 0), mode="reflect"), ValueError, ["reflect", "size 5"]),
    (lambda: F.pad(X4, (1, 1), mode="wrap"), ValueError, ["unknown mode"]),
    (lambda: F.layer_norm(X4, (4,)), ValueError, ["normalized_shape"]),
    (lambda: F.group_norm(X4, 2), ValueError, ["num_groups=2", "3 channels"]),
    (lambda: F.batch_norm(X4, None, None), ValueError, ["running_mean"]),
    (lambda: F.batch_norm(X4[:1, :, :1, :1], None, None, training=True), ValueError,
     ["more than 1 value"]),
    (lambda: F.embedding(np.array([0, 5]), np.zeros((5, 2))), IndexError, ["[0, 5)"]),
    (lambda: F.embedding(np.array([-1]), np.zeros((5, 2))), IndexError, ["[0, 5)"]),
    (lambda: F.embedding(np.array([0.0]), np.zeros((5, 2))), TypeError, ["integer"]),
    (lambda: F.unfold(X4, 6), ValueError, ["unfold", "output size"]),
    (lambda: F.fold(np.zeros((1, 4, 5)), (3, 3), 2), ValueError, ["fold", "(1, 4, 5)"]),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, ["divisible by groups=2"]),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), ValueError, ["padding_mode"]),
    (lambda: nn.LSTM(3, 4)(np.zeros((5, 2, 4))), ValueError, ["LSTM", "(5, 2, 4)"]),
    (lambda: nn.LSTM(3, 4)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4))), TypeError, ["tuple"]),
    (lambda: nn.GRU(3, 4)(np.zeros((5, 2, 3)), np.zeros((2, 2, 4))), ValueError,
     ["h_0", "(1, 2, 4)"]),
    (lambda: nn.BatchNorm2d(3)(np.zeros((2, 3, 4))), ValueError, ["BatchNorm2d", "4 axes"]),
    (lambda: nn.Unflatten(1, (2, 3))(np.zeros((2, 4))), ValueError, ["Unflatten"]),
])
def test_bad_arguments_are_named(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_a_failed_batch_norm_leaves_the_running_statistics_alone():
    rm, rv = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match="bias must have shape"):
        F.batch_norm(np.random.default_rng(0).standard_normal((4, 3)), rm, rv,
                     bias=np.zeros(2), training=True)
    np.testing.assert_array_equal(rm, 0)
    np.testing.assert_array_equal(rv, 1)
