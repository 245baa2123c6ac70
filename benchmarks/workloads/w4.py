"""W4: ``sum(sigmoid(a * b + c))`` on 10**6-element float64 arrays, forward + backward (the
gradients of a, b and c). Bound by array passes, not by Python: the engine can beat the naive
hand-written numpy by making fewer passes (sigmoid's backward from its saved output, in-place
work on arrays it owns)."""

from __future__ import annotations

import numpy as np

from .common import Target, Workload, np_sigmoid

SIZE = 1_000_000


def make_data(scale: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4)
    n = SIZE if scale != "check" else 1_000
    return {k: rng.standard_normal(n) for k in ("a", "b", "c")}


class NumpyW4:
    """The naive hand-written version: forward as written, backward from the textbook rules."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        self.a, self.b, self.c = (np.array(data[k]) for k in ("a", "b", "c"))

    def step(self) -> None:
        a, b, c = self.a, self.b, self.c
        s = np_sigmoid(a * b + c)
        loss = s.sum()
        dz = s * (1 - s)  # dloss/ds = 1
        self.loss, self.grads = loss, (dz * b, dz * a, dz)

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.asarray(self.loss)}
        out.update({"d" + k: g.copy() for k, g in zip("abc", self.grads)})
        return out


class EngineW4:
    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag

        self.ag = ag
        self.leaves = [ag.Tensor(data[k], requires_grad=True) for k in ("a", "b", "c")]

    def step(self) -> None:
        a, b, c = self.leaves
        for t in self.leaves:
            t.grad = None
        loss = self.ag.sigmoid(a * b + c).sum()
        loss.backward()
        self.loss = loss

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.array(self.loss.data)}
        out.update({"d" + k: np.array(t.grad.data) for k, t in zip("abc", self.leaves)})
        return out


class TorchW4:
    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import torch

        self.torch = torch
        self.leaves = [torch.tensor(data[k], requires_grad=True) for k in ("a", "b", "c")]

    def step(self) -> None:
        a, b, c = self.leaves
        for t in self.leaves:
            t.grad = None
        loss = self.torch.sigmoid(a * b + c).sum()
        loss.backward()
        self.loss = loss

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": self.loss.detach().numpy().copy()}
        out.update({"d" + k: t.grad.numpy().copy() for k, t in zip("abc", self.leaves)})
        return out


W4 = Workload(
    key="W4",
    title="sum(sigmoid(a*b + c)), 10^6 float64, forward + backward",
    make_data=make_data,
    builders={"numpy": NumpyW4, "autograd_nn": EngineW4, "torch": TorchW4},
    target=Target("<= 0.9x numpy", max_ratio=0.9),
)
