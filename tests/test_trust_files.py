"""Saved model files never silently wrong (issue 10): `nn.load` checks names, shapes and
declared sizes (the .npy headers inside the zip) before reading data, with memory bounded by
the model; any key survives a round trip (numpy's own parameter names, keys ending in .npy);
a parameter under a dotted name is refused; overwriting keeps the file's permissions."""

import io
import os
import stat
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

from autograd_nn import nn


def make_model(seed=0):
    return nn.Sequential(nn.Linear(3, 4, rng=seed), nn.Tanh(), nn.Linear(4, 2, rng=seed + 1))


def npy_bytes(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    """An archive of (member name, raw bytes), written with the zipfile module only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(path, "w", compression) as zf:
            for name, raw in members:
                zf.writestr(name, raw)
    return path


def model_members(model):
    return [(k + ".npy", npy_bytes(v)) for k, v in model.state_dict().items()]


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model, snap):
    now = model.state_dict()
    assert now.keys() == snap.keys()
    for k in snap:
        assert now[k].tobytes() == snap[k].tobytes(), k


def peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# ---- headers first, memory bounded ---------------------------------------------------------
BIG = 40 * 2**20  # a 40 MiB member; zeros compress to ~40 KiB on disk


@pytest.fixture
def with_big_extra(tmp_path):
    big = npy_bytes(np.zeros(BIG // 8))
    return write_zip(tmp_path / "big.npz", model_members(make_model(1)) + [("huge.npy", big)],
                     zipfile.ZIP_DEFLATED)


def test_an_unexpected_big_member_is_refused_before_its_data_is_read(with_big_extra):
    model = make_model(7)
    snap = snapshot(model)

    def attempt():
        with pytest.raises(nn.SerializationError, match="unexpected key 'huge'"):
            nn.load(with_big_extra, model)

    assert peak_bytes(attempt) < BIG // 8
    assert_unchanged(model, snap)


def test_a_non_strict_load_reads_only_what_the_model_needs(with_big_extra):
    model = make_model(7)
    out = {}
    assert peak_bytes(lambda: out.update(nn.load(with_big_extra, model, strict=False))) \
        < BIG // 8
    assert set(out) == set(model.state_dict())
    for k, v in make_model(1).state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[k], v)


def test_a_wrong_shape_is_refused_from_the_header_before_reading(tmp_path):
    members = dict(model_members(make_model(1)))
    members["0.weight.npy"] = npy_bytes(np.zeros((BIG // 8 // 4, 4)))  # model wants (3, 4)
    path = write_zip(tmp_path / "shape.npz", members.items(), zipfile.ZIP_DEFLATED)
    model = make_model(7)

    def attempt():
        with pytest.raises(nn.SerializationError,
                           match=r"'0.weight': shape \(1310720, 4\) does not match"):
            nn.load(path, model)

    assert peak_bytes(attempt) < BIG // 8


def npy_header(shape):
    """The .npy magic and header of a float64 array of ``shape``, without its data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("declared, data", [
    ((10**9,), np.zeros(3)),      # 8 GB claimed, 24 bytes held
    ((2,), np.arange(4.0)),       # extra bytes hidden after the declared array
    ((4,), np.zeros(3)),          # truncated
])
def test_a_header_that_disagrees_with_the_member_size_is_refused(tmp_path, declared, data):
    path = write_zip(tmp_path / "lie.npz", [("w.npy", npy_header(declared) + data.tobytes())])
    match = rf"entry 'w' declares shape \({declared[0]},\) float64 \({declared[0] * 8} bytes"
    with pytest.raises(nn.SerializationError, match=match):
        nn.load(path)


def test_duplicate_members_are_refused_not_one_picked(tmp_path):
    members = model_members(make_model(1))
    members.append(("0.bias.npy", npy_bytes(np.full(4, 99.0))))
    path = write_zip(tmp_path / "dup.npz", members)
    model = make_model(7)
    snap = snapshot(model)
    with pytest.raises(nn.SerializationError, match="entry '0.bias' appears twice"):
        nn.load(path, model, strict=False)
    assert_unchanged(model, snap)


def test_a_member_that_is_not_an_npy_array_is_refused(tmp_path):
    path = write_zip(tmp_path / "extra.npz",
                     model_members(make_model(1)) + [("notes.txt", b"hello")])
    with pytest.raises(nn.SerializationError, match="member 'notes.txt' is not a .npy array"):
        nn.load(path, make_model(7), strict=False)


# ---- every key survives a round trip -----------------------------------------------------
@pytest.mark.parametrize("keys", [["file", "w"], ["allow_pickle", "w"], ["a", "a.npy"],
                                  ["a.npy", "a.npy.npy", "a"], ["file", "allow_pickle",
                                                                "kwds", "args"]])
def test_any_keys_round_trip_exactly(tmp_path, keys):
    rng = np.random.default_rng(0)
    sd = {k: rng.normal(size=i + 1) for i, k in enumerate(keys)}
    path = tmp_path / "keys.npz"
    nn.save(sd, path)
    back = nn.load(path)
    assert list(back) == keys
    for k in keys:
        np.testing.assert_array_equal(back[k], sd[k])
    with np.load(path, allow_pickle=False) as z:  # still an ordinary .npz for numpy
        assert sorted(z.files) == sorted(keys)


class Odd(nn.Module):
    """A model whose parameter names are np.savez's own parameter names."""

    def __init__(self, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.file = nn.Parameter(rng.normal(size=2))
        self.allow_pickle = nn.Parameter(rng.normal(size=3))


def test_a_model_with_parameters_named_like_savez_arguments_round_trips(tmp_path):
    path = tmp_path / "odd.npz"
    nn.save(Odd(1), path)
    target = Odd(2)
    nn.load(path, target)
    for k, v in Odd(1).state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[k], v)


# ---- dotted names --------------------------------------------------------------------------
@pytest.mark.parametrize("value", [lambda: nn.Parameter(np.zeros((4, 3))),
                                   lambda: nn.Linear(1, 1)])
def test_a_dotted_attribute_name_is_refused(value):
    m = make_model(0)
    snap = snapshot(m)
    with pytest.raises(ValueError, match="invalid name '0.weight'"):
        setattr(m, "0.weight", value())
    assert_unchanged(m, snap)


# ---- permissions ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_overwriting_keeps_the_permissions(tmp_path, mode):
    path = tmp_path / "model.npz"
    nn.save(make_model(0), path)
    os.chmod(path, mode)
    nn.save(make_model(1), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    np.testing.assert_array_equal(nn.load(path)["0.bias"], make_model(1).state_dict()["0.bias"])


def test_a_new_file_gets_the_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        path = tmp_path / "new.npz"
        nn.save(make_model(0), path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
