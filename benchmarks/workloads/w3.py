"""W3: a long chain of elementwise ops on a shape-(1,) float64 tensor, forward + backward.

The chain repeats ``x * 1.0001``, ``x + 0.0001``, ``tanh(x)``; the loss is the chain's last
value and the gradient is d(last)/d(x0). W3 has 10,000 ops and is timed per op (the engine's
fixed cost per op); W3-1M has 1,000,000 ops and is run once, for survival (no recursion limit, no
stack overflow when the graph is freed) and memory (peak RSS of its process, and its growth per
op). The baseline keeps what a hand-written backward needs (the tanh outputs) and multiplies the
local derivatives in reverse, the same array operations as the engine's rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .common import Target, Workload

MUL, ADD = 1.0001, 0.0001
SIZES = {"W3": {"check": 1_000, "quick": 1_000, "full": 10_000},
         "W3-1M": {"check": 1_000, "quick": 3_000, "full": 1_000_000}}


def data_maker(key: str):
    def make_data(scale: str) -> dict[str, np.ndarray]:
        return {"x0": np.array([0.5]), "n_ops": np.array(SIZES[key][scale])}

    return make_data


def n_ops(data: dict[str, np.ndarray]) -> int:
    return int(data["n_ops"])


class NumpyChain:
    def __init__(self, data: dict[str, np.ndarray]) -> None:
        self.x0 = np.array(data["x0"])
        self.cycles, self.rem = divmod(n_ops(data), 3)

    def step(self) -> None:
        h = self.x0
        saved = []
        for _ in range(self.cycles):
            h = h * MUL
            h = h + ADD
            h = np.tanh(h)
            saved.append(h)
        if self.rem >= 1:
            h = h * MUL
        if self.rem == 2:
            h = h + ADD
        g = np.ones_like(h)
        if self.rem >= 1:
            g = g * MUL  # (the add's derivative is 1)
        for t in reversed(saved):
            g = g * (1 - t * t)
            g = g * MUL
        self.out, self.grad = h, g

    def results(self) -> dict[str, np.ndarray]:
        return {"loss": self.out.copy(), "dx0": self.grad.copy()}


def chain(x0: Any, tanh: Any, cycles: int, rem: int) -> Any:
    """``x*MUL``, ``+ADD``, ``tanh`` repeated ``cycles`` times, then ``rem`` more ops; the
    same code drives autograd_nn tensors and torch tensors."""
    h = x0
    for _ in range(cycles):
        h = tanh(h * MUL + ADD)
    if rem >= 1:
        h = h * MUL
    if rem == 2:
        h = h + ADD
    return h


class EngineChain:
    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag

        self.ag = ag
        self.x0 = ag.Tensor(data["x0"], requires_grad=True)
        self.cycles, self.rem = divmod(n_ops(data), 3)

    def step(self) -> None:
        h = chain(self.x0, self.ag.tanh, self.cycles, self.rem)
        self.x0.grad = None
        h.backward()
        self.out = h

    def results(self) -> dict[str, np.ndarray]:
        return {"loss": np.array(self.out.data), "dx0": np.array(self.x0.grad.data)}


class TorchChain:
    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import torch

        self.torch = torch
        self.x0 = torch.tensor(data["x0"], dtype=torch.float64, requires_grad=True)
        self.cycles, self.rem = divmod(n_ops(data), 3)

    def step(self) -> None:
        h = chain(self.x0, self.torch.tanh, self.cycles, self.rem)
        self.x0.grad = None
        h.backward()
        self.out = h

    def results(self) -> dict[str, np.ndarray]:
        return {"loss": self.out.detach().numpy().copy(), "dx0": self.x0.grad.numpy().copy()}


BUILDERS = {"numpy": NumpyChain, "autograd_nn": EngineChain, "torch": TorchChain}

W3 = Workload(
    key="W3",
    title="chain of 10,000 elementwise ops on shape (1,), float64 (time per op)",
    make_data=data_maker("W3"),
    builders=BUILDERS,
    ops=n_ops,
    target=Target("<= 3x numpy per op", max_ratio=3.0),
)

W3_BIG = Workload(
    key="W3-1M",
    title="chain of 1,000,000 elementwise ops, run once: survival and peak RSS",
    make_data=data_maker("W3-1M"),
    builders=BUILDERS,
    ops=n_ops,
    kind="once",
    target=Target("completes (B/op reported, not judged)"),
)
