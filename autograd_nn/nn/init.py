"""Seeded initialisers that fill a parameter in place (PyTorch's ``nn.init`` names).

Each takes ``rng``: an int seed, a ``np.random.Generator`` (used as is, so one generator can
serve many calls) or None (numpy's global generator, which ``np.random.seed`` and
``autograd_nn.manual_seed`` seed; see `autograd_nn.seeding`). The trailing underscore marks
the in-place fill; the names without it (``normal``, ``xavier_uniform``, ``glorot_normal``,
``he_uniform``, ...) are aliases.

Fans follow this package's weight layout ``(in_features, out_features, *receptive)``:
``fan_in = shape[0] * receptive``, ``fan_out = shape[1] * receptive`` (PyTorch's layout is the
transpose, so its fans are read from the other axes; the resulting distributions are the same).

`fill_from_numpy_global` reproduces recipes written against numpy's legacy global generator,
e.g. reference network R1 (``np.random.seed(1)``, then ``W1 = np.random.randn(3, 4)``,
``W2 = np.random.randn(4, 5)``, ``W3 = np.random.randn(5, 1)``) bit for bit::

    fill_from_numpy_global([l1.weight, l2.weight, l3.weight], seed=1)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from ..seeding import as_generator
from ..tensor import Tensor

if TYPE_CHECKING:
    from ..types import RngLike
    from .module import Module


def _fill(t: Tensor, values: np.ndarray | float) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"init: expected a Tensor or Parameter, got {type(t).__name__}")
    t._data[...] = values
    t._bump_version()
    return t


def calculate_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape ``(in, out, *receptive)``."""
    if len(shape) < 2:
        raise ValueError(f"fans need a weight with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[0] * receptive, shape[1] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for an activation ('linear', 'sigmoid', 'tanh', 'relu',
    'leaky_relu' with negative slope ``param``)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, rng: RngLike | None = None) -> Tensor:
    """Fill with samples of N(mean, std**2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return _fill(t, as_generator(rng).normal(mean, std, size=t.shape))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, rng: RngLike | None = None) -> Tensor:
    """Fill with samples of U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    return _fill(t, as_generator(rng).uniform(a, b, size=t.shape))


def zeros_(t: Tensor, rng: RngLike | None = None) -> Tensor:
    return _fill(t, 0.0)


def ones_(t: Tensor, rng: RngLike | None = None) -> Tensor:
    return _fill(t, 1.0)


def constant_(t: Tensor, value: float, rng: RngLike | None = None) -> Tensor:
    return _fill(t, value)


def xavier_uniform_(t: Tensor, gain: float = 1.0, rng: RngLike | None = None) -> Tensor:
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fans(t.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, rng=rng)


def xavier_normal_(t: Tensor, gain: float = 1.0, rng: RngLike | None = None) -> Tensor:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fans(t.shape)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)


def _kaiming_std(t: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fans(t.shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", rng: RngLike | None = None) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan) (gain sqrt(2) for ReLU)."""
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound, rng=rng)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", rng: RngLike | None = None) -> Tensor:
    """He normal: N(0, std**2) with std = gain / sqrt(fan) (gain sqrt(2) for ReLU)."""
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity), rng=rng)


def fill_from_numpy_global(params: Iterable[Tensor] | Module, seed: int | None = None,
                           distribution: str = "randn") -> None:
    """Fill ``params`` in the given order from numpy's legacy global generator.

    Each parameter gets ``np.random.randn(*p.shape)`` (``distribution="randn"``; the same
    stream as repeated ``np.random.normal()``) or ``np.random.rand(*p.shape)``
    (``"rand"``, uniform on [0, 1)). With ``seed``, ``np.random.seed(seed)`` is called first
    (this changes numpy's global state, as the recipe being reproduced does); without it the
    draws continue from the current global state. ``params`` may be a Module (its
    ``parameters()`` order, i.e. registration order).
    """
    draw = {"randn": np.random.randn, "rand": np.random.rand}.get(distribution)
    if draw is None:
        raise ValueError(f"fill_from_numpy_global: distribution must be 'randn' or 'rand', "
                         f"got {distribution!r}")
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    params = list(params)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"fill_from_numpy_global: expected Tensors, got {type(p).__name__}")
    if seed is not None:
        np.random.seed(seed)
    for p in params:
        _fill(p, draw(*p.shape))


normal, uniform, zeros, ones, constant = normal_, uniform_, zeros_, ones_, constant_
xavier_uniform, xavier_normal = xavier_uniform_, xavier_normal_
glorot_uniform = glorot_uniform_ = xavier_uniform_
glorot_normal = glorot_normal_ = xavier_normal_
kaiming_uniform, kaiming_normal = kaiming_uniform_, kaiming_normal_


def he_uniform_(t: Tensor, rng: RngLike | None = None) -> Tensor:
    """Kaiming uniform for ReLU layers (gain sqrt(2), fan_in)."""
    return kaiming_uniform_(t, nonlinearity="relu", rng=rng)


def he_normal_(t: Tensor, rng: RngLike | None = None) -> Tensor:
    """Kaiming normal for ReLU layers (gain sqrt(2), fan_in)."""
    return kaiming_normal_(t, nonlinearity="relu", rng=rng)


he_uniform, he_normal = he_uniform_, he_normal_

# The names `Linear(init=...)` accepts: each fills a weight given ``rng=``.
INITIALISERS: dict[str, Callable[..., Tensor]] = {
    "normal": normal_, "uniform": uniform_, "zeros": zeros_,
    "xavier_uniform": xavier_uniform_, "xavier_normal": xavier_normal_,
    "glorot_uniform": xavier_uniform_, "glorot_normal": xavier_normal_,
    "kaiming_uniform": kaiming_uniform_, "kaiming_normal": kaiming_normal_,
    "he_uniform": he_uniform_, "he_normal": he_normal_,
}
