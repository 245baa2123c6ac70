"""What every workload shares: the `Workload` record, the `Target` it is judged against, and
the agreement check that runs before any timing.

A workload's implementations (one class per engine) take the same initial arrays (a dict of
ndarrays, copied on entry) and provide ``step()`` (the timed unit: forward, backward and, for the
networks, the parameter update) and ``results()`` (a dict of ndarrays: the loss, the gradients
and, for the networks, the updated parameters, after the steps run so far).

Only numpy is imported here: an engine is imported by its implementation's constructor, so a
process measuring the numpy baseline never loads autograd_nn or torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

# compiled: ag.compile (compiled.py); jax, jaxjit: eager jax and the step under jax.jit (jaxeng.py)
ENGINES = ("numpy", "autograd_nn", "compiled", "torch", "jax", "jaxjit")
OPTIONAL = {"torch": "torch", "jax": "jax", "jaxjit": "jax"}  # engine -> the module it needs
BASELINE = "numpy"

# Agreement with the baseline: max |got - ref| / max |ref| per array (the max-norm relative error)
TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}


class Skip(Exception):
    """Raised by an engine's constructor that does not run this workload at this size; the
    message says why (the report shows it; the run does not fail)."""


class Impl(Protocol):
    def step(self) -> None: ...

    def results(self) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True)
class Target:
    """A workload's goal for the engine: ``max_ratio`` to the numpy baseline's median (None: no
    ratio goal), whether it must also be faster than PyTorch, or ``max_torch_ratio``: at most
    that many times PyTorch's median (judged only when PyTorch ran)."""

    text: str
    max_ratio: float | None = None
    beat_torch: bool = False
    max_torch_ratio: float | None = None


@dataclass(frozen=True)
class Workload:
    """One benchmark. ``make_data(scale)`` gives the initial arrays for ``scale`` in
    ("check", "quick", "full"); ``ops`` (if set) counts the ops of one step, so times are also
    reported per op; ``kind`` is "timed" (repeated samples) or "once" (one run, for survival
    and memory)."""

    key: str
    title: str
    make_data: Callable[[str], dict[str, np.ndarray]]
    builders: dict[str, Callable[[dict[str, np.ndarray]], Any]]
    target: Target | None = None
    ops: Callable[[dict[str, np.ndarray]], int] | None = None
    kind: str = "timed"
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def copied(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Fresh copies, so no implementation can change another's initial arrays."""
    return {k: np.array(v, copy=True) for k, v in data.items()}


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """max |got - ref| / max |ref| (absolute when ref is all zeros); inf on a shape mismatch."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        return float("inf")
    if not np.all(np.isfinite(got)):
        return float("inf")
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    diff = float(np.max(np.abs(got - ref))) if ref.size else 0.0
    return diff / scale if scale > 0 else diff


def compare_results(
    got: dict[str, np.ndarray], ref: dict[str, np.ndarray], dtype: Any
) -> tuple[bool, dict[str, float], float]:
    """Compare an engine's results with the baseline's, key by key.

    Returns (agree, {key: relative error}, tolerance); a missing key counts as an error of inf.
    """
    tol = TOLERANCE[np.dtype(dtype)]
    errors = {k: relative_error(got[k], ref[k]) if k in got else float("inf") for k in ref}
    return all(e <= tol for e in errors.values()), errors, tol


def np_sigmoid(z: np.ndarray) -> np.ndarray:
    """The textbook sigmoid of the hand-written baselines: 1 / (1 + exp(-z))."""
    return 1.0 / (1.0 + np.exp(-z))
