"""The jax engines (optional extra ``bench``: ``pip install -e .[bench]``).

- ``jax``: eager jax.numpy; every step calls ``jax.value_and_grad(loss)`` (made once) and, for
  the networks, updates the parameters with eager ``p - lr * g``, as a jax user writes it without
  ``jit``;
- ``jaxjit``: the whole step (forward, gradients and the SGD update) is one function under
  ``jax.jit``; it takes the parameters and returns the updated ones (donated, so XLA may reuse
  their buffers), the loss and the gradients. Its first call (trace + XLA compile + one run) is
  timed in the constructor, on copies of the initial parameters, and reported as
  ``compile_seconds``; the checked step and the timed steps run the compiled code.

Both return the same arrays as every other engine (loss, gradients and, for the networks, the
updated parameters) and every step ends with ``jax.block_until_ready`` (jax dispatches work
asynchronously; the clock must not stop before the arrays exist). Workloads that are float64 run
with ``jax_enable_x64`` (set on import, here); with one thread per worker, XLA's CPU client is
limited to one thread through ``XLA_FLAGS`` set before jax is first imported.

W3 under ``jax.jit`` compiles only at the "quick" size (1,000 ops, about 2.5 s of CPU); the full
10,000-op chain took about 5 minutes of CPU (10 minutes elapsed on this 2-core machine) in XLA's
compiler, so ``jaxjit`` skips it (`Skip`) rather than hold up the run. jax is imported by the
constructors only: a process measuring another engine never loads it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from .common import Skip, copied
from .w1 import LR as LR1
from .w1 import NAMES as W1_NAMES
from .w2 import LR as LR2
from .w2 import _param_names
from .w3 import chain, n_ops

XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
JIT_CHAIN_LIMIT = 3_000  # ops: XLA's compile time grows faster than linearly with the chain


def load_jax(threads: int | None = None) -> Any:
    """``import jax`` with float64 enabled. ``threads=1`` before jax's first import also limits
    XLA's CPU client to one thread (``XLA_FLAGS``, read when the backend starts)."""
    if threads == 1 and "jax" not in sys.modules:
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {XLA_ONE_THREAD}".strip()
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


@dataclass
class Problem:
    """A workload as jax sees it: ``loss(params, *consts)`` is a scalar; ``params`` are the
    arrays differentiated (and, when ``lr`` is set, updated by SGD); ``loss_shape`` is the shape
    of the baseline's reported loss."""

    params: dict[str, np.ndarray]
    consts: tuple[np.ndarray, ...]
    loss: Callable[..., Any]
    lr: float | None = None
    loss_shape: tuple[int, ...] = ()


def w1_problem(jax: Any, data: dict[str, np.ndarray]) -> Problem:
    d = copied(data)
    s = jax.nn.sigmoid

    def loss(p: dict, X: Any, y: Any) -> Any:
        yhat = s(s(s(X @ p["W1"]) @ p["W2"]) @ p["W3"])
        return (0.5 * (y - yhat) ** 2).sum()

    return Problem({n: d[n] for n in W1_NAMES}, (d["X"], d["y"]), loss, LR1)


def mlp_problem(jax: Any, data: dict[str, np.ndarray]) -> Problem:
    d = copied(data)
    names = _param_names(d)
    nl = len(names) // 2

    def loss(p: dict, X: Any, rows: Any, labels: Any) -> Any:
        h = X
        for i in range(1, nl):
            h = jax.nn.relu(h @ p[f"W{i}"] + p[f"b{i}"])
        logits = h @ p[f"W{nl}"] + p[f"b{nl}"]
        return -jax.nn.log_softmax(logits, axis=1)[rows, labels].mean()

    consts = (d["X"], np.arange(len(d["labels"])), d["labels"])
    return Problem({k: d[k] for k in names}, consts, loss, LR2)


def chain_problem(jax: Any, data: dict[str, np.ndarray]) -> Problem:
    cycles, rem = divmod(n_ops(data), 3)

    def loss(p: dict) -> Any:
        return chain(p["x0"], jax.numpy.tanh, cycles, rem).sum()

    return Problem({"x0": np.array(data["x0"])}, (), loss, loss_shape=(1,))


def w4_problem(jax: Any, data: dict[str, np.ndarray]) -> Problem:
    def loss(p: dict) -> Any:
        return jax.nn.sigmoid(p["a"] * p["b"] + p["c"]).sum()

    return Problem({k: np.array(data[k]) for k in "abc"}, (), loss)


def conv_problem(jax: Any, data: dict[str, np.ndarray]) -> Problem:
    """C1/C2: ``sum(R * conv2d(x, w, b))``, padding 1; x is differentiated when it has more
    than one channel (C2), as in the baseline."""
    d = copied(data)
    needs_x = d["x"].shape[1] > 1

    def loss(p: dict, R: Any, *x: Any) -> Any:
        y = jax.lax.conv_general_dilated(p["x"] if needs_x else x[0], p["w"], (1, 1),
                                         ((1, 1), (1, 1)),
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return ((y + p["b"][:, None, None]) * R).sum()

    names = ("x", "w", "b") if needs_x else ("w", "b")
    consts = (d["R"],) if needs_x else (d["R"], d["x"])
    return Problem({k: d[k] for k in names}, consts, loss)


class _JaxEngine:
    """What both jax engines share: the problem on the device, and the results."""

    loss: Any  # after a step: the loss, and the gradients by parameter name
    grads: dict[str, Any]

    def __init__(self, problem: Callable[[Any, dict], Problem], data: dict[str, np.ndarray]):
        jax = self.jax = load_jax()
        self.problem = pb = problem(jax, data)
        self.params = {k: jax.numpy.array(v) for k, v in pb.params.items()}
        self.consts = tuple(jax.numpy.array(c) for c in pb.consts)

    def results(self) -> dict[str, np.ndarray]:
        out = {"loss": np.array(self.loss).reshape(self.problem.loss_shape)}
        out.update({"d" + k: np.array(g) for k, g in self.grads.items()})
        if self.problem.lr is not None:
            out.update({k: np.array(p) for k, p in self.params.items()})
        return out


class JaxEager(_JaxEngine):
    """Eager jax: ``value_and_grad`` without ``jit``, then the update op by op."""

    def __init__(self, problem: Callable[[Any, dict], Problem], data: dict[str, np.ndarray]):
        super().__init__(problem, data)
        self.value_and_grad = self.jax.value_and_grad(self.problem.loss)

    def step(self) -> None:
        self.loss, self.grads = self.value_and_grad(self.params, *self.consts)
        lr = self.problem.lr
        if lr is not None:
            self.params = {k: p - lr * self.grads[k] for k, p in self.params.items()}
        self.jax.block_until_ready((self.loss, self.grads, self.params))


class JaxJit(_JaxEngine):
    """The whole step under ``jax.jit``: parameters in (donated), updated parameters out."""

    def __init__(self, problem: Callable[[Any, dict], Problem], data: dict[str, np.ndarray]):
        if problem is chain_problem and n_ops(data) > JIT_CHAIN_LIMIT:
            raise Skip(f"jax.jit of the {n_ops(data):,}-op chain: XLA compiles for minutes "
                       "(about 5 min of CPU measured for 10,000 ops)")
        super().__init__(problem, data)
        jax, pb = self.jax, self.problem
        value_and_grad = jax.value_and_grad(pb.loss)

        def train_step(params: dict, *consts: Any) -> tuple:
            loss, grads = value_and_grad(params, *consts)
            if pb.lr is not None:
                params = {k: p - pb.lr * grads[k] for k, p in params.items()}
            return params, loss, grads

        self.fn = jax.jit(train_step, donate_argnums=(0,) if pb.lr is not None else ())
        scratch = {k: jax.numpy.array(v) for k, v in pb.params.items()}
        t0 = time.perf_counter()
        jax.block_until_ready(self.fn(scratch, *self.consts))
        self.compile_seconds = time.perf_counter() - t0

    def step(self) -> None:
        self.params, self.loss, self.grads = self.fn(self.params, *self.consts)
        self.jax.block_until_ready((self.params, self.loss, self.grads))


PROBLEMS: dict[str, Callable[[Any, dict], Problem]] = {
    "W1": w1_problem, "W2s": mlp_problem, "W2": mlp_problem, "W3": chain_problem,
    "W4": w4_problem, "C1": conv_problem, "C2": conv_problem,
}


def builders(key: str) -> dict[str, Callable[[dict[str, np.ndarray]], Any]]:
    """The ``jax`` and ``jaxjit`` builders of workload ``key``."""
    pb = PROBLEMS[key]
    return {"jax": partial(JaxEager, pb), "jaxjit": partial(JaxJit, pb)}
