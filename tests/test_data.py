"""autograd_nn.data: batches, splits (seeded, stratified), standardisation, one-hot."""

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.data import BatchIterator, Standardizer, one_hot, standardize, train_test_split

X = np.arange(50, dtype=np.float64).reshape(25, 2)
Y = np.arange(25)


# ---- batches ----------------------------------------------------------------------------------
def test_batches_in_order_cover_everything():
    it = BatchIterator(X, Y, batch_size=10)
    batches = list(it)
    assert len(it) == 3 and [len(b[1]) for b in batches] == [10, 10, 5]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), Y)
    dropped = BatchIterator(X, Y, batch_size=10, drop_last=True)
    assert len(dropped) == 2 and [len(b[1]) for b in dropped] == [10, 10]


def test_shuffle_is_seeded_and_changes_every_epoch():
    a = BatchIterator(X, Y, batch_size=7, shuffle=True, rng=3)
    b = BatchIterator(X, Y, batch_size=7, shuffle=True, rng=np.random.default_rng(3))
    epochs_a = [np.concatenate([yb for _, yb in a]) for _ in range(3)]
    epochs_b = [np.concatenate([yb for _, yb in b]) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
        assert sorted(ea) == list(range(25))  # a permutation: every sample exactly once
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    assert not np.array_equal(epochs_a[0], np.arange(25))
    for xb, yb in BatchIterator(X, Y, batch_size=4, shuffle=True, rng=0):
        np.testing.assert_array_equal(xb, X[yb])  # rows stay paired


def test_single_array_and_tensor_inputs():
    only = list(BatchIterator(X, batch_size=10))
    assert isinstance(only[0], np.ndarray) and only[0].shape == (10, 2)
    t = ag.Tensor(X, requires_grad=True)
    xb, yb = next(iter(BatchIterator(t, Y, batch_size=5)))
    assert isinstance(xb, ag.Tensor) and not xb.requires_grad and isinstance(yb, np.ndarray)
    np.testing.assert_array_equal(xb.data, X[:5])
    xb.data[0, 0] = -1  # batches are copies
    assert X[0, 0] == 0 and t.data[0, 0] == 0
    lists = list(BatchIterator([[1, 2], [3, 4], [5, 6]], [0, 1, 0], batch_size=2))
    np.testing.assert_array_equal(lists[1][0], [[5, 6]])


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8", None])
def test_batch_size_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        BatchIterator(X, Y, batch_size=bad)


def test_batch_iterator_input_errors():
    with pytest.raises(ValueError, match="different numbers of samples"):
        BatchIterator(X, Y[:-1])
    with pytest.raises(ValueError, match="at least one array"):
        BatchIterator()
    with pytest.raises(ValueError, match="0-d"):
        BatchIterator(np.float64(3.0))


# ---- train_test_split -------------------------------------------------------------------------
def test_split_sizes_disjoint_and_seeded():
    Xtr, Xte, ytr, yte = train_test_split(X, Y, test_size=0.2, rng=0)
    assert len(yte) == 5 and len(ytr) == 20
    assert sorted(np.concatenate([ytr, yte])) == list(range(25))
    np.testing.assert_array_equal(Xtr, X[ytr])
    np.testing.assert_array_equal(Xte, X[yte])
    again = train_test_split(X, Y, test_size=0.2, rng=0)
    for a, b in zip((Xtr, Xte, ytr, yte), again):
        np.testing.assert_array_equal(a, b)
    other = train_test_split(X, Y, test_size=0.2, rng=1)
    assert not np.array_equal(other[3], yte)
    assert len(train_test_split(Y, test_size=0.21, rng=0)[1]) == 6  # ceil(0.21 * 25)
    assert len(train_test_split(Y, test_size=7, rng=0)[1]) == 7


def test_split_without_shuffle_takes_the_last_samples():
    tr, te = train_test_split(Y, test_size=5, shuffle=False)
    np.testing.assert_array_equal(tr, np.arange(20))
    np.testing.assert_array_equal(te, np.arange(20, 25))


def test_split_keeps_tensors_as_tensors():
    tr, te = train_test_split(ag.Tensor(X), test_size=5, rng=0)
    assert isinstance(tr, ag.Tensor) and tr.shape == (20, 2) and te.shape == (5, 2)


def test_stratified_split_keeps_class_proportions():
    labels = np.repeat([0, 1, 2], 50)
    Xs = np.arange(150)
    Xtr, Xte, ytr, yte = train_test_split(Xs, labels, test_size=0.2, rng=0, stratify=labels)
    assert np.bincount(yte).tolist() == [10, 10, 10]
    assert np.bincount(ytr).tolist() == [40, 40, 40]
    np.testing.assert_array_equal(labels[Xte], yte)
    assert len(set(Xtr) | set(Xte)) == 150
    # uneven classes: 60/30/10 with 20 test samples -> 12/6/2
    uneven = np.repeat([0, 1, 2], [60, 30, 10])
    _, te = train_test_split(uneven, test_size=20, rng=5, stratify=uneven)
    assert np.bincount(te).tolist() == [12, 6, 2]
    # proportions that do not divide evenly still sum to the test size, each class present
    odd = np.repeat(["a", "b", "c"], [7, 7, 6])
    _, te = train_test_split(odd, test_size=0.3, rng=2, stratify=odd)
    counts = {c: int(np.sum(te == c)) for c in "abc"}
    assert sum(counts.values()) == 6 and all(1 <= v <= 3 for v in counts.values())
    a = train_test_split(odd, test_size=0.3, rng=2, stratify=odd)
    np.testing.assert_array_equal(a[1], te)


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(test_size=0.0), ValueError, "in \\(0, 1\\)"),
    (dict(test_size=1.0), ValueError, "in \\(0, 1\\)"),
    (dict(test_size=25), ValueError, "both must be at least 1"),
    (dict(test_size=0), ValueError, "both must be at least 1"),
    (dict(test_size="half"), TypeError, "fraction or a count"),
    (dict(stratify=np.array([0] * 24 + [1])), ValueError, "at least 2 samples of every class"),
    (dict(stratify=np.array([0, 1] * 12 + [0]), shuffle=False), ValueError, "needs shuffle"),
    (dict(stratify=np.zeros(3)), ValueError, "3 labels for 25 samples"),
])
def test_split_errors(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        train_test_split(X, Y, **kwargs)


# ---- standardisation --------------------------------------------------------------------------
def test_standardizer_fits_on_train_and_applies_to_test():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, size=(100, 3))
    train[:, 2] = 7.0  # constant feature
    test = rng.normal(5.0, 3.0, size=(10, 3))
    s = Standardizer()
    z = s.fit_transform(train)
    np.testing.assert_allclose(z[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z[:, :2].std(axis=0), 1, rtol=1e-12)
    assert np.all(z[:, 2] == 0)
    mean, std = train.mean(axis=0), train.std(axis=0)
    np.testing.assert_allclose(s.transform(test)[:, :2], (test - mean)[:, :2] / std[:2],
                               rtol=1e-14)
    np.testing.assert_allclose(s.inverse_transform(s.transform(test)), test, rtol=1e-14)
    zt, m2, s2 = standardize(test, mean=s.mean, std=s.std)
    np.testing.assert_array_equal(zt, s.transform(test))
    z2, m3, _ = standardize(train)
    np.testing.assert_array_equal(z2, z)
    np.testing.assert_array_equal(m3, mean)
    assert isinstance(s.transform(ag.Tensor(test)), ag.Tensor)


def test_standardizer_errors():
    with pytest.raises(RuntimeError, match="fit\\(\\) first"):
        Standardizer().transform(X)
    s = Standardizer().fit(X)
    with pytest.raises(ValueError, match="feature shape \\(3,\\)"):
        s.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="both mean and std"):
        standardize(X, mean=np.zeros(2))


# ---- one_hot ----------------------------------------------------------------------------------
def test_one_hot():
    out = one_hot([2, 0, 1, 2])
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert out.dtype == np.float64
    assert one_hot(np.array([1, 0]), num_classes=4).shape == (2, 4)
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0])), [[0, 1], [1, 0]])
    assert one_hot(np.array([[0, 1], [1, 1]])).shape == (2, 2, 2)
    t = one_hot(ag.Tensor(np.array([0, 1])), dtype=np.float32)
    assert isinstance(t, ag.Tensor) and t.dtype == np.float32
    with pytest.raises(ValueError, match="label 3 is out of range for 3 classes"):
        one_hot([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="label -1 is out of range"):
        one_hot([0, -1], num_classes=3)
    with pytest.raises(ValueError, match="whole"):
        one_hot([0.5])
    with pytest.raises(TypeError, match="integers"):
        one_hot(["a"])
    with pytest.raises(ValueError, match="num_classes"):
        one_hot([0], num_classes=0)
