"""The numpy surface's cases of the ``autograd-nn gradcheck`` catalogue (issue 12), merged into
`catalog.CATALOG`: elementwise math, triangles and diagonals, array
manipulation, contractions, ordering and accumulation, linear algebra. Domains keep operands
inside each op's domain and away from its kinks, ties and discontinuities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import linalg, ops
from ..domains import STD, Case, Domain, away_from, binary, distinct, nonzero, shape_label, uniform
from ..domains import unary as _unary_cases

# Transitional: these ops are registered by ops/surface.py without cases; their cases stay
# here, by op name, until each family registers its functions one by one (with ``cases=``).
CASES: dict[str, list[Case]] = {}
KIND: dict[str, str] = {}
_shape = shape_label


def _add(op: str, cases: list[Case], kind: str = "primitive") -> None:
    CASES[op] = cases
    KIND[op] = kind


def OpCase(op: str, label: str, fn: Callable[..., Any], shapes: tuple[tuple[int, ...], ...],
           domains: tuple[Domain, ...], constants: Any = None) -> Case:  # noqa: N802
    return Case(label, fn, shapes, domains, constants)


def _unary(op: str, fn: Callable[..., Any], domain: Domain) -> None:
    _add(op, list(_unary_cases(domain)(fn)))


def _binary(op: str, fn: Callable[..., Any], domains: tuple[Domain, Domain], symbol: str) -> None:
    _add(op, list(binary(*domains, symbol)(fn)))


# ---- elementwise math ---------------------------------------------------------------------------
_INTEGERS = tuple(float(k) for k in range(-3, 4))
_HALVES = tuple(k + 0.5 for k in range(-3, 3))
for _name, _domain in [
    ("tan", uniform(-1.2, 1.2)), ("arcsin", uniform(-0.9, 0.9)), ("arccos", uniform(-0.9, 0.9)),
    ("arctan", STD), ("sinh", STD), ("cosh", STD), ("arcsinh", STD),
    ("arccosh", uniform(1.2, 3.0)), ("arctanh", uniform(-0.8, 0.8)),
    ("log2", uniform(0.3, 3.0)), ("log10", uniform(0.3, 3.0)), ("log1p", uniform(-0.7, 2.0)),
    ("expm1", STD), ("exp2", STD), ("square", STD), ("reciprocal", nonzero(0.5, 2.0)),
    ("fabs", away_from((0.0,))), ("cbrt", nonzero(0.3, 2.0)), ("sinc", uniform(-2.5, 2.5)),
    ("deg2rad", STD), ("rad2deg", STD), ("nan_to_num", STD),
    ("floor", away_from(_INTEGERS, -3, 3)), ("ceil", away_from(_INTEGERS, -3, 3)),
    ("trunc", away_from(_INTEGERS, -3, 3)), ("rint", away_from(_HALVES, -3, 3)),
    ("round", away_from(_HALVES, -3, 3)),
]:
    _unary(_name, getattr(ops, _name), _domain)
_DIVIDEND, _DIVISOR = nonzero(3.0, 3.3), nonzero(1.7, 2.0)  # |x / y| never an integer
_binary("logaddexp", ops.logaddexp, (STD, STD), "vs")
_binary("logaddexp2", ops.logaddexp2, (STD, STD), "vs")
_binary("arctan2", ops.arctan2, (STD, nonzero(0.3, 2.0)), "vs")
_binary("hypot", ops.hypot, (nonzero(0.3, 2.0), STD), "vs")
_binary("fmax", ops.fmax, (distinct(0), distinct(1)), "vs")
_binary("fmin", ops.fmin, (distinct(0), distinct(1)), "vs")
_binary("remainder", ops.remainder, (_DIVIDEND, _DIVISOR), "%")
_binary("fmod", ops.fmod, (_DIVIDEND, _DIVISOR), "fmod")

# ---- triangles and diagonals --------------------------------------------------------------------
_add("tril", [OpCase("tril", f"{_shape(s)} k={k}", lambda x, k=k: ops.tril(x, k), (s,), (STD,))
              for s, k in [((3, 4), 0), ((2, 3, 3), -1), ((4,), 1)]], "composite")
_add("triu", [OpCase("triu", f"{_shape(s)} k={k}", lambda x, k=k: ops.triu(x, k), (s,), (STD,))
              for s, k in [((3, 4), 0), ((2, 3, 3), 1)]], "composite")
_add("diagonal", [OpCase("diagonal", f"{_shape(s)} offset={o} axes={a}",
                         lambda x, o=o, a=a: ops.diagonal(x, o, *a), (s,), (STD,))
                  for s, o, a in [((3, 4), 1, (0, 1)), ((2, 3, 3), 0, (-2, -1))]], "composite")
_add("trace", [OpCase("trace", f"{_shape(s)}", ops.trace, (s,), (STD,))
               for s in [(3, 3), (3, 4, 2)]], "composite")
_add("diag", [OpCase("diag", f"{_shape(s)} k={k}", lambda x, k=k: ops.diag(x, k), (s,), (STD,))
              for s, k in [((3,), 0), ((2,), -1), ((3, 4), 1)]], "composite")

# ---- array manipulation -------------------------------------------------------------------------
_X = ((2, 3),)


def _composite(op: str, cases: list[tuple[str, object, tuple]]) -> None:
    _add(op, [OpCase(op, label, fn, shapes, (STD,) * len(shapes))  # type: ignore[arg-type]
              for label, fn, shapes in cases], "composite")


_composite("repeat", [("(2, 3) 2 axis=1", lambda x: ops.repeat(x, 2, axis=1), _X),
                      ("(2, 3) [1, 0] axis=0", lambda x: ops.repeat(x, [1, 0], axis=0), _X)])
_composite("tile", [("(2, 3) (2, 1, 2)", lambda x: ops.tile(x, (2, 1, 2)), _X)])
_composite("roll", [("(2, 3) 2", lambda x: ops.roll(x, 2), _X),
                    ("(2, 3) -1 axis=1", lambda x: ops.roll(x, -1, 1), _X)])
_composite("flip", [("(2, 3) axis=None", ops.flip, _X)])
_composite("rot90", [("(2, 3) k=1", ops.rot90, _X), ("(2, 3) k=3", lambda x: ops.rot90(x, 3), _X)])
_composite("moveaxis", [("(2, 3, 4) 0 -> -1", lambda x: ops.moveaxis(x, 0, -1), ((2, 3, 4),))])
_composite("pad", [(f"(2, 3) mode={m}", lambda x, m=m: ops.pad(x, ((1, 2), (2, 1)), m), _X)
                   for m in ("constant", "edge", "reflect", "symmetric", "wrap")])
_composite("diff", [("(2, 4) n=2", lambda x: ops.diff(x, 2), ((2, 4),))])
_composite("take", [("(2, 3) [0, 5, 5] flat", lambda x: ops.take(x, [0, 5, 5]), _X)])
_composite("take_along_axis", [("(2, 3) axis=1", lambda x: ops.take_along_axis(
    x, np.array([[2, 0], [1, 1]]), 1), _X)])
_composite("select", [("two conditions", lambda x, y: ops.select(
    [x.data > 0, x.data <= 0], [x * y, y]), ((2, 3), (3,)))])
_composite("vstack", [("(3,) (2, 3)", lambda a, b: ops.vstack([a, b]), ((3,), (2, 3)))])
_composite("hstack", [("(2, 1) (2, 3)", lambda a, b: ops.hstack([a, b]), ((2, 1), (2, 3)))])
_composite("dstack", [("(2,) (1, 2, 2)", lambda a, b: ops.dstack([a, b]), ((2,), (1, 2, 2)))])
_composite("column_stack", [("(3,) (3, 2)", lambda a, b: ops.column_stack([a, b]),
                             ((3,), (3, 2)))])
_composite("append", [("(2, 3) (4,) flat", lambda a, b: ops.append(a, b), ((2, 3), (4,)))])
_composite("block", [("[[(2, 2), (2, 1)], [(3,)]]", lambda a, b, c: ops.block([[a, b], [c]]),
                      ((2, 2), (2, 1), (3,)))])
_composite("array_split", [("(5, 2) 3 sections", lambda x: ops.array_split(x, 3)[1], ((5, 2),))])

# ---- contractions -------------------------------------------------------------------------------
_add("einsum", [OpCase("einsum", spec, lambda *xs, spec=spec: ops.einsum(spec, *xs), shapes,
                       (STD,) * len(shapes))
                for spec, shapes in [("ij,jk->ik", ((2, 3), (3, 4))), ("ii->i", ((3, 3),)),
                                     ("...ij,...jk", ((2, 1, 2, 3), (4, 3, 2))),
                                     ("ij,ij,ij->i", ((2, 3),) * 3)]])
_composite("tensordot", [("(2, 3, 4) (3, 4, 2) axes=2", ops.tensordot, ((2, 3, 4), (3, 4, 2)))])
_composite("dot", [("(2, 3, 4) . (2, 4, 3)", ops.dot, ((2, 3, 4), (2, 4, 3)))])
_composite("inner", [("(2, 3) (4, 3)", ops.inner, ((2, 3), (4, 3)))])
_composite("outer", [("(3,) (2,)", ops.outer, ((3,), (2,)))])
_composite("vdot", [("(2, 3) (3, 2)", ops.vdot, ((2, 3), (3, 2)))])
_composite("kron", [("(2, 3) (2, 2)", ops.kron, ((2, 3), (2, 2)))])
_composite("cross", [("(2, 3) x (3,)", ops.cross, ((2, 3), (3,)))])

# ---- ordering and accumulation ------------------------------------------------------------------
_add("sort", [OpCase("sort", "(3, 4) axis=-1 (distinct values)", ops.sort, ((3, 4),),
                     (distinct(),))], "composite")
_add("partition", [OpCase("partition", "(2, 5) kth=2 (distinct values)",
                          lambda x: ops.partition(x, 2), ((2, 5),), (distinct(),))], "composite")
_add("cumsum", [OpCase("cumsum", "(2, 3) axis=1", lambda x: ops.cumsum(x, 1), _X, (STD,))])
_add("cumprod", [OpCase("cumprod", "(2, 3) axis=1", lambda x: ops.cumprod(x, 1), _X,
                        (nonzero(0.5, 1.5),))])
_composite("gradient", [("(4, 3) axis=0 edge_order=2",
                         lambda x: ops.gradient(x, 0.5, axis=0, edge_order=2), ((4, 3),))])

# ---- linear algebra -----------------------------------------------------------------------------
def _wellconditioned(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Near a scaled identity: invertible, with separated singular values."""
    base = np.zeros(shape[-2:])
    k = min(shape[-2:])
    base[range(k), range(k)] = np.linspace(3.0, 1.5, k)
    return base + rng.uniform(-0.25, 0.25, shape)


def _linalg(op: str, cases: list[tuple[str, object, tuple]]) -> None:
    _add(op, [OpCase(op, label, fn, shapes, (_wellconditioned,) * len(shapes))  # type: ignore
              for label, fn, shapes in cases])


_L = ((3, 3),)
_linalg("inv", [("(3, 3)", linalg.inv, _L), ("(2, 2, 2)", linalg.inv, ((2, 2, 2),))])
_linalg("solve", [("(3, 3) (3, 2)", linalg.solve, ((3, 3), (3, 2)))])
_linalg("det", [("(3, 3)", linalg.det, _L), ("(2, 2, 2)", linalg.det, ((2, 2, 2),))])
_linalg("slogdet", [("(3, 3)", lambda a: linalg.slogdet(a).logabsdet, _L)])
_linalg("cholesky", [("(3, 3) lower", linalg.cholesky, _L)])
_linalg("eigh", [("(3, 3) eigenvalues and vectors",
                  lambda a: linalg.eigh(a).eigenvalues + linalg.eigh(a).eigenvectors[0], _L)])
_linalg("svd", [("(4, 2) reduced", lambda a: linalg.svd(a, full_matrices=False).U[0]
                 + linalg.svd(a, full_matrices=False).S, ((4, 2),))])
_linalg("qr", [("(4, 3)", lambda a: linalg.qr(a).Q[0] + linalg.qr(a).R[1], ((4, 3),))])
_linalg("pinv", [("(3, 2)", linalg.pinv, ((3, 2),))])
_linalg("matrix_power", [("(3, 3) ** 3", lambda a: linalg.matrix_power(a, 3), _L)])
_linalg("norm", [(f"(3, 3) ord={o}", lambda a, o=o: linalg.norm(a, o), _L)
                 for o in (None, "nuc", 2, 1, np.inf)])
