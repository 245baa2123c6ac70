"""The engine's side of a check: f run on fresh leaves, and its derivatives by
vector-Jacobian products (one per output element for a full Jacobian)."""

from __future__ import annotations

import numpy as np

from .. import autograd
from ..anomaly import AnomalyError, detect_anomaly
from ..tensor import Tensor
from .problem import Problem


class BackwardFailure(Exception):
    """The engine raised while computing a vector-Jacobian product."""


class Analytical:
    """The engine's derivatives of f's outputs w.r.t. the differentiable inputs, by VJPs."""

    def __init__(self, problem: Problem, outs: tuple, leaves: dict[int, Tensor]) -> None:
        self.problem, self.outs, self.leaves = problem, outs, leaves
        self._rows: dict[int, dict[int, np.ndarray] | BackwardFailure] = {}
        self.reached: set[int] = set()  # inputs some output's graph reaches
        self._installed = {i: t.data for i, t in leaves.items()}  # the arrays f ran on

    def in_graph(self, k: int) -> bool:
        o = self.outs[k]
        return isinstance(o, Tensor) and o.requires_grad

    def vjp(self, k: int, seed: np.ndarray) -> dict[int, np.ndarray]:
        """seedᵀ J for output ``k``, flattened, per input (zeros for inputs it does not use)."""
        zeros = {i: np.zeros(t.size) for i, t in self.leaves.items()}
        if not self.in_graph(k):
            return zeros
        o = self.outs[k]
        for i, t in self.leaves.items():  # live inputs: back to the data f's graph was made on
            if t.data is not self._installed[i]:
                t.data = self._installed[i]
        try:
            seed = np.asarray(seed, o.dtype).reshape(o.shape)
            gs = autograd.grad(o, list(self.leaves.values()), seed, retain_graph=True,
                             allow_unused=True)
        except Exception as e:  # the op's backward is under test: report, don't crash
            raise BackwardFailure(f"the backward pass raised {type(e).__name__}: {e}") from e
        self.reached.update(i for i, g in zip(self.leaves, gs) if g is not None)
        return {i: zeros[i] if g is None else np.asarray(g.data, dtype=np.float64).ravel()
                for i, g in zip(self.leaves, gs)}

    def rows(self, k: int) -> dict[int, np.ndarray]:
        """The Jacobian of output ``k``, one VJP per output element: ``{input: (m, n)}``."""
        if k not in self._rows:
            m = self.problem.out_size(k)
            jac = {i: np.zeros((m, t.size)) for i, t in self.leaves.items()}
            try:
                for r in range(m):
                    seed = np.zeros(m)
                    seed[r] = 1.0
                    for i, g in self.vjp(k, seed).items():
                        jac[i][r] = g
            except BackwardFailure as e:
                self._rows[k] = e
            else:
                self._rows[k] = jac
        rows = self._rows[k]
        if isinstance(rows, BackwardFailure):
            raise rows
        return rows


def forward(problem: Problem, sites: bool) -> tuple[tuple, list]:
    """Run f on fresh float64 leaves; with ``sites`` under detect_anomaly(), so that every node
    knows the user line that created it (retried without when that run raises)."""
    args = problem.arguments()
    if sites:
        try:
            with detect_anomaly():
                return problem.call(args), args
        except AnomalyError:
            args = problem.arguments()
    return problem.call(args), args
