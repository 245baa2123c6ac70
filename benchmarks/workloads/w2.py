"""W2 and W2s: an MLP with biases and ReLU, mean softmax cross-entropy, one SGD step.

- W2: 784 -> 256 -> 128 -> 10, batch 128, float32 (matmul-bound);
- W2s: 784 -> 16 -> 10, one sample, float64 (per-op overhead bound).

Initial weights are He-scaled normals, biases small normals, labels uniform over the 10 classes
(numpy Generator, seed 0). The engine computes the loss as a user would,
``-log_softmax(logits)[rows, labels].mean()``; PyTorch uses ``F.cross_entropy`` (the same
function, fused, as a PyTorch user writes it); the baseline writes out the well-known gradient
``(softmax - onehot) / batch``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .common import Target, Workload, copied

LR = 0.01


def data_maker(sizes: tuple[int, ...], batch: int, dtype: type) -> Callable[[str], dict]:
    def make_data(scale: str) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(0)
        d = {"X": rng.standard_normal((batch, sizes[0])).astype(dtype),
             "labels": rng.integers(0, sizes[-1], size=batch)}
        for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            d[f"W{i}"] = (rng.standard_normal((m, n)) * np.sqrt(2.0 / m)).astype(dtype)
            d[f"b{i}"] = (0.1 * rng.standard_normal(n)).astype(dtype)
        return d

    return make_data


def _param_names(data: dict) -> list[str]:
    n = sum(1 for k in data if k.startswith("W"))
    return [f"{p}{i}" for i in range(1, n + 1) for p in ("W", "b")]


class NumpyMLP:
    """Hand-written forward and backward: ReLU masks, (softmax - onehot) / batch, SGD."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        d = copied(data)
        self.X, self.labels = d["X"], d["labels"]
        self.rows = np.arange(len(self.labels))
        self.names = _param_names(d)
        self.p = {k: d[k] for k in self.names}

    def step(self) -> None:
        p, rows, labels = self.p, self.rows, self.labels
        nl = len(self.names) // 2
        acts, zs = [self.X], []
        for i in range(1, nl + 1):
            z = acts[-1] @ p[f"W{i}"] + p[f"b{i}"]
            zs.append(z)
            if i < nl:
                acts.append(np.maximum(z, 0))
        logits = zs[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = -np.mean(shifted[rows, labels] - np.log(s[:, 0]))
        dz = e / s
        dz[rows, labels] -= 1
        dz /= len(labels)
        grads = {}
        for i in range(nl, 0, -1):
            grads[f"W{i}"] = acts[i - 1].T @ dz
            grads[f"b{i}"] = dz.sum(axis=0)
            if i > 1:
                dz = (dz @ p[f"W{i}"].T) * (zs[i - 2] > 0)
        for k in self.names:
            p[k] -= LR * grads[k]
        self.loss, self.grads = loss, grads

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.asarray(self.loss)}
        out.update({"d" + k: g.copy() for k, g in self.grads.items()})
        out.update({k: v.copy() for k, v in self.p.items()})
        return out


class EngineMLP:
    """The MLP from autograd_nn ops, as a user writes it with raw tensors."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag

        self.ag = ag
        d = copied(data)
        self.X = ag.Tensor(d["X"])
        self.index = (np.arange(len(d["labels"])), d["labels"])
        self.names = _param_names(d)
        self.p = {k: ag.Tensor(d[k], requires_grad=True) for k in self.names}
        self.params = list(self.p.values())

    def step(self) -> None:
        ag, p = self.ag, self.p
        nl = len(self.names) // 2
        h = self.X
        for i in range(1, nl):
            h = ag.relu(h @ p[f"W{i}"] + p[f"b{i}"])
        logits = h @ p[f"W{nl}"] + p[f"b{nl}"]
        loss = -ag.log_softmax(logits, axis=1)[self.index].mean()
        for t in self.params:
            t.grad = None
        loss.backward()
        with ag.no_grad():
            for t in self.params:
                t -= LR * t.grad
        self.loss = loss

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.array(self.loss.data)}
        out.update({"d" + k: np.array(t.grad.data) for k, t in self.p.items()})
        out.update({k: np.array(t.data) for k, t in self.p.items()})
        return out


class TorchMLP:
    """The MLP in PyTorch: raw tensors, ``x @ W + b``, ``F.cross_entropy``."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import torch
        import torch.nn.functional as F

        self.torch, self.F = torch, F
        d = copied(data)
        self.X = torch.from_numpy(d["X"])
        self.labels = torch.from_numpy(d["labels"].astype(np.int64))
        self.names = _param_names(d)
        self.p = {k: torch.from_numpy(d[k]).requires_grad_(True) for k in self.names}
        self.params = list(self.p.values())

    def step(self) -> None:
        torch, p = self.torch, self.p
        nl = len(self.names) // 2
        h = self.X
        for i in range(1, nl):
            h = torch.relu(h @ p[f"W{i}"] + p[f"b{i}"])
        logits = h @ p[f"W{nl}"] + p[f"b{nl}"]
        loss = self.F.cross_entropy(logits, self.labels)
        for t in self.params:
            t.grad = None
        loss.backward()
        with torch.no_grad():
            for t in self.params:
                t -= LR * t.grad
        self.loss = loss

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": self.loss.detach().numpy().copy()}
        out.update({"d" + k: t.grad.numpy().copy() for k, t in self.p.items()})
        out.update({k: t.detach().numpy().copy() for k, t in self.p.items()})
        return out


BUILDERS = {"numpy": NumpyMLP, "autograd_nn": EngineMLP, "torch": TorchMLP}

W2 = Workload(
    key="W2",
    title="MLP 784-256-128-10, ReLU, softmax CE, batch 128, float32",
    make_data=data_maker((784, 256, 128, 10), 128, np.float32),
    builders=BUILDERS,
    target=Target("<= 1.05x numpy", max_ratio=1.05),
)

W2S = Workload(
    key="W2s",
    title="MLP 784-16-10, ReLU, softmax CE, batch 1, float64",
    make_data=data_maker((784, 16, 10), 1, np.float64),
    builders=BUILDERS,
    target=Target("<= 1.4x numpy and faster than torch", max_ratio=1.4, beat_torch=True),
)
