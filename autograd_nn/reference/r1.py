"""R1: a three-layer sigmoid network (3 -> 4 -> 5 -> 1, no biases) on a four-row truth table.

Specification (docs/reference-networks.md, R1):

- data ``X = [[0,0,1],[1,1,1],[1,0,1],[0,1,1]]``, ``y = [[0],[1],[1],[0]]``. The spec calls the
  label the XOR of the first two columns, but with these rows it equals the *first* column
  (row [1,1,1] -> 1, row [0,1,1] -> 0); the rows are kept exactly as written;
- ``np.random.seed(1)``, then ``W1 = randn(3,4)``, ``W2 = randn(4,5)``, ``W3 = randn(5,1)``
  (numpy's legacy global generator, in that order);
- ``J = Σ ½(y - ŷ)²`` (a sum over the samples), full-batch gradient descent with learning rate
  0.1 for 5000 epochs.

The hand-derived backward pass writes σ' as a separate factor computed from σ(z),
``δ4 = -(y - ŷ) ⊙ σ'(z4)`` with ``σ'(z) = σ(z)(1 - σ(z))``, exactly as the spec writes it.
The engine's network is written as a forward pass only (`R1Net`, three ``Linear`` layers
without bias, sigmoid after each, ``J = 0.5 * F.mse_loss(ŷ, y, reduction="sum")``); its
gradients come from the graph. Both runs do the same floating-point operations in the same
order, so the two trainings are identical bit for bit: every gradient, every weight, every
prediction (`train_side_by_side` checks it, ``report.bitwise_equal``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn, optim
from ..datasets import truth_table_r1
from ..nn import functional as F
from ..tensor import Tensor
from .common import (
    descend,
    filled_from_legacy_seed,
    final_engine_state,
    run_side_by_side,
    seeded_legacy_weights,
    sigmoid,
    sigmoid_prime,
)
from .report import Progress, ReferenceReport, truth_table_lines

SEED = 1
LEARNING_RATE = 0.1
EPOCHS = 5000
NAMES = ("W1", "W2", "W3")


# ---- hand-derived (plain numpy, as specified) ---------------------------------------------------
def hand_init(seed: int = SEED) -> dict[str, np.ndarray]:
    """``np.random.seed(seed)``, then W1 (3,4), W2 (4,5), W3 (5,1) from ``np.random.randn``."""
    return seeded_legacy_weights(seed, np.random.randn, {"W1": (3, 4), "W2": (4, 5), "W3": (5, 1)})


def hand_forward(X: np.ndarray, W: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``z2 = X@W1, a2 = σ(z2), z3 = a2@W2, a3 = σ(z3), z4 = a3@W3, ŷ = σ(z4)``."""
    z2 = X @ W["W1"]
    a2 = sigmoid(z2)
    z3 = a2 @ W["W2"]
    a3 = sigmoid(z3)
    z4 = a3 @ W["W3"]
    yhat = sigmoid(z4)
    return {"z2": z2, "a2": a2, "z3": z3, "a3": a3, "z4": z4, "yhat": yhat}


def hand_cost(y: np.ndarray, yhat: np.ndarray) -> float:
    """``J = Σ ½(y - ŷ)²``."""
    return float(np.sum(0.5 * (y - yhat) ** 2))


def hand_gradients(X: np.ndarray, y: np.ndarray, W: dict[str, np.ndarray]
                   ) -> tuple[float, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(J, {"W1": ∂J/∂W1, ...}, {"delta4": δ4, "delta3": δ3, "delta2": δ2})``.

    δ4 = -(y-ŷ) ⊙ σ'(z4), ∂J/∂W3 = a3ᵀ@δ4; δ3 = (δ4@W3ᵀ) ⊙ σ'(z3), ∂J/∂W2 = a2ᵀ@δ3;
    δ2 = (δ3@W2ᵀ) ⊙ σ'(z2), ∂J/∂W1 = Xᵀ@δ2. Each δk is the gradient of J with respect to zk.
    """
    f = hand_forward(X, W)
    delta4 = -(y - f["yhat"]) * sigmoid_prime(f["z4"])
    dJdW3 = f["a3"].T @ delta4
    delta3 = (delta4 @ W["W3"].T) * sigmoid_prime(f["z3"])
    dJdW2 = f["a2"].T @ delta3
    delta2 = (delta3 @ W["W2"].T) * sigmoid_prime(f["z2"])
    dJdW1 = X.T @ delta2
    grads = {"W1": dJdW1, "W2": dJdW2, "W3": dJdW3}
    return hand_cost(y, f["yhat"]), grads, {"delta4": delta4, "delta3": delta3, "delta2": delta2}


def hand_update(W: dict[str, np.ndarray], grads: dict[str, np.ndarray],
                lr: float = LEARNING_RATE) -> None:
    """``W ← W - lr·∂J/∂W`` in place."""
    descend(W, grads, lr)


# ---- the same network from the engine's ops and modules -----------------------------------------
class R1Net(nn.Module):
    """3 -> 4 -> 5 -> 1, sigmoid after every layer, no biases. The parameters carry the spec's
    names W1 = ``hidden1.weight``, W2 = ``hidden2.weight``, W3 = ``output.weight`` as their
    ``.name`` (``weights()`` maps them; shapes (3,4), (4,5), (5,1): ``Linear`` computes
    ``x @ W``), so ``draw_graph(J, params=model)``, ``print_graph`` and ``trace_backward``
    all show W1, not ``hidden1.weight``, inside the ``hidden1 (Linear)`` cluster."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden1 = nn.Linear(3, 4, bias=False)
        self.hidden2 = nn.Linear(4, 5, bias=False)
        self.output = nn.Linear(5, 1, bias=False)
        for name, p in self.weights().items():
            p.name = name  # every picture and table calls them W1, W2, W3

    def forward(self, X: Tensor) -> Tensor:
        """ŷ; the intermediates carry the spec's names (z2, a2, z3, a3, z4, yhat), so a graph
        picture shows where each hand-derived δk lives (the gradient of J at zk)."""
        z2 = self.hidden1(X)
        a2 = F.sigmoid(z2)
        z3 = self.hidden2(a2)
        a3 = F.sigmoid(z3)
        z4 = self.output(a3)
        yhat = F.sigmoid(z4)
        for t, name in ((z2, "z2"), (a2, "a2"), (z3, "z3"), (a3, "a3"), (z4, "z4"),
                        (yhat, "yhat")):
            t.name = name
        return yhat

    def weights(self) -> dict[str, nn.Parameter]:
        return {"W1": self.hidden1.weight, "W2": self.hidden2.weight, "W3": self.output.weight}


def engine_model(seed: int = SEED) -> R1Net:
    """`R1Net` initialised from numpy's legacy generator exactly as the spec's recipe."""
    return filled_from_legacy_seed(R1Net(), seed)


def engine_cost(model: R1Net, X: Tensor, y: Tensor) -> Tensor:
    """``J = Σ ½(y - ŷ)²`` from the engine's ops."""
    return 0.5 * F.mse_loss(model(X), y, reduction="sum")


# ---- the first step, drawn -------------------------------------------------------------------
def first_step(seed: int = SEED) -> dict[str, Any]:
    """The first training step of R1, the one the demo's three-way table checks: the model at
    its initial weights, the cost ``J`` (named, as are X, y, z2 ... yhat and W1 ... W3), the
    engine's backward pass traced (``trace``) and the hand-derived ``deltas`` δ4, δ3, δ2."""
    from ..viz import trace_backward

    X, y = truth_table_r1()
    model = engine_model(seed)
    J = engine_cost(model, Tensor(X, name="X"), Tensor(y, name="y"))
    J.name = "J"
    trace = trace_backward(J, params=model)
    _, _, deltas = hand_gradients(X, y, hand_init(seed))
    return {"J": J, "model": model, "trace": trace, "deltas": deltas}


def first_step_graph(step: dict[str, Any] | None = None, rankdir: str = "TB") -> Any:
    """The demo's picture: R1's graph at the first step with every tensor's value and
    gradient dJ/d(tensor) in 3 significant digits, each ``zk`` marked with its δk, titled with
    the step and the loss; a ``graphviz.Digraph`` (nothing is written)."""
    from ..viz import draw_graph

    step = step or first_step()
    J, trace = step["J"], step["trace"]
    title = (f"R1 at the first training step (before any update): J = {J.item():.6g}\n"
             "grad = dJ/d(tensor) from the engine's backward pass; "
             "on z4, z3, z2 it equals the hand-derived δ4, δ3, δ2")
    notes = {f"z{k}": f"= δ{k}" for k in (4, 3, 2)}
    return draw_graph(J, params=step["model"], grads=trace, rankdir=rankdir, legend=True,
                      precision=3, title=title, notes=notes, clusters=False)


# ---- side by side -------------------------------------------------------------------------------
def train_side_by_side(epochs: int = EPOCHS, seed: int = SEED, lr: float = LEARNING_RATE,
                       log_every: int | None = None, check_fd: bool = True,
                       progress: bool = False) -> ReferenceReport:
    """Train R1 twice from the same seed, once with the hand-derived backward pass and once
    with the engine's, and compare their gradients at every epoch (and, at the first, both
    with central finite differences). Returns the report (``print(report)``)."""
    X, y = truth_table_r1()
    W = hand_init(seed)
    model = engine_model(seed)
    params = model.weights()
    opt = optim.SGD(model.parameters(), lr=lr)
    Xt, yt = Tensor(X), Tensor(y)

    def hand_step() -> tuple[float, dict[str, np.ndarray]]:
        J_hand, g_hand, _ = hand_gradients(X, y, W)
        hand_update(W, g_hand, lr)
        return J_hand, g_hand

    run = run_side_by_side(epochs, hand_step, lambda: engine_cost(model, Xt, yt), opt, params,
                           check_fd, Progress(epochs, "R1", progress, unit="epoch"))
    pred_engine, final_engine = final_engine_state(model, X)
    pred_hand = hand_forward(X, W)["yhat"]
    result_lines = truth_table_lines(X, y, pred_hand, pred_engine)
    rounded = (pred_engine[:, 0] > 0.5).astype(int).tolist()
    return ReferenceReport.from_side_by_side(
        run, log_every, model, hand=(W, pred_hand), engine=(final_engine, pred_engine),
        name="R1",
        title="three-layer sigmoid network 3 -> 4 -> 5 -> 1, no biases, on a 4-row truth table",
        settings=[f"np.random.seed({seed}); W1, W2, W3 = randn(3,4), randn(4,5), randn(5,1)",
                  f"J = Σ ½(y - ŷ)², full-batch gradient descent, lr {lr:g}, {epochs} epochs"],
        result=f"predictions {np.round(pred_engine[:, 0], 4).tolist()} "
               f"(labels {y[:, 0].astype(int).tolist()})",
        result_lines=result_lines + [f"read as 0/1: {rounded}"],
        notes=["with the rows as specified the label equals the first column of X "
               "(the spec's 'XOR' remark does not hold for R1's rows)."],
        extra={"pred_hand": pred_hand, "pred_engine": pred_engine},
    )
