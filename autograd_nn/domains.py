"""Operand domains and gradient-check cases: what an op's registration says about where its
derivative may be checked by central differences (inside its domain, away from kinks and ties).

``autograd-nn gradcheck`` runs every registered op's cases. A unary or binary op whose operands
may be drawn anywhere in [-2, 2] needs none: `default_cases` makes them from its arity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

Domain = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
Constants = Callable[[np.random.Generator], dict[str, Any]]


def uniform(lo: float, hi: float) -> Domain:
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def away_from(kinks: tuple[float, ...], lo: float = -2.0, hi: float = 2.0,
              margin: float = 0.1) -> Domain:
    """Uniform on [lo, hi], moved at least ``margin`` away from every kink."""
    def draw(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        x = rng.uniform(lo, hi, shape)
        for k in kinks:
            near = np.abs(x - k) < margin
            x = np.where(near, np.where(x >= k, k + margin, k - margin), x)
        return x
    return draw


def nonzero(lo: float, hi: float) -> Domain:
    """Magnitudes in [lo, hi] with random signs."""
    return lambda rng, shape: rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(parity: int = 0, lo: float = -2.0, hi: float = 2.0) -> Domain:
    """Values without ties: distinct points of a grid at least 0.01 apart; operands drawn
    with parity 0 and 1 use interleaved grids and never tie with each other either."""
    def draw(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        n = int(np.prod(shape, dtype=int))
        k = rng.choice(200, size=n, replace=False) * 2 + parity
        return (lo + (hi - lo) * (k + 0.5) / 400).reshape(shape)
    return draw


def wellconditioned(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Matrices near a scaled identity: invertible, with separated singular values."""
    base = np.zeros(shape[-2:])
    k = min(shape[-2:])
    base[range(k), range(k)] = np.linspace(3.0, 1.5, k)
    return base + rng.uniform(-0.25, 0.25, shape)


STD = uniform(-2.0, 2.0)
POS = uniform(0.5, 2.0)
UNARY_SHAPES: list[tuple[int, ...]] = [(), (5,), (2, 3), (2, 1, 3)]
PAIRS: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
    ((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 2))]
AXES: list[tuple[Any, bool]] = [(None, False), (1, False), ((0, 2), True), (-1, True)]


@dataclass(frozen=True)
class Case:
    """One check: ``fn(*tensors, **constants(rng))`` on operands of ``shapes`` drawn from
    ``domains``."""

    label: str
    fn: Callable[..., Tensor]
    shapes: tuple[tuple[int, ...], ...]
    domains: tuple[Domain, ...]
    constants: Constants | None = None


CaseMaker = Callable[[Callable[..., "Tensor"]], Sequence[Case]]


def shape_label(s: tuple[int, ...]) -> str:
    return str(s) if len(s) != 1 else f"({s[0]},)"


def unary(domain: Domain = STD, shapes: Sequence[tuple[int, ...]] = UNARY_SHAPES) -> CaseMaker:
    """One case per shape, the operand drawn from ``domain``."""
    return lambda fn: [Case(shape_label(s), fn, (s,), (domain,)) for s in shapes]


def binary(x: Domain = STD, y: Domain = STD, symbol: str = ",") -> CaseMaker:
    """The broadcasting pairs of `PAIRS`, operands drawn from ``x`` and ``y``."""
    return lambda fn: [Case(f"{shape_label(a)} {symbol} {shape_label(b)}", fn, (a, b), (x, y))
                       for a, b in PAIRS]


def reduction(domain: Domain = STD) -> CaseMaker:
    """``fn(x, axis=..., keepdims=...)`` on a (2, 3, 4) operand for the axes of `AXES`."""
    def make(fn: Callable[..., Tensor]) -> list[Case]:
        return [Case(f"(2, 3, 4) axis={a} keepdims={k}",
                     lambda x, a=a, k=k: fn(x, axis=a, keepdims=k), ((2, 3, 4),), (domain,))
                for a, k in AXES]
    return make


Shapes = tuple[tuple[int, ...], ...]


def calls(*rows: tuple[str, Callable[..., Tensor] | None, Shapes],
          domain: Domain = STD) -> CaseMaker:
    """One case per ``(label, call, operand shapes)`` row, every operand drawn from ``domain``:
    ``call(op, *operands)`` applies the op function ``op`` (None: the op on the operands)."""
    return lambda fn: [Case(label, fn if call is None else partial(call, fn), shapes,
                            (domain,) * len(shapes)) for label, call, shapes in rows]


def default_cases(arity: int) -> CaseMaker | None:
    """The cases of an op that gives none: unary or binary over [-2, 2]; None otherwise."""
    return {1: unary(), 2: binary()}.get(arity)
