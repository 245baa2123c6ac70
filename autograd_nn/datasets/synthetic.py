"""Seeded generators of two-dimensional toy classification problems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..seeding import as_generator

if TYPE_CHECKING:
    from ..types import RngLike


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _check_noise(noise: Any) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.number)) \
            or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def make_moons(n_samples: int = 100, noise: float = 0.0, rng: RngLike | None = None,
               shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's construction): ``X`` (n, 2) float64,
    ``y`` (n,) int64 in {0, 1}: class 0 is the upper moon (``n - n // 2`` points), class 1
    the lower one (``n // 2``). ``noise`` is the std of the Gaussian jitter added."""
    n = _check_count("make_moons: n_samples", n_samples, 2)
    noise = _check_noise(noise)
    gen = as_generator(rng)
    n_upper, n_lower = n - n // 2, n // 2
    t_up, t_low = np.linspace(0, np.pi, n_upper), np.linspace(0, np.pi, n_lower)
    X = np.concatenate([np.stack([np.cos(t_up), np.sin(t_up)], axis=1),
                        np.stack([1 - np.cos(t_low), 0.5 - np.sin(t_low)], axis=1)])
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    if noise > 0:
        X = X + gen.normal(0.0, noise, size=X.shape)
    if shuffle:
        order = gen.permutation(n)
        X, y = X[order], y[order]
    return X, y


def make_spirals(n_samples: int = 300, classes: int = 3, noise: float = 0.2,
                 rng: RngLike | None = None, shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (the classic CS231n construction): arm k has
    radius r in [0, 1] and angle ``4 (k + r) + noise * N(0, 1)`` (radians), point
    ``(r sin angle, r cos angle)``. ``n_samples`` is the total, shared out as evenly as
    possible (the first arms get one more). Returns ``X`` (n, 2) float64, ``y`` (n,) int64."""
    n = _check_count("make_spirals: n_samples", n_samples, 1)
    k = _check_count("make_spirals: classes", classes, 1)
    noise = _check_noise(noise)
    if n < k:
        raise ValueError(f"make_spirals: {n} samples cannot make {k} arms")
    gen = as_generator(rng)
    sizes = [n // k + (1 if c < n % k else 0) for c in range(k)]
    parts, labels = [], []
    for c, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        angle = 4.0 * (c + r) + noise * gen.standard_normal(m)
        parts.append(np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1))
        labels.append(np.full(m, c, dtype=np.int64))
    X, y = np.concatenate(parts), np.concatenate(labels)
    if shuffle:
        order = gen.permutation(n)
        X, y = X[order], y[order]
    return X, y
