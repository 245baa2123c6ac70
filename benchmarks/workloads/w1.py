"""W1: one training step of reference network R1 (3 -> 4 -> 5 -> 1, sigmoid after every layer,
no biases, J = sum(0.5 * (y - yhat)**2) over 4 rows, float64, W <- W - 0.1 * dJ/dW).

The baseline is R1's hand-derived backward pass (docs/reference-networks.md), written out:
deltas from the saved activations, sigma' = a * (1 - a).
"""

from __future__ import annotations

import numpy as np

from .common import Target, Workload, copied, np_sigmoid

LR = 0.1
NAMES = ("W1", "W2", "W3")


def make_data(scale: str) -> dict[str, np.ndarray]:
    """R1's data and initialisation: np.random.seed(1), then randn (3,4), (4,5), (5,1)."""
    rs = np.random.RandomState(1)  # the same stream as np.random.seed(1) + np.random.randn
    return {
        "X": np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float64),
        "y": np.array([[0], [1], [1], [0]], dtype=np.float64),
        "W1": rs.randn(3, 4),
        "W2": rs.randn(4, 5),
        "W3": rs.randn(5, 1),
    }


class NumpyW1:
    """Hand-derived backprop, as R1 states it."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        d = copied(data)
        self.X, self.y = d["X"], d["y"]
        self.W1, self.W2, self.W3 = d["W1"], d["W2"], d["W3"]

    def step(self) -> None:
        X, y, W1, W2, W3 = self.X, self.y, self.W1, self.W2, self.W3
        a2 = np_sigmoid(X @ W1)
        a3 = np_sigmoid(a2 @ W2)
        yhat = np_sigmoid(a3 @ W3)
        J = 0.5 * np.sum((y - yhat) ** 2)
        d4 = -(y - yhat) * (yhat * (1 - yhat))
        dW3 = a3.T @ d4
        d3 = (d4 @ W3.T) * (a3 * (1 - a3))
        dW2 = a2.T @ d3
        d2 = (d3 @ W2.T) * (a2 * (1 - a2))
        dW1 = X.T @ d2
        W1 -= LR * dW1
        W2 -= LR * dW2
        W3 -= LR * dW3
        self.J, self.grads = J, (dW1, dW2, dW3)

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.asarray(self.J)}
        out.update({"d" + n: g.copy() for n, g in zip(NAMES, self.grads)})
        out.update({n: getattr(self, n).copy() for n in NAMES})
        return out


class EngineW1:
    """The same network from autograd_nn ops; gradients from the engine."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag

        self.ag = ag
        d = copied(data)
        self.X, self.y = ag.Tensor(d["X"]), ag.Tensor(d["y"])
        self.params = [ag.Tensor(d[n], requires_grad=True) for n in NAMES]

    def step(self) -> None:
        ag = self.ag
        W1, W2, W3 = self.params
        yhat = ag.sigmoid(ag.sigmoid(ag.sigmoid(self.X @ W1) @ W2) @ W3)
        J = (0.5 * (self.y - yhat) ** 2).sum()
        for W in self.params:
            W.grad = None
        J.backward()
        with ag.no_grad():
            for W in self.params:
                W -= LR * W.grad
        self.J = J

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.array(self.J.data)}
        out.update({"d" + n: np.array(W.grad.data) for n, W in zip(NAMES, self.params)})
        out.update({n: np.array(W.data) for n, W in zip(NAMES, self.params)})
        return out


class TorchW1:
    """The same network in PyTorch (float64 tensors, autograd)."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import torch

        self.torch = torch
        d = copied(data)
        self.X, self.y = torch.from_numpy(d["X"]), torch.from_numpy(d["y"])
        self.params = [torch.from_numpy(d[n]).requires_grad_(True) for n in NAMES]

    def step(self) -> None:
        torch = self.torch
        W1, W2, W3 = self.params
        yhat = torch.sigmoid(torch.sigmoid(torch.sigmoid(self.X @ W1) @ W2) @ W3)
        J = (0.5 * (self.y - yhat) ** 2).sum()
        for W in self.params:
            W.grad = None
        J.backward()
        with torch.no_grad():
            for W in self.params:
                W -= LR * W.grad
        self.J = J

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": self.J.detach().numpy().copy()}
        out.update({"d" + n: W.grad.numpy().copy() for n, W in zip(NAMES, self.params)})
        out.update({n: W.detach().numpy().copy() for n, W in zip(NAMES, self.params)})
        return out


WORKLOAD = Workload(
    key="W1",
    title="R1 training step (3-4-5-1 sigmoid, 4 rows, float64)",
    make_data=make_data,
    builders={"numpy": NumpyW1, "autograd_nn": EngineW1, "torch": TorchW1},
    target=Target("<= 1.5x numpy and faster than torch", max_ratio=1.5, beat_torch=True),
)
