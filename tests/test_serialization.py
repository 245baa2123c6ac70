"""Parameters saved to .npz and loaded back; damaged and mismatched files give one clear error
and leave the model exactly as it was."""

import os
import zipfile

import numpy as np
import pytest

from autograd_nn import nn


def make_model(seed=0):
    return nn.Sequential(nn.Linear(3, 4, rng=seed), nn.Tanh(), nn.Linear(4, 2, rng=seed + 1))


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}, \
        [p.version for p in model.parameters()]


def assert_unchanged(model, snap):
    arrays, versions = snap
    now = model.state_dict()
    assert set(now) == set(arrays)
    for k in arrays:
        assert now[k].tobytes() == arrays[k].tobytes(), k
    assert [p.version for p in model.parameters()] == versions


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(make_model(0), path)
    return path


def test_round_trip_is_exact(tmp_path, saved):
    source, target = make_model(0), make_model(5)
    returned = nn.load(saved, target)
    for k, v in source.state_dict().items():
        assert target.state_dict()[k].tobytes() == v.tobytes()
        np.testing.assert_array_equal(returned[k], v)
    x = np.random.default_rng(0).normal(size=(3, 3))
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_exact_path_and_state_dict_input(tmp_path):
    path = tmp_path / "weights.params"  # no .npz appended
    assert nn.save(make_model().state_dict(), path) == str(path)
    assert os.listdir(tmp_path) == ["weights.params"]  # no temporary file left behind
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["0.bias.npy", "0.weight.npy", "2.bias.npy",
                                        "2.weight.npy"]
    arrays = nn.load(path)
    assert set(arrays) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    with pytest.raises(TypeError, match="only numeric arrays"):
        nn.save({"w": np.array(["text"])}, tmp_path / "bad.npz")
    with pytest.raises(TypeError, match="Module or a mapping"):
        nn.save([np.zeros(2)], tmp_path / "bad.npz")


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


@pytest.mark.parametrize("damage, pattern", [
    (lambda raw: raw[: len(raw) // 2], "truncated or corrupted"),
    (lambda raw: raw[:-30], "truncated or corrupted"),
    (lambda raw: b"", "the file is empty"),
    (lambda raw: np.random.default_rng(0).bytes(2000), "not an .npz archive"),
    (lambda raw: b"hello, this is text\n", "not an .npz archive"),
    (lambda raw: b"PK" + np.random.default_rng(1).bytes(500), "not an .npz archive"),
    (lambda raw: raw[:4] + np.random.default_rng(1).bytes(500), "truncated or corrupted"),
    (lambda raw: raw[:200] + bytes([raw[200] ^ 0xFF]) + raw[201:], "corrupted"),
])
def test_damaged_files_raise_one_error_and_change_nothing(tmp_path, saved, damage, pattern):
    raw = saved.read_bytes()
    bad = write_bytes(tmp_path / "damaged.npz", damage(raw))
    model = make_model(9)
    snap = snapshot(model)
    with pytest.raises(nn.SerializationError, match=pattern) as info:
        nn.load(bad, model)
    assert "damaged.npz" in str(info.value)
    assert_unchanged(model, snap)


def test_pickle_inside_the_archive_is_refused(tmp_path):
    model = make_model(3)
    path = tmp_path / "pickled.npz"
    sd = model.state_dict()
    np.savez(path, **{**sd, "0.weight": np.array([{"evil": 1}], dtype=object)})
    snap = snapshot(model)
    with pytest.raises(nn.SerializationError, match="'0.weight' holds Python objects"):
        nn.load(path, model)
    assert_unchanged(model, snap)


def test_single_npy_file_is_refused(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(nn.SerializationError, match="single .npy array"):
        nn.load(path, make_model())


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no-such-file.npz"):
        nn.load("no-such-file.npz", make_model())


@pytest.mark.parametrize("edit, pattern", [
    (lambda sd: sd.pop("2.bias"), "missing key '2.bias'"),
    (lambda sd: sd.update(extra=np.zeros(3)), "unexpected key 'extra'"),
    (lambda sd: sd.update({"0.weight": np.zeros((4, 3))}),
     "'0.weight': shape \\(4, 3\\) does not match"),
    (lambda sd: sd.update({"0.bias": np.zeros(4, dtype=np.int32)}), "'0.bias': dtype int32"),
    (lambda sd: sd.update({"2.weight": np.zeros((4, 2), dtype=bool)}), "'2.weight': dtype bool"),
])
def test_mismatched_entries_name_the_parameter_and_change_nothing(tmp_path, edit, pattern):
    sd = make_model(1).state_dict()  # valid values for every other entry
    edit(sd)
    path = tmp_path / "mismatch.npz"
    np.savez(path, **sd)
    model = make_model(7)
    snap = snapshot(model)
    with pytest.raises(nn.SerializationError, match=pattern) as info:
        nn.load(path, model)
    assert "Nothing was loaded" in str(info.value) and "mismatch.npz" in str(info.value)
    assert_unchanged(model, snap)


def test_non_strict_load_and_float32_entries(tmp_path):
    sd = make_model(1).state_dict()
    sd.pop("2.bias")
    sd["0.weight"] = sd["0.weight"].astype(np.float32)
    path = tmp_path / "partial.npz"
    np.savez(path, **sd, unused=np.ones(2))
    model = make_model(7)
    before_bias = model[2].bias.data.copy()
    nn.load(path, model, strict=False)
    np.testing.assert_array_equal(model[0].weight.data, sd["0.weight"].astype(np.float64))
    assert model[0].weight.dtype == np.float64
    np.testing.assert_array_equal(model[2].bias.data, before_bias)
    with pytest.raises(nn.SerializationError, match="missing key '2.bias'"):
        nn.load(path, model)
