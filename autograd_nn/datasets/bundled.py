"""The Iris and digits data sets, shipped inside the package (no network needed).

Iris: R. A. Fisher (1936), UCI Machine Learning Repository. Digits: E. Alpaydin and
C. Kaynak, Optical Recognition of Handwritten Digits, UCI Machine Learning Repository (test
set: 1797 8x8 images, pixel values 0..16).
"""

from __future__ import annotations

import functools
import gzip
import io
from importlib import resources

import numpy as np

IRIS_FEATURES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                 "petal width (cm)")


def _open_text(name: str) -> str:
    data = resources.files(__package__).joinpath(name).read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("ascii")


@functools.cache
def _iris() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    text = _open_text("iris.csv")
    header, body = text.split("\n", 1)
    n_rows, n_features, *names = header.strip().split(",")
    table = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
    if table.shape != (int(n_rows), int(n_features) + 1):
        raise RuntimeError(f"the bundled iris.csv is damaged: table of shape {table.shape}")
    return table[:, :-1], table[:, -1].astype(np.int64), tuple(names)


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(io.StringIO(_open_text("digits.csv.gz")), delimiter=",", ndmin=2)
    if table.shape != (1797, 65):
        raise RuntimeError(f"the bundled digits.csv.gz is damaged: table of shape {table.shape}")
    return table[:, :-1], table[:, -1].astype(np.int64)


def load_iris(return_names: bool = False) -> tuple:
    """Fisher's Iris flowers: ``X`` (150, 4) float64 measurements in cm (see
    `IRIS_FEATURES`), ``y`` (150,) int64 classes 0, 1, 2; with ``return_names`` also the
    class names ``("setosa", "versicolor", "virginica")``. Fresh copies on every call."""
    X, y, names = _iris()
    return (X.copy(), y.copy(), names) if return_names else (X.copy(), y.copy())


def load_digits(as_images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Hand-written digits: ``X`` (1797, 64) float64 pixel values 0..16 (row-major 8x8
    images; shape (1797, 8, 8) with ``as_images``), ``y`` (1797,) int64 digits 0..9."""
    X, y = _digits()
    X = X.reshape(-1, 8, 8) if as_images else X
    return X.copy(), y.copy()
