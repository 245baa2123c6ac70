"""The "compiled" engine: the autograd_nn formulation of each workload under ``ag.compile``.

Each builder compiles its whole step (forward, ``backward()`` and, for the networks, the update
by ``optim.SGD``, which computes ``p -= lr * grad`` as the eager version does) and traces it once
in the constructor, then puts the initial arrays back: the checked step and every timed step run
the generated code. ``compile_seconds`` is what that first (tracing) call cost.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .common import copied
from .w1 import LR as LR1
from .w1 import NAMES as W1_NAMES
from .w2 import LR as LR2
from .w2 import _param_names
from .w3 import chain, n_ops


def _trace_once(fn: Any, args: tuple, tensors: list) -> float:
    """Call ``fn`` once (it traces), then restore ``tensors``' arrays; the seconds it took."""
    saved = [t.numpy().copy() for t in tensors]
    t0 = time.perf_counter()
    fn(*args)
    took = time.perf_counter() - t0
    for t, a in zip(tensors, saved):
        t.numpy()[...] = a
        t.grad = None
    return took


class CompiledW1:
    """R1's step, compiled: forward, backward and the SGD update in one traced function."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag

        d = copied(data)
        self.X, self.y = ag.Tensor(d["X"]), ag.Tensor(d["y"])
        self.params = [ag.Tensor(d[n], requires_grad=True, name=n) for n in W1_NAMES]
        opt = ag.optim.SGD(self.params, lr=LR1)

        def step(X: Any, y: Any, W1: Any, W2: Any, W3: Any) -> Any:
            yhat = ag.sigmoid(ag.sigmoid(ag.sigmoid(X @ W1) @ W2) @ W3)
            J = (0.5 * (y - yhat) ** 2).sum()
            opt.zero_grad()
            J.backward()
            opt.step()
            return J

        self.fn = ag.compile(step)
        self.compile_seconds = _trace_once(self.fn, (self.X, self.y, *self.params), self.params)

    def step(self) -> None:
        self.J = self.fn(self.X, self.y, *self.params)

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.array(self.J.numpy())}
        out.update({"d" + n: np.array(W.grad.numpy()) for n, W in zip(W1_NAMES, self.params)})
        out.update({n: np.array(W.numpy()) for n, W in zip(W1_NAMES, self.params)})
        return out


class CompiledMLP:
    """W2's MLP step, compiled (forward, backward, SGD update)."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag

        d = copied(data)
        self.X = ag.Tensor(d["X"])
        index = (np.arange(len(d["labels"])), d["labels"])
        self.names = _param_names(d)
        self.p = {k: ag.Tensor(d[k], requires_grad=True, name=k) for k in self.names}
        self.params = list(self.p.values())
        opt = ag.optim.SGD(self.params, lr=LR2)
        nl = len(self.names) // 2

        def step(X: Any, *ps: Any) -> Any:
            p = dict(zip(self.names, ps))
            h = X
            for i in range(1, nl):
                h = ag.relu(h @ p[f"W{i}"] + p[f"b{i}"])
            logits = h @ p[f"W{nl}"] + p[f"b{nl}"]
            loss = -ag.log_softmax(logits, axis=1)[index].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        self.fn = ag.compile(step)
        self.compile_seconds = _trace_once(self.fn, (self.X, *self.params), self.params)

    def step(self) -> None:
        self.loss = self.fn(self.X, *self.params)

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.array(self.loss.numpy())}
        out.update({"d" + k: np.array(t.grad.numpy()) for k, t in self.p.items()})
        out.update({k: np.array(t.numpy()) for k, t in self.p.items()})
        return out


class CompiledChain:
    """W3's chain of elementwise ops and its backward, compiled."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag

        self.x0 = ag.Tensor(data["x0"], requires_grad=True)
        cycles, rem = divmod(n_ops(data), 3)

        def step(x0: Any) -> Any:
            x0.grad = None
            h = chain(x0, ag.tanh, cycles, rem)
            h.backward()
            return h

        self.fn = ag.compile(step)
        self.compile_seconds = _trace_once(self.fn, (self.x0,), [self.x0])

    def step(self) -> None:
        self.out = self.fn(self.x0)

    def results(self) -> dict[str, np.ndarray]:
        return {"loss": np.array(self.out.numpy()), "dx0": np.array(self.x0.grad.numpy())}


class CompiledW4:
    """sum(sigmoid(a * b + c)) and its backward, compiled."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        import autograd_nn as ag

        self.leaves = [ag.Tensor(data[k], requires_grad=True, name=k) for k in ("a", "b", "c")]

        def step(a: Any, b: Any, c: Any) -> Any:
            for t in (a, b, c):
                t.grad = None
            loss = ag.sigmoid(a * b + c).sum()
            loss.backward()
            return loss

        self.fn = ag.compile(step)
        self.compile_seconds = _trace_once(self.fn, tuple(self.leaves), self.leaves)

    def step(self) -> None:
        self.loss = self.fn(*self.leaves)

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.array(self.loss.numpy())}
        out.update({"d" + k: np.array(t.grad.numpy()) for k, t in zip("abc", self.leaves)})
        return out
