"""R2: a two-layer sigmoid network (3 -> 4 -> 1, no biases), uniform initialisation, XOR data.

Specification (docs/reference-networks.md, R2):

- data ``X = [[0,0,1],[0,1,1],[1,0,1],[1,1,1]]``, ``y = [[0],[1],[1],[0]]`` (XOR of the first
  two columns; the third is a constant 1);
- ``W1 = np.random.rand(3,4)``, ``W2 = np.random.rand(4,1)`` (uniform on [0, 1)). The spec
  leaves the seed open: we use ``np.random.seed(1)`` (`SEED`, the seed R1 specifies);
- loss ``L = Σ (y - ŷ)²`` (sum of squares, no ½);
- the hand-derived update is written as an *addition* with learning rate 1:
  ``dW2 = a1ᵀ @ (2(y-ŷ) ⊙ ŷ(1-ŷ))``, ``dW1 = Xᵀ @ (((2(y-ŷ) ⊙ ŷ(1-ŷ)) @ W2ᵀ) ⊙ a1(1-a1))``,
  ``W1 += dW1``, ``W2 += dW2``; 1500 iterations.

Two things to notice: ``dW = -∂L/∂W`` (the update adds it, so it must be the *negative*
gradient), and σ' is computed from the layer's *output*, ``s(1-s)`` with ``s = σ(z)``. The
engine computes ``∂L/∂W`` and steps with ``SGD(lr=1)``: ``W - 1·∂L/∂W`` is ``W + dW`` exactly,
so here too both trainings are identical bit for bit. The comparison at each step is engine
``∂L/∂W`` against the hand-derived ``-dW``.
"""

from __future__ import annotations

import numpy as np

from ..datasets import truth_table_r2
from ..nn import functional as F
from ..tensor import Tensor
from .common import filled_from_legacy_seed, final_engine_state, seeded_legacy_weights
from .report import Progress, ReferenceReport, truth_table_lines
from .two_layer import TwoLayerSigmoid, run_adding_updates, sigmoid_layers

SEED = 1
ITERATIONS = 1500


# ---- hand-derived (plain numpy, as specified) ---------------------------------------------------
def hand_init(seed: int = SEED) -> dict[str, np.ndarray]:
    """``np.random.seed(seed)``, then ``W1 = rand(3,4)``, ``W2 = rand(4,1)``."""
    return seeded_legacy_weights(seed, np.random.rand, {"W1": (3, 4), "W2": (4, 1)})


hand_forward = sigmoid_layers  # ``(a1, ŷ)`` with ``a1 = σ(X@W1)``, ``ŷ = σ(a1@W2)``.


def hand_updates(X: np.ndarray, y: np.ndarray, W: dict[str, np.ndarray]
                 ) -> tuple[float, dict[str, np.ndarray]]:
    """``(L, {"W1": dW1, "W2": dW2})``: the loss ``Σ(y-ŷ)²`` and the updates to *add*
    (``dW = -∂L/∂W``), σ' from each layer's output."""
    a1, yhat = hand_forward(X, W)
    dW2 = a1.T @ (2 * (y - yhat) * (yhat * (1 - yhat)))
    dW1 = X.T @ (((2 * (y - yhat) * (yhat * (1 - yhat))) @ W["W2"].T) * (a1 * (1 - a1)))
    return float(np.sum((y - yhat) ** 2)), {"W1": dW1, "W2": dW2}


# ---- the same network from the engine's ops and modules -----------------------------------------
def R2Net() -> TwoLayerSigmoid:
    """3 -> 4 -> 1, sigmoid after both layers, no biases."""
    return TwoLayerSigmoid(3, 4, 1)


def engine_model(seed: int = SEED) -> TwoLayerSigmoid:
    """`R2Net` filled from ``np.random.seed(seed)``, ``rand(3,4)``, ``rand(4,1)``."""
    return filled_from_legacy_seed(R2Net(), seed, "rand")


def engine_loss(model: TwoLayerSigmoid, X: Tensor, y: Tensor) -> Tensor:
    """``L = Σ (y - ŷ)²``."""
    return F.mse_loss(model(X), y, reduction="sum")


def _monotony(steps: np.ndarray) -> str:
    """Whether the loss fell at every iteration (``steps``: its changes), else where it rose."""
    if np.all(steps < 0):
        return "the loss decreased at every iteration"
    return (f"the loss rose at {int(np.sum(steps >= 0))} iterations "
            f"(first at iteration {int(np.argmax(steps >= 0)) + 2})")


# ---- side by side -------------------------------------------------------------------------------
def train_side_by_side(iterations: int = ITERATIONS, seed: int = SEED,
                       log_every: int | None = None, check_fd: bool = True,
                       progress: bool = False) -> ReferenceReport:
    """Train R2 with the hand-derived updates and with the engine's gradients side by side;
    ``report.extra["monotonic"]`` says whether the loss decreased at every iteration."""
    X, y = truth_table_r2()
    W = hand_init(seed)
    model = engine_model(seed)
    run = run_adding_updates(iterations, (X, y), W, hand_updates, model, engine_loss, check_fd,
                             Progress(iterations, "R2", progress, unit="iter"))
    pred_engine, final_engine = final_engine_state(model, X)
    pred_hand = hand_forward(X, W)[1]
    steps = np.diff(np.asarray(run.losses))
    monotonic = bool(np.all(steps < 0))
    result_lines = truth_table_lines(X, y, pred_hand, pred_engine) + [_monotony(steps)]
    return ReferenceReport.from_side_by_side(
        run, log_every, model, hand=(W, pred_hand), engine=(final_engine, pred_engine),
        name="R2",
        title="two-layer sigmoid network 3 -> 4 -> 1, no biases, uniform init, XOR",
        settings=[f"np.random.seed({seed}); W1, W2 = rand(3,4), rand(4,1)",
                  f"L = Σ (y - ŷ)², updates W += dW with dW = -∂L/∂W (lr 1), "
                  f"{iterations} iterations"],
        result=f"predictions {np.round(pred_engine[:, 0], 4).tolist()} "
               f"(labels {y[:, 0].astype(int).tolist()})",
        result_lines=result_lines,
        epoch_label="iter",
        notes=["the hand-derived dW is the negative gradient (-∂L/∂W), so the engine's "
               "∂L/∂W is compared with -dW; σ' is taken from the layer output, s(1-s)."],
        extra={"monotonic": monotonic, "pred_hand": pred_hand, "pred_engine": pred_engine},
    )
