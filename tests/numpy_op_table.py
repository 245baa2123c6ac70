"""The op table of the numpy surface beyond the core (issue 12): elementwise math, triangles
and diagonals, array manipulation, contractions, ordering and accumulation, linear algebra.

Rows have the same form as tests/core_op_table.py (an autograd_nn expression, the numpy
expression it must equal, operand shapes and domains) and are consumed by the same checks:
forward vs numpy, backward vs the finite-difference oracle, double backward (test_ops.py,
test_higher_order.py). Domains keep operands away from kinks, ties and discontinuities.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from core_op_table import STD, Domain, OpCase, away, grid, nonzero, uniform

import autograd_nn as ag

CASES: list[OpCase] = []

# ---- elementwise math ---------------------------------------------------------------------------
S1 = [(), (4,), (2, 3), (2, 1, 3)]
INTEGERS = tuple(float(k) for k in range(-3, 4))
HALVES = tuple(k + 0.5 for k in range(-3, 3))
UNARY: list[tuple[str, Callable, Callable, Domain]] = [
    ("tan", ag.tan, np.tan, uniform(-1.2, 1.2)),
    ("arcsin", ag.arcsin, np.arcsin, uniform(-0.9, 0.9)),
    ("arccos", ag.arccos, np.arccos, uniform(-0.9, 0.9)),
    ("arctan", ag.arctan, np.arctan, STD),
    ("sinh", ag.sinh, np.sinh, STD),
    ("cosh", ag.cosh, np.cosh, STD),
    ("arcsinh", ag.arcsinh, np.arcsinh, STD),
    ("arccosh", ag.arccosh, np.arccosh, uniform(1.2, 3.0)),
    ("arctanh", ag.arctanh, np.arctanh, uniform(-0.8, 0.8)),
    ("log2", ag.log2, np.log2, uniform(0.3, 3.0)),
    ("log10", ag.log10, np.log10, uniform(0.3, 3.0)),
    ("log1p", ag.log1p, np.log1p, uniform(-0.7, 2.0)),
    ("expm1", ag.expm1, np.expm1, STD),
    ("exp2", ag.exp2, np.exp2, STD),
    ("square", ag.square, np.square, STD),
    ("reciprocal", ag.reciprocal, np.reciprocal, nonzero(0.5, 2.0)),
    ("fabs", ag.fabs, np.fabs, away(-2, 2, (0.0,))),
    ("cbrt", ag.cbrt, np.cbrt, nonzero(0.3, 2.0)),
    ("sinc", ag.sinc, np.sinc, uniform(-2.5, 2.5)),
    ("deg2rad", ag.deg2rad, np.deg2rad, STD),
    ("rad2deg", ag.rad2deg, np.rad2deg, STD),
    ("floor", ag.floor, np.floor, away(-3, 3, INTEGERS)),
    ("ceil", ag.ceil, np.ceil, away(-3, 3, INTEGERS)),
    ("trunc", ag.trunc, np.trunc, away(-3, 3, INTEGERS)),
    ("rint", ag.rint, np.rint, away(-3, 3, HALVES)),
    ("round", ag.round, np.round, away(-3, 3, HALVES)),
    ("nan_to_num", ag.nan_to_num, np.nan_to_num, STD),
]
CASES += [OpCase(f"{n}-{s}", f, r, (s,), (d,)) for n, f, r, d in UNARY for s in S1]
# the same functions called through numpy (np.tan(t) dispatches to the op)
NP_UNARY = [n for n, *_ in UNARY if n not in ("nan_to_num", "round")]
CASES += [OpCase(f"np.{n}-(2, 3)", getattr(np, n), getattr(np, n), ((2, 3),), (d,))
          for n, _, _, d in UNARY if n in NP_UNARY]
CASES += [
    OpCase("round_decimals-(2, 3)", lambda x: ag.round(x, 1), lambda x: np.round(x, 1),
           ((2, 3),), (away(-1, 1, tuple(k / 10 + 0.05 for k in range(-10, 10)), 0.02),)),
    OpCase("np.round-(2, 3)", lambda x: np.round(x, 2), lambda x: np.round(x, 2), ((2, 3),),
           (away(-1, 1, tuple(k / 100 + 0.005 for k in range(-100, 100)), 0.002),)),
    OpCase("np.nan_to_num-(2, 3)", np.nan_to_num, np.nan_to_num, ((2, 3),), (STD,)),
    OpCase("np.radians-(2, 3)", np.radians, np.radians, ((2, 3),), (STD,)),
    OpCase("np.degrees-(2, 3)", np.degrees, np.degrees, ((2, 3),), (STD,)),
]

# binary: |x / y| in [1.5, 1.94] never reaches an integer, so remainder/fmod are smooth there
DIVIDEND, DIVISOR = nonzero(3.0, 3.3), nonzero(1.7, 2.0)
BINARY = [
    ("logaddexp", ag.logaddexp, np.logaddexp, (STD, STD)),
    ("logaddexp2", ag.logaddexp2, np.logaddexp2, (STD, STD)),
    ("arctan2", ag.arctan2, np.arctan2, (STD, nonzero(0.3, 2.0))),
    ("hypot", ag.hypot, np.hypot, (nonzero(0.3, 2.0), STD)),
    ("fmax", ag.fmax, np.fmax, (grid(-2, 2, 0), grid(-2, 2, 1))),
    ("fmin", ag.fmin, np.fmin, (grid(-2, 2, 0), grid(-2, 2, 1))),
    ("remainder", ag.remainder, np.remainder, (DIVIDEND, DIVISOR)),
    ("mod_operator", lambda x, y: x % y, np.remainder, (DIVIDEND, DIVISOR)),
    ("np.mod", np.mod, np.mod, (DIVIDEND, DIVISOR)),
    ("fmod", ag.fmod, np.fmod, (DIVIDEND, DIVISOR)),
    ("np.arctan2", np.arctan2, np.arctan2, (STD, nonzero(0.3, 2.0))),
]
PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 2)), ((3, 1), ())]
CASES += [OpCase(f"{n}-{a}-{b}", f, r, (a, b), d, broadcast=True)
          for n, f, r, d in BINARY for a, b in PAIRS]
CASES += [
    OpCase("rmod_scalar-(2, 3)", lambda y: 3.1 % y, lambda y: 3.1 % y, ((2, 3),), (DIVISOR,)),
    OpCase("mod_scalar-(2, 3)", lambda x: x % 1.8, lambda x: x % 1.8, ((2, 3),),
           (away(-3, 3, (-1.8, 0.0, 1.8)),)),
]

# ---- triangles and diagonals --------------------------------------------------------------------
TRIANGLES = [
    ("tril", lambda x: ag.tril(x), np.tril, (3, 4)),
    ("tril_k1", lambda x: ag.tril(x, 1), lambda x: np.tril(x, 1), (2, 3, 4)),
    ("tril_k-1_1d", lambda x: ag.tril(x, -1), lambda x: np.tril(x, -1), (4,)),
    ("triu", ag.triu, np.triu, (4, 3)),
    ("triu_k-2", lambda x: ag.triu(x, k=-2), lambda x: np.triu(x, k=-2), (2, 4, 4)),
    ("np.tril", lambda x: np.tril(x, 1), lambda x: np.tril(x, 1), (3, 3)),
    ("np.triu", np.triu, np.triu, (2, 3, 3)),
    ("diagonal", ag.diagonal, np.diagonal, (3, 4)),
    ("diagonal_offset", lambda x: ag.diagonal(x, 1), lambda x: np.diagonal(x, 1), (3, 4)),
    ("diagonal_offset_neg", lambda x: ag.diagonal(x, -2), lambda x: np.diagonal(x, -2), (4, 3)),
    ("diagonal_axes", lambda x: ag.diagonal(x, 0, 2, 0), lambda x: np.diagonal(x, 0, 2, 0),
     (3, 2, 4)),
    ("diagonal_method", lambda x: x.diagonal(axis1=-2, axis2=-1),
     lambda x: x.diagonal(axis1=-2, axis2=-1), (2, 3, 3)),
    ("np.diagonal", lambda x: np.diagonal(x, 1, -1, -2), lambda x: np.diagonal(x, 1, -1, -2),
     (2, 3, 4)),
    ("trace", ag.trace, np.trace, (3, 3)),
    ("trace_offset", lambda x: ag.trace(x, 1), lambda x: np.trace(x, 1), (3, 4)),
    ("trace_stacked", lambda x: ag.trace(x, 0, 1, 2), lambda x: np.trace(x, 0, 1, 2), (2, 3, 3)),
    ("trace_method", lambda x: x.trace(), lambda x: x.trace(), (4, 2)),
    ("np.trace", np.trace, np.trace, (3, 3)),
    ("diag_of_vector", ag.diag, np.diag, (3,)),
    ("diag_of_vector_k", lambda x: ag.diag(x, 2), lambda x: np.diag(x, 2), (3,)),
    ("diag_of_vector_k-1", lambda x: ag.diag(x, -1), lambda x: np.diag(x, -1), (2,)),
    ("diag_of_matrix", lambda x: ag.diag(x, 1), lambda x: np.diag(x, 1), (3, 4)),
    ("np.diag", np.diag, np.diag, (4,)),
]
CASES += [OpCase(n, f, r, (s,), (STD,)) for n, f, r, s in TRIANGLES]

# ---- end of the table

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case ids"
BROADCAST_CASES = {c.id.split("-")[0]: c for c in CASES if c.broadcast}
