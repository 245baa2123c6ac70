"""The catalog of ops that ``autograd-nn gradcheck`` and ``autograd-nn eps-sweep`` check: every
registered op's gradient-check cases (registry.py; the operand domains are in domains.py).

Each op has several cases: operand shapes (broadcasting pairs for the binary ops) and, per
operand, the domain its values are drawn from, kept inside the op's domain and away from its
kinks and ties (relu and abs at 0, clip's bounds, equal values in max/min/maximum/minimum), so
that central differences are valid. Constants (a where-condition, a target) are drawn with
the same seeded generator. Every case runs `gradcheck` and `gradgradcheck`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn
from ..domains import STD, Constants, Domain
from ..gradcheck import GradcheckPrecisionWarning, gradcheck, gradgradcheck
from ..registry import OPS
from ..tensor import Tensor

assert nn  # the layers register their ops (losses, windows, functionals) on import
__all__ = ["CATALOG", "KIND", "STD", "CaseResult", "OpCase", "known_ops", "run_case",
           "unknown_ops"]


@dataclass(frozen=True)
class OpCase:
    """One check: ``fn(*tensors, **constants)`` on operands of ``shapes`` drawn from
    ``domains``; ``constants(rng)`` draws non-differentiable extra arguments."""

    op: str
    label: str
    fn: Callable[..., Tensor]
    shapes: tuple[tuple[int, ...], ...]
    domains: tuple[Domain, ...]
    constants: Constants | None = None

    def inputs(self, rng: np.random.Generator, dtype: Any = np.float64) -> list[Tensor]:
        return [Tensor(d(rng, s).astype(dtype), requires_grad=True)
                for s, d in zip(self.shapes, self.domains)]

    def function(self, rng: np.random.Generator) -> Callable[..., Tensor]:
        """``fn`` with its constants drawn (once) from ``rng``."""
        consts = self.constants(rng) if self.constants is not None else {}
        return lambda *xs: self.fn(*xs, **consts)


CATALOG: dict[str, list[OpCase]] = {
    op.name: [OpCase(op.name, c.label, c.fn, c.shapes, c.domains, c.constants) for c in op.cases]
    for op in OPS.values() if op.cases
}
#: "primitive" or "composite"
KIND: dict[str, str] = {op.name: op.kind for op in OPS.values() if op.cases}


def known_ops() -> list[str]:
    """Every op name of the catalog, in catalog order."""
    return list(CATALOG)


def unknown_ops(names: list[str]) -> list[str]:
    return [n for n in names if n not in CATALOG]


# ---- running a case -----------------------------------------------------------------------------
@dataclass
class CaseResult:
    case: OpCase
    first: Any  # GradcheckResult of gradcheck
    second: Any  # GradcheckResult of gradgradcheck (None when the first order failed)
    error: str = ""  # an exception raised while checking

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.first) and bool(self.second)

    @staticmethod
    def worst(result: Any) -> float:
        if result is None:
            return float("nan")
        return max((p.max_rel_error for p in result.pairs), default=0.0)

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        head = f"{verdict}  {self.case.op:<20} {self.case.label:<44}"
        if self.error:
            return f"{head} error: {self.error}"
        parts = [f"1st max rel err {self.worst(self.first):.1e}"]
        parts.append("2nd not run" if self.second is None
                     else f"2nd max rel err {self.worst(self.second):.1e}")
        kinks = len(self.first.nondiff) + (len(self.second.nondiff) if self.second else 0)
        if kinks:
            parts.append(f"{kinks} non-differentiable point(s) reported")
        return head + "  " + "  ".join(parts)


def run_case(case: OpCase, rng: np.random.Generator, dtype: Any = np.float64,
             fast: bool = False, seed: int = 0) -> CaseResult:
    """gradcheck, then gradgradcheck, of one case with inputs drawn from ``rng``."""
    inputs = case.inputs(rng, dtype)
    fn = case.function(rng)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GradcheckPrecisionWarning)
            first = gradcheck(fn, inputs, raise_exception=False, fast_mode=fast, seed=seed)
            second = (gradgradcheck(fn, inputs, raise_exception=False, fast_mode=fast,
                                    seed=seed) if first else None)
    except Exception as e:  # a crash in an op is a failure of that case, not of the run
        return CaseResult(case, None, None, f"{type(e).__name__}: {e}")
    return CaseResult(case, first, second)
