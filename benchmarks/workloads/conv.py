"""C1 and C2: one convolution layer of a digits-size CNN, forward + backward, float32.

- C1: batch 64, 1 -> 16 channels, 3x3 kernel, padding 1, 8x8 input (a CNN's first layer);
- C2: batch 64, 16 -> 32 channels, the same geometry (its second layer).

The loss is ``sum(R * conv2d(x, w, b))`` with a fixed random R, so every output gets a
different weight; the step computes the gradients of w, b and (C2) of x, as inside a network
(C1's input, like a network's images, needs no gradient, in both engines). R is a constant
tensor in both engines, made once (a plain ndarray operand would cost autograd_nn a private copy
per step, which torch, where R must be a tensor, does not measure).
The baseline is hand-written im2col in numpy: channels-last windows through a strided view,
one matrix product forward, two backward, the input gradient folded back window by window.
The target is PyTorch's own time (``F.conv2d``, one thread): at most 2x.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .common import Target, Workload, copied

BATCH, SIDE, K = 64, 8, 3


def data_maker(c_in: int, c_out: int) -> Callable[[str], dict]:
    def make_data(scale: str) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(5)
        n = BATCH if scale != "check" else 4
        bound = 1.0 / np.sqrt(c_in * K * K)
        return {"x": rng.standard_normal((n, c_in, SIDE, SIDE)).astype(np.float32),
                "w": rng.uniform(-bound, bound, (c_out, c_in, K, K)).astype(np.float32),
                "b": rng.uniform(-bound, bound, c_out).astype(np.float32),
                "R": rng.standard_normal((n, c_out, SIDE, SIDE)).astype(np.float32)}

    return make_data


class NumpyConv:
    """Hand-written conv2d (padding 1, stride 1) and its gradients."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        d = copied(data)
        self.x, self.w, self.b, self.R = d["x"], d["w"], d["b"], d["R"]
        self.needs_x = self.x.shape[1] > 1

    def step(self) -> None:
        x, w, r = self.x, self.w, self.R
        n, c, h, wd = x.shape
        o = w.shape[0]
        xp = np.zeros((n, h + 2, wd + 2, c), dtype=x.dtype)
        xp[:, 1:-1, 1:-1, :] = x.transpose(0, 2, 3, 1)
        s = xp.strides
        win = as_strided(xp, (n, h, wd, K, K, c), (s[0], s[1], s[2], s[1], s[2], s[3]))
        cols = win.reshape(n * h * wd, K * K * c)
        w2 = w.transpose(2, 3, 1, 0).reshape(K * K * c, o)
        y = cols @ w2 + self.b
        g = r.transpose(0, 2, 3, 1).reshape(n * h * wd, o)  # dloss/dy
        self.loss = np.sum(y * g)
        self.db = g.sum(axis=0)
        self.dw = (cols.T @ g).reshape(K, K, c, o).transpose(3, 2, 0, 1)
        if self.needs_x:
            gcols = (g @ w2.T).reshape(n, h, wd, K, K, c)
            gxp = np.zeros_like(xp)
            for i in range(K):
                for j in range(K):
                    gxp[:, i:i + h, j:j + wd, :] += gcols[:, :, :, i, j, :]
            self.dx = gxp[:, 1:-1, 1:-1, :].transpose(0, 3, 1, 2)

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.asarray(self.loss), "dw": self.dw.copy(), "db": self.db.copy()}
        if self.needs_x:
            out["dx"] = self.dx.copy()
        return out


class EngineConv:
    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag
        from autograd_nn.nn import functional as F

        d = copied(data)
        self.F = F
        self.needs_x = d["x"].shape[1] > 1
        self.x = ag.Tensor(d["x"], requires_grad=self.needs_x)
        self.w = ag.Tensor(d["w"], requires_grad=True)
        self.b = ag.Tensor(d["b"], requires_grad=True)
        self.R = ag.Tensor(d["R"])  # a constant tensor, made once, as torch's

    def step(self) -> None:
        for t in (self.x, self.w, self.b):
            t.grad = None
        loss = (self.F.conv2d(self.x, self.w, self.b, padding=1) * self.R).sum()
        loss.backward()
        self.loss = loss

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.array(self.loss.data), "dw": np.array(self.w.grad.data),
               "db": np.array(self.b.grad.data)}
        if self.needs_x:
            out["dx"] = np.array(self.x.grad.data)
        return out


class TorchConv:
    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import torch

        d = copied(data)
        self.torch = torch
        self.needs_x = d["x"].shape[1] > 1
        self.x = torch.tensor(d["x"], requires_grad=self.needs_x)
        self.w = torch.tensor(d["w"], requires_grad=True)
        self.b = torch.tensor(d["b"], requires_grad=True)
        self.R = torch.tensor(d["R"])

    def step(self) -> None:
        for t in (self.x, self.w, self.b):
            t.grad = None
        loss = (self.torch.nn.functional.conv2d(self.x, self.w, self.b, padding=1)
                * self.R).sum()
        loss.backward()
        self.loss = loss

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": self.loss.detach().numpy().copy(), "dw": self.w.grad.numpy().copy(),
               "db": self.b.grad.numpy().copy()}
        if self.needs_x:
            out["dx"] = self.x.grad.numpy().copy()
        return out


def _workload(key: str, c_in: int, c_out: int) -> Workload:
    return Workload(
        key=key,
        title=f"conv2d {c_in}->{c_out} ch, 3x3, 8x8, batch 64, fwd + bwd, float32",
        make_data=data_maker(c_in, c_out),
        builders={"numpy": NumpyConv, "autograd_nn": EngineConv, "torch": TorchConv},
        target=Target("<= 2x torch", max_torch_ratio=2.0),
    )


C1 = _workload("C1", 1, 16)
C2 = _workload("C2", 16, 32)
