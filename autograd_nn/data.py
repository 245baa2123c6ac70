"""Data handling: minibatches (`BatchIterator`), `train_test_split` (seeded, optionally
stratified), standardisation (`Standardizer`, `standardize`) and `one_hot`.

Arrays may be numpy arrays or Tensors (lists are turned into numpy arrays); results come
back as the kind that went in. Randomness comes from ``rng``: an int seed or a
``np.random.Generator``; None draws from numpy's global generator (``np.random.seed`` /
``autograd_nn.manual_seed`` make it reproducible; see `autograd_nn.seeding`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeAlias, overload

import numpy as np

from .errors import as_flag
from .seeding import as_generator
from .tensor import Tensor

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from typing_extensions import Self  # typing.Self from Python 3.11

    from .types import DTypeLike, RngLike, TensorLike

#: what comes back: a Tensor where a Tensor went in, else a numpy array
ArrayOrTensor: TypeAlias = "Tensor | np.ndarray"


def _as_array(a: TensorLike, what: str) -> np.ndarray:
    arr = a._data if isinstance(a, Tensor) else np.asarray(a)
    if arr.ndim == 0:
        raise ValueError(f"{what}: a 0-d value has no samples to split; give arrays whose "
                         "first axis indexes samples")
    return arr


def _like(template: object, arr: np.ndarray) -> ArrayOrTensor:
    """``arr`` as the kind of ``template`` (a new leaf Tensor outside any graph, or numpy)."""
    return Tensor._from_op(arr, None) if isinstance(template, Tensor) else arr


def _n_samples(arrays: tuple[TensorLike, ...], what: str) -> int:
    if not arrays:
        raise ValueError(f"{what}: give at least one array")
    lengths = [len(_as_array(a, what)) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"{what}: the arrays have different numbers of samples {lengths}")
    return lengths[0]


class BatchIterator:
    """Minibatches of one or more arrays that share their first axis (samples).

    ``for xb, yb in BatchIterator(X, y, batch_size=32, shuffle=True, rng=0)`` walks through
    the data once per ``for`` loop (one epoch); with ``shuffle`` each epoch uses a new
    permutation drawn from one generator made at construction, so the sequence of epochs is
    reproducible from the seed. With a single array the batches themselves are yielded (not
    1-tuples). ``drop_last`` drops a final batch smaller than ``batch_size``. Arrays with no
    samples, or ``drop_last`` leaving no batch, raise ValueError. Tensor inputs
    give new Tensor batches that do not require grad.
    """

    def __init__(self, *arrays: TensorLike, batch_size: int = 32, shuffle: bool = False,
                 rng: RngLike | None = None, drop_last: bool = False) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError(f"BatchIterator: batch_size must be a positive int, "
                             f"got {batch_size!r}")
        self.shuffle = as_flag("BatchIterator: shuffle", shuffle)
        self.drop_last = as_flag("BatchIterator: drop_last", drop_last)
        self.num_samples = _n_samples(arrays, "BatchIterator")
        if self.num_samples == 0:
            raise ValueError("BatchIterator: the arrays have no samples (their first axis "
                             "has length 0)")
        if drop_last and batch_size > self.num_samples:
            raise ValueError(f"BatchIterator: drop_last with batch_size {batch_size} and "
                             f"{self.num_samples} samples leaves no batch")
        self.arrays = arrays
        self._data = [_as_array(a, "BatchIterator") for a in arrays]
        self.batch_size = int(batch_size)
        self.rng = as_generator(rng)

    def __len__(self) -> int:
        """Batches per epoch."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self) -> Iterator[ArrayOrTensor | tuple[ArrayOrTensor, ...]]:
        n = self.num_samples
        order = self.rng.permutation(n) if self.shuffle else None
        for b in range(len(self)):
            lo, hi = b * self.batch_size, min((b + 1) * self.batch_size, n)
            idx = slice(lo, hi) if order is None else order[lo:hi]
            batch = tuple(_like(a, np.array(d[idx])) for a, d in zip(self.arrays, self._data))
            yield batch[0] if len(batch) == 1 else batch

    def __repr__(self) -> str:
        return (f"BatchIterator(num_samples={self.num_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")


def _n_test(test_size: object, n: int) -> int:
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float, np.integer,
                                                                 np.floating)):
        raise TypeError(f"train_test_split: test_size must be a fraction or a count, "
                        f"got {test_size!r}")
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: a fractional test_size must be in (0, 1), "
                             f"got {test_size}")
        n_test = math.ceil(test_size * n)
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size!r} leaves {n_test} test and "
                         f"{n - n_test} training samples out of {n}; both must be at least 1")
    return n_test


def _stratified_test_indices(labels: np.ndarray, n_test: int,
                             gen: np.random.Generator) -> np.ndarray:
    """Test indices with each class's share as close to its share in ``labels`` as counts
    allow (largest remainders), at least one test and one training sample per class."""
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if np.any(counts < 2):
        raise ValueError(f"train_test_split: stratify needs at least 2 samples of every class; "
                         f"class {classes[np.argmin(counts)]!r} has {counts.min()}")
    if not len(classes) <= n_test <= len(labels) - len(classes):
        raise ValueError(f"train_test_split: with {len(classes)} classes, stratify needs "
                         f"between {len(classes)} and {len(labels) - len(classes)} test "
                         f"samples, got {n_test}")
    exact = n_test * counts / len(labels)
    take = np.clip(np.floor(exact).astype(int), 1, counts - 1)
    remainder = exact - take
    while take.sum() != n_test:
        step = 1 if take.sum() < n_test else -1
        room = (take < counts - 1) if step == 1 else (take > 1)
        score = np.where(room, remainder * step, -np.inf)
        best = np.flatnonzero(score == score.max())
        k = best[gen.integers(len(best))] if len(best) > 1 else best[0]
        take[k] += step
        remainder[k] -= step
    picks = [gen.permutation(np.flatnonzero(inverse == c))[:take[c]]
             for c in range(len(classes))]
    return np.concatenate(picks)


@overload
def train_test_split(*arrays: np.ndarray, test_size: float | int = ..., rng: RngLike | None = ...,
                     shuffle: bool = ..., stratify: TensorLike | None = ...) -> list[np.ndarray]:
    ...
@overload
def train_test_split(*arrays: Tensor, test_size: float | int = ..., rng: RngLike | None = ...,
                     shuffle: bool = ..., stratify: TensorLike | None = ...) -> list[Tensor]:
    ...
@overload
def train_test_split(*arrays: TensorLike, test_size: float | int = ...,
                     rng: RngLike | None = ..., shuffle: bool = ...,
                     stratify: TensorLike | None = ...) -> list[ArrayOrTensor]:
    ...
# (list is invariant: the body's list[Tensor | ndarray] holds one kind when one kind went in)
def train_test_split(*arrays: TensorLike,  # type: ignore[misc]
                     test_size: float | int = 0.25,
                     rng: RngLike | None = None, shuffle: bool = True,
                     stratify: TensorLike | None = None) -> list[ArrayOrTensor]:
    """Split arrays (same first axis) into training and test parts:
    ``X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, rng=0)``.

    ``test_size`` is a fraction (the test count is rounded up, as scikit-learn does) or a
    count. ``stratify=labels`` keeps every class's proportion in both parts. Without
    ``shuffle`` the last samples are the test part (stratify needs shuffle).
    """
    n = _n_samples(arrays, "train_test_split")
    n_test = _n_test(test_size, n)
    gen = as_generator(rng)
    if stratify is not None:
        if not shuffle:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        labels = _as_array(stratify, "train_test_split")
        if len(labels) != n:
            raise ValueError(f"train_test_split: stratify has {len(labels)} labels for "
                             f"{n} samples")
        test_idx = gen.permutation(_stratified_test_indices(labels, n_test, gen))
        mask = np.ones(n, dtype=bool)
        mask[test_idx] = False
        train_idx = gen.permutation(np.flatnonzero(mask))
    elif shuffle:
        order = gen.permutation(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    else:
        train_idx, test_idx = np.arange(n - n_test), np.arange(n - n_test, n)
    out = []
    for a in arrays:
        d = _as_array(a, "train_test_split")
        out += [_like(a, d[train_idx]), _like(a, d[test_idx])]
    return out


class Standardizer:
    """Per-feature standardisation ``(x - mean) / std`` with the statistics of the data it
    was fitted on (fit on the training set, then transform the test set with them).

    Features with zero spread get std 1 (they become 0, not NaN). Statistics are taken over
    axis 0 with ``ddof=0``, as scikit-learn's StandardScaler.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: TensorLike) -> Self:
        arr = _as_array(X, "Standardizer.fit").astype(np.float64)
        if len(arr) == 0:
            raise ValueError("Standardizer.fit: no samples")
        self.mean = arr.mean(axis=0)
        std = arr.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def _fitted(self, what: str) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.std is None:
            raise RuntimeError(f"Standardizer.{what}: call fit() first")
        return self.mean, self.std

    def _check_shape(self, arr: np.ndarray, what: str) -> None:
        if arr.shape[1:] != self.mean.shape:  # type: ignore[union-attr]
            raise ValueError(f"Standardizer.{what}: data with feature shape {arr.shape[1:]}, "
                             f"but it was fitted on {self.mean.shape}")  # type: ignore[union-attr]

    @overload
    def transform(self, X: np.ndarray) -> np.ndarray: ...
    @overload
    def transform(self, X: Tensor) -> Tensor: ...
    @overload
    def transform(self, X: TensorLike) -> ArrayOrTensor: ...
    def transform(self, X: TensorLike) -> ArrayOrTensor:
        mean, std = self._fitted("transform")
        arr = _as_array(X, "Standardizer.transform")
        self._check_shape(arr, "transform")
        return _like(X, (arr - mean) / std)

    @overload
    def fit_transform(self, X: np.ndarray) -> np.ndarray: ...
    @overload
    def fit_transform(self, X: Tensor) -> Tensor: ...
    @overload
    def fit_transform(self, X: TensorLike) -> ArrayOrTensor: ...
    def fit_transform(self, X: TensorLike) -> ArrayOrTensor:
        return self.fit(X).transform(X)

    @overload
    def inverse_transform(self, Z: np.ndarray) -> np.ndarray: ...
    @overload
    def inverse_transform(self, Z: Tensor) -> Tensor: ...
    @overload
    def inverse_transform(self, Z: TensorLike) -> ArrayOrTensor: ...
    def inverse_transform(self, Z: TensorLike) -> ArrayOrTensor:
        mean, std = self._fitted("inverse_transform")
        arr = _as_array(Z, "Standardizer.inverse_transform")
        self._check_shape(arr, "inverse_transform")
        return _like(Z, arr * std + mean)


@overload
def standardize(X: np.ndarray, mean: ArrayLike | None = ..., std: ArrayLike | None = ...
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...
@overload
def standardize(X: Tensor, mean: ArrayLike | None = ..., std: ArrayLike | None = ...
                ) -> tuple[Tensor, np.ndarray, np.ndarray]: ...
@overload
def standardize(X: TensorLike, mean: ArrayLike | None = ..., std: ArrayLike | None = ...
                ) -> tuple[ArrayOrTensor, np.ndarray, np.ndarray]: ...
def standardize(X: TensorLike, mean: ArrayLike | None = None, std: ArrayLike | None = None
                ) -> tuple[ArrayOrTensor, np.ndarray, np.ndarray]:
    """``(Z, mean, std)`` with ``Z = (X - mean) / std``; mean and std are computed from X
    unless given (pass the training set's to standardise a test set the same way)."""
    s = Standardizer()
    if mean is None and std is None:
        s.fit(X)
    elif mean is None or std is None:
        raise ValueError("standardize: give both mean and std, or neither")
    else:
        s.mean, s.std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    return s.transform(X), s.mean, s.std  # type: ignore[return-value]


@overload
def one_hot(labels: np.ndarray, num_classes: int | None = ...,
            dtype: DTypeLike = ...) -> np.ndarray: ...
@overload
def one_hot(labels: Tensor, num_classes: int | None = ..., dtype: DTypeLike = ...) -> Tensor: ...
@overload
def one_hot(labels: TensorLike, num_classes: int | None = ...,
            dtype: DTypeLike = ...) -> ArrayOrTensor: ...
def one_hot(labels: TensorLike, num_classes: int | None = None,
            dtype: DTypeLike = np.float64) -> ArrayOrTensor:
    """Rows of zeros with a 1 at each label: shape ``labels.shape + (num_classes,)``.

    ``labels`` are ints (or floats with whole values) in ``[0, num_classes)``;
    ``num_classes`` defaults to ``max(labels) + 1``.
    """
    arr = labels._data if isinstance(labels, Tensor) else np.asarray(labels)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError("one_hot: labels must be whole numbers")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {arr.dtype}")
    if num_classes is None:
        if arr.size == 0:
            raise ValueError("one_hot: num_classes is needed for empty labels")
        num_classes = int(arr.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes <= 0:
        raise ValueError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        bad = arr[(arr < 0) | (arr >= num_classes)].flat[0]
        raise ValueError(f"one_hot: label {bad} is out of range for {num_classes} classes "
                         f"(0..{num_classes - 1})")
    out = np.zeros(arr.shape + (int(num_classes),), dtype=dtype)
    np.put_along_axis(out, arr[..., None], 1, axis=-1)
    return _like(labels, out)
