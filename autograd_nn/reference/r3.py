"""R3: a test score from hours studied and hours slept (2 -> 3 -> 1 sigmoid network, no biases).

Specification (docs/reference-networks.md, R3):

- data ``X = [[2,9],[1,5],[3,6]]`` (hours studied, hours slept), ``y = [[92],[86],[89]]``;
  scaled ``X / X.max(axis=0)`` (per column: the *training* maxima 3 h and 9 h) and ``y / 100``;
- ``W1 = randn(2,3)``, ``W2 = randn(3,1)``; the spec says "seed it": ``np.random.seed(1)``
  (`SEED`);
- hand-derived update with learning rate 1: ``h = σ(X@W1)``, ``o = σ(h@W2)``,
  ``o_delta = (y-o) ⊙ o(1-o)``, ``h_delta = (o_delta@W2ᵀ) ⊙ h(1-h)``, ``W1 += Xᵀ@h_delta``,
  ``W2 += hᵀ@o_delta``; 1000 iterations.

These updates are gradient descent on ``½ Σ (y - o)²`` (so ``W += update`` is
``W -= 1·∂(½Σ(y-o)²)/∂W``), while the loss *reported* is the mean squared error
``mean((y - o)²)``: the engine differentiates the former and prints the latter, as the hand
code does. Both trainings are identical bit for bit.

`predict_score` takes raw hours and scales them with the training maxima (not with maxima
recomputed over new rows, and without appending the new row to X).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..datasets import study_sleep_scores
from ..mode import no_grad
from ..nn import functional as F
from ..tensor import Tensor
from .common import filled_from_legacy_seed, final_engine_state, seeded_legacy_weights
from .report import Progress, ReferenceReport, format_rows
from .two_layer import TwoLayerSigmoid, run_adding_updates, sigmoid_layers

SEED = 1
ITERATIONS = 1000
QUERY = (4.0, 8.0)  # 4 hours studied, 8 hours slept


def training_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X_scaled, y_scaled, x_max)``: ``X / X.max(axis=0)``, ``y / 100``, and the training
    maxima that new inputs must be scaled with."""
    X, y = study_sleep_scores()
    x_max = X.max(axis=0)
    return X / x_max, y / 100, x_max


# ---- hand-derived (plain numpy, as specified) ---------------------------------------------------
def hand_init(seed: int = SEED) -> dict[str, np.ndarray]:
    """``np.random.seed(seed)``, then ``W1 = randn(2,3)``, ``W2 = randn(3,1)``."""
    return seeded_legacy_weights(seed, np.random.randn, {"W1": (2, 3), "W2": (3, 1)})


hand_forward = sigmoid_layers  # ``(h, o)`` with ``h = σ(X@W1)`` and ``o = σ(h@W2)``.


def hand_updates(X: np.ndarray, y: np.ndarray, W: dict[str, np.ndarray]
                 ) -> tuple[float, dict[str, np.ndarray]]:
    """``(mean((y-o)²), {"W1": Xᵀ@h_delta, "W2": hᵀ@o_delta})``: the reported loss and the
    updates to add (the negative gradient of ½Σ(y-o)²)."""
    h, o = hand_forward(X, W)
    o_delta = (y - o) * (o * (1 - o))
    h_delta = (o_delta @ W["W2"].T) * (h * (1 - h))
    return float(np.mean((y - o) ** 2)), {"W1": X.T @ h_delta, "W2": h.T @ o_delta}


# ---- the same network from the engine's ops and modules -----------------------------------------
def R3Net() -> TwoLayerSigmoid:
    """2 -> 3 -> 1, sigmoid after both layers, no biases."""
    return TwoLayerSigmoid(2, 3, 1)


def engine_model(seed: int = SEED) -> TwoLayerSigmoid:
    """`R3Net` filled from ``np.random.seed(seed)``, ``randn(2,3)``, ``randn(3,1)``."""
    return filled_from_legacy_seed(R3Net(), seed)


def engine_objective(model: TwoLayerSigmoid, X: Tensor, y: Tensor) -> Tensor:
    """What the updates minimise: ``½ Σ (y - o)²``."""
    return 0.5 * F.mse_loss(model(X), y, reduction="sum")


def predict_score(net: TwoLayerSigmoid | dict[str, np.ndarray], hours_studied: Any,
                  hours_slept: Any) -> np.ndarray | float:
    """The predicted test score (0..100) for raw hours, scaled with the *training* maxima.

    ``net`` is a trained `R3Net` or the hand-derived weights ``{"W1", "W2"}``; the hours may be
    numbers (a float is returned) or arrays of the same length.
    """
    _, _, x_max = training_data()
    x = np.stack([np.asarray(hours_studied, dtype=np.float64),
                  np.asarray(hours_slept, dtype=np.float64)], axis=-1)
    scalar = x.ndim == 1
    x = np.atleast_2d(x) / x_max
    if isinstance(net, dict):
        o = hand_forward(x, net)[1]
    else:
        with no_grad():
            o = net(Tensor(x)).numpy()
    score = o[:, 0] * 100
    return float(score[0]) if scalar else score


# ---- side by side -------------------------------------------------------------------------------
def train_side_by_side(iterations: int = ITERATIONS, seed: int = SEED,
                       log_every: int | None = None, check_fd: bool = True,
                       progress: bool = False) -> ReferenceReport:
    """Train R3 with the hand-derived updates and with the engine's gradients side by side,
    then predict the score for 4 h studied and 8 h slept with both."""
    X, y, x_max = training_data()
    W = hand_init(seed)
    model = engine_model(seed)

    def reported_mse(_: Tensor) -> float:  # the loss reported: mean((y-o)²), not ½Σ(y-o)²
        with no_grad():
            return F.mse_loss(model(Tensor(X)), Tensor(y)).item()

    run = run_adding_updates(iterations, (X, y), W, hand_updates, model, engine_objective,
                             check_fd, Progress(iterations, "R3", progress, unit="iter"),
                             engine_reported=reported_mse)
    pred_engine, final_engine = final_engine_state(model, X)
    pred_hand = hand_forward(X, W)[1]
    q_hand, q_engine = predict_score(W, *QUERY), predict_score(model, *QUERY)
    raw, _ = study_sleep_scores()
    labels = [f"studied {a:g} h, slept {b:g} h, scored {t:g}:" for (a, b), t in
              zip(raw, y[:, 0] * 100)]
    result_lines = format_rows(
        labels, [f"hand {h * 100:.3f}   engine {e * 100:.3f}"
                 for h, e in zip(pred_hand[:, 0], pred_engine[:, 0])])
    result_lines.append(f"4 h studied, 8 h slept: scaled with the training maxima "
                        f"{x_max.tolist()} to {np.round(np.array(QUERY) / x_max, 4).tolist()}; "
                        f"hand {q_hand:.3f}, engine {q_engine:.3f}")
    return ReferenceReport.from_side_by_side(
        run, log_every, model, hand=(W, pred_hand), engine=(final_engine, pred_engine),
        name="R3",
        title="test score from hours studied and slept, 2 -> 3 -> 1 sigmoid, no biases",
        settings=[f"np.random.seed({seed}); W1, W2 = randn(2,3), randn(3,1); "
                  "X / X.max(axis=0), y / 100",
                  f"updates W += Xᵀ@delta (gradient descent on ½Σ(y-o)², lr 1), {iterations} "
                  "iterations; loss reported: mean((y-o)²)"],
        result=f"predicted score for 4 h studied, 8 h slept: {q_engine:.2f}",
        result_lines=result_lines,
        epoch_label="iter",
        notes=["the gradient is of ½Σ(y-o)² while the loss printed is mean((y-o)²); "
               "new inputs are scaled with the training maxima (3 h, 9 h)."],
        extra={"query_hand": q_hand, "query_engine": q_engine, "x_max": x_max},
    )
