"""autograd_nn.datasets: the reference tables, the bundled Iris and digits, the generators."""

from importlib import resources

import numpy as np
import pytest

from autograd_nn import datasets


def test_reference_tables_match_the_specification():
    X, y = datasets.truth_table_r1()
    np.testing.assert_array_equal(X, [[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]])
    np.testing.assert_array_equal(y, [[0], [1], [1], [0]])
    np.testing.assert_array_equal(y[:, 0], X[:, 0])  # as specified: not XOR (see docstring)
    X, y = datasets.truth_table_r2()
    np.testing.assert_array_equal(X, [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    np.testing.assert_array_equal(y, [[0], [1], [1], [0]])
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(X[:, 0], X[:, 1]))
    X, y = datasets.study_sleep_scores()
    np.testing.assert_array_equal(X, [[2, 9], [1, 5], [3, 6]])
    np.testing.assert_array_equal(y, [[92], [86], [89]])
    X, y, names = datasets.people_weight_height()
    np.testing.assert_array_equal(X, [[-2, -1], [25, 6], [17, 4], [-15, -6]])
    np.testing.assert_array_equal(y, [1, 0, 0, 1])
    assert names == ("Alice", "Bob", "Charlie", "Diana")
    new, new_names = datasets.people_new()
    np.testing.assert_array_equal(new, [[-7, -3], [20, 2]])
    assert new_names == ("Emily", "Frank")
    for arr in (X, y, new):
        assert arr.dtype == np.float64
    X[0, 0] = 99  # fresh arrays on every call
    assert datasets.people_weight_height()[0][0, 0] == -2


def test_person_features_convert_metric_units():
    # 135 lb and 66 in are the zero point: 61.2349... kg and 167.64 cm
    np.testing.assert_allclose(datasets.person_features(135 * 0.45359237, 66 * 2.54), [0, 0],
                               atol=1e-12)
    np.testing.assert_allclose(datasets.person_features(70.0, 180.0),
                               [70 / 0.45359237 - 135, 180 / 2.54 - 66], rtol=1e-14)


def test_iris():
    X, y, names = datasets.load_iris(return_names=True)
    assert X.shape == (150, 4) and X.dtype == np.float64
    assert y.shape == (150,) and y.dtype == np.int64
    assert names == ("setosa", "versicolor", "virginica")
    assert np.bincount(y).tolist() == [50, 50, 50]
    np.testing.assert_array_equal(X[0], [5.1, 3.5, 1.4, 0.2])
    assert X.min() > 0 and X.max() < 8
    # well-known facts: setosa has the shortest petals
    assert X[y == 0, 2].max() < X[y != 0, 2].min()
    X2, _ = datasets.load_iris()
    X2[0, 0] = -1
    assert datasets.load_iris()[0][0, 0] == 5.1
    assert len(datasets.IRIS_FEATURES) == 4


def test_digits():
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    assert sorted(set(y.tolist())) == list(range(10))
    assert np.all(np.bincount(y) > 170)
    images, y2 = datasets.load_digits(as_images=True)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y, y2)


def test_data_files_are_inside_the_package():
    root = resources.files("autograd_nn.datasets")
    assert root.joinpath("iris.csv").is_file()
    assert root.joinpath("digits.csv.gz").read_bytes()[:2] == b"\x1f\x8b"  # gzip


def test_make_moons():
    X, y = datasets.make_moons(101, noise=0.0, rng=0)
    assert X.shape == (101, 2) and y.shape == (101,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [51, 50]
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-12)
    assert np.all(upper[:, 1] >= -1e-12) and np.all(lower[:, 1] <= 0.5 + 1e-12)
    a = datasets.make_moons(50, noise=0.1, rng=7)
    b = datasets.make_moons(50, noise=0.1, rng=7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], datasets.make_moons(50, noise=0.1, rng=8)[0])
    ordered = datasets.make_moons(10, shuffle=False)[1]
    assert ordered.tolist() == [0] * 5 + [1] * 5


def test_make_spirals():
    X, y = datasets.make_spirals(100, classes=3, noise=0.0, rng=0)
    assert X.shape == (100, 2) and np.bincount(y).tolist() == [34, 33, 33]
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() == pytest.approx(1.0) and r.min() == pytest.approx(0.0)
    # without noise, arm k's point at radius r has angle 4 (k + r)
    for k in range(3):
        arm = X[y == k]
        rr = np.hypot(arm[:, 0], arm[:, 1])
        angle = 4 * (k + rr)
        np.testing.assert_allclose(arm, np.stack([rr * np.sin(angle), rr * np.cos(angle)], 1),
                                   atol=1e-12)
    a = datasets.make_spirals(60, classes=4, noise=0.3, rng=1)
    b = datasets.make_spirals(60, classes=4, noise=0.3, rng=1)
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("call, pattern", [
    (lambda: datasets.make_moons(1), "n_samples"),
    (lambda: datasets.make_moons(10, noise=-1), "noise"),
    (lambda: datasets.make_moons(10.5), "n_samples"),
    (lambda: datasets.make_spirals(10, classes=0), "classes"),
    (lambda: datasets.make_spirals(2, classes=3), "cannot make 3 arms"),
    (lambda: datasets.make_spirals(10, noise=float("nan")), "noise"),
])
def test_generator_argument_errors(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
