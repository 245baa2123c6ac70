"""What the five reference networks share besides their report (`report.py`; R2 and R3 also
share `two_layer.py`): the numpy sigmoid of the hand-derived code, the engine-vs-hand gradient
comparison of one step, the side-by-side training loop, and the legacy-numpy weight draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, overload

import numpy as np

from .. import nn
from ..gradcheck import check_three_way, compare_gradients
from ..mode import no_grad
from ..tensor import Tensor
from .report import Progress, SideBySideRun, as_arrays, bitwise_equal


@overload
def sigmoid(z: float) -> float: ...
@overload
def sigmoid(z: np.ndarray) -> np.ndarray: ...
def sigmoid(z: float | np.ndarray) -> float | np.ndarray:
    """σ(z) = 1 / (1 + e^(-z)), written out as the reference networks do (plain numpy); a
    float (R4's scalars) gives a float (numpy's float64)."""
    return 1.0 / (1.0 + np.exp(-z))


@overload
def sigmoid_prime(z: float) -> float: ...
@overload
def sigmoid_prime(z: np.ndarray) -> np.ndarray: ...
def sigmoid_prime(z: float | np.ndarray) -> float | np.ndarray:
    """σ'(z) = σ(z)(1 - σ(z)) (the same number as e^(-z)/(1+e^(-z))² up to rounding)."""
    s = sigmoid(z)
    return s * (1 - s)


def engine_grads(params: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    """The ``.grad`` of each named parameter after ``backward()``, as arrays (copies)."""
    out = {}
    for name, p in params.items():
        if p.grad is None:
            raise RuntimeError(f"parameter {name} has no gradient: was backward() called?")
        out[name] = np.array(p.grad.data, dtype=np.float64)
    return out


def engine_step(opt: Any, loss_fn: Any, params: Mapping[str, Tensor],
                hand_grads: Mapping[str, Any], with_fd: bool) -> tuple[Tensor, float, Any]:
    """The engine's gradient beside the hand-derived one: zero the grads, ``loss_fn()``,
    backward; returns the loss, the largest relative difference of the two gradients and,
    ``with_fd``, the three-way table with finite differences (else None). No step is taken."""
    opt.zero_grad()
    loss = loss_fn()
    loss.backward()
    g_eng = engine_grads(params)
    three_way = check_three_way(loss_fn, params, hand_grads, engine=g_eng) if with_fd else None
    return loss, gradient_difference(g_eng, hand_grads), three_way


def gradient_difference(engine: Mapping[str, Any], hand: Mapping[str, Any]) -> float:
    """The largest relative difference between two sets of named gradients (see module doc).
    Bitwise-equal sets give 0.0 without building the comparison table."""
    if bitwise_equal(engine, hand):
        return 0.0
    table = compare_gradients(as_arrays(engine), as_arrays(hand), labels=("engine", "hand"))
    return max(row.max_rel_diff for row in table.rows)


def run_side_by_side(steps: int, hand_step: Callable[[], tuple[float, Mapping[str, Any]]],
                     engine_loss: Callable[[], Tensor], opt: Any,
                     params: Mapping[str, Tensor], check_fd: bool, bar: Progress,
                     engine_reported: Callable[[Tensor], float] | None = None
                     ) -> SideBySideRun:
    """The loop the full-batch networks (R1, R2, R3, R5) share. Each step ``hand_step()``
    runs the network's own hand-derived pass and update and returns ``(reported loss,
    ∂L/∂W)``; the engine's gradient of ``engine_loss()`` is compared with that ∂L/∂W (and, at
    step 1 with ``check_fd``, both with finite differences), logged, and ``opt`` steps.
    ``engine_reported(loss)`` gives the engine run's reported loss (default ``loss.item()``)."""
    run = SideBySideRun()
    try:
        for step in range(1, steps + 1):
            hand_loss, hand_grads = hand_step()
            loss, diff, table = engine_step(opt, engine_loss, params, hand_grads,
                                            step == 1 and check_fd)
            if table is not None:
                run.three_way = table
            run.diffs.append(diff)
            run.losses.append(hand_loss)
            run.engine_losses.append(loss.item() if engine_reported is None
                                     else engine_reported(loss))
            opt.step()
            bar.update(hand_loss)
    finally:
        bar.close()
    return run


def final_engine_state(model: Any, X: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The trained engine model's predictions on ``X`` and its final ``weights()``."""
    with no_grad():
        predictions = model(Tensor(X)).numpy()
    return predictions, {k: p.numpy() for k, p in model.weights().items()}


def seeded_legacy_weights(seed: int, draw: Callable[..., np.ndarray],
                          shapes: Mapping[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """``np.random.seed(seed)``, then each named weight drawn in order with ``draw(*shape)``
    (``np.random.rand`` or ``np.random.randn``), as the legacy-numpy recipes write it."""
    np.random.seed(seed)
    return {name: draw(*shape) for name, shape in shapes.items()}


def filled_from_legacy_seed(model: nn.Module, seed: int, distribution: str = "randn") -> Any:
    """``model`` with its ``weights()`` filled in order from ``np.random.seed(seed)`` and
    ``distribution`` ("randn" or "rand"), the draws of the legacy-numpy recipes."""
    nn.init.fill_from_numpy_global(list(model.weights().values()), seed=seed,
                                   distribution=distribution)
    return model


def descend(W: dict[str, np.ndarray], grads: Mapping[str, np.ndarray], lr: float) -> None:
    """``W ← W - lr·∂L/∂W`` per weight, in place (R1, R5)."""
    for k in W:
        W[k] -= lr * grads[k]
