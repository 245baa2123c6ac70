"""What R2 and R3 share: two sigmoid layers without biases (`TwoLayerSigmoid`, and the
hand-derived code's `sigmoid_layers`), trained by *adding* updates ``W += dW`` (learning
rate 1) side by side with the engine's SGD steps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import nn, optim
from ..nn import functional as F
from ..tensor import Tensor
from .common import run_side_by_side, sigmoid
from .report import Progress, SideBySideRun


class TwoLayerSigmoid(nn.Module):
    """``n_in -> n_hidden -> n_out``, sigmoid after both layers, no biases (R2 and R3):
    W1 = ``hidden.weight`` (n_in, n_hidden), W2 = ``output.weight`` (n_hidden, n_out)."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden, bias=False)
        self.output = nn.Linear(n_hidden, n_out, bias=False)

    def forward(self, X: Tensor) -> Tensor:
        return F.sigmoid(self.output(F.sigmoid(self.hidden(X))))

    def weights(self) -> dict[str, nn.Parameter]:
        return {"W1": self.hidden.weight, "W2": self.output.weight}


def sigmoid_layers(X: np.ndarray, W: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two sigmoid layers without biases (R2, R3): ``(σ(X@W1), σ(σ(X@W1)@W2))``."""
    hidden = sigmoid(X @ W["W1"])
    return hidden, sigmoid(hidden @ W["W2"])


def add_updates(W: dict[str, np.ndarray], dW: Mapping[str, np.ndarray]) -> None:
    """``W += dW`` per weight, in place (R2, R3: the updates already point downhill, lr 1)."""
    for k in W:
        W[k] += dW[k]


def run_adding_updates(iterations: int, data: tuple[np.ndarray, np.ndarray],
                       W: dict[str, np.ndarray], hand_updates: Callable[..., Any],
                       model: Any, engine_loss: Callable[[Any, Tensor, Tensor], Tensor],
                       check_fd: bool, bar: Progress,
                       engine_reported: Callable[[Tensor], float] | None = None
                       ) -> SideBySideRun:
    """`run_side_by_side` for R2 and R3, whose recipes add updates ``W += dW`` with
    ``dW = -∂L/∂W`` (learning rate 1): ``hand_updates(X, y, W)`` gives ``(loss, dW)``, and the
    engine takes SGD steps (lr 1) on ``engine_loss(model, X, y)``."""
    X, y = data
    Xt, yt = Tensor(X), Tensor(y)

    def hand_step() -> tuple[float, dict[str, np.ndarray]]:
        loss, dW = hand_updates(X, y, W)
        add_updates(W, dW)
        return loss, {k: -v for k, v in dW.items()}  # the engine's gradient is -dW

    return run_side_by_side(iterations, hand_step, lambda: engine_loss(model, Xt, yt),
                            optim.SGD(model.parameters(), lr=1.0), model.weights(), check_fd,
                            bar, engine_reported)
