"""The op table of the numpy surface beyond the core (issue 12): elementwise math, triangles
and diagonals, array manipulation, contractions, ordering and accumulation, linear algebra.

Rows have the same form as tests/core_op_table.py (an autograd_nn expression, the numpy
expression it must equal, operand shapes and domains) and are consumed by the same checks:
forward vs numpy, backward vs the finite-difference oracle, double backward (test_ops.py,
test_higher_order.py). Domains keep operands away from kinks, ties and discontinuities.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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

# ---- array manipulation -------------------------------------------------------------------------
IDX = np.array([[2, 0], [1, 1]])
MANIPULATION = [
    ("repeat", lambda x: ag.repeat(x, 2), lambda x: np.repeat(x, 2), (2, 3)),
    ("repeat_axis", lambda x: ag.repeat(x, [1, 0, 3], axis=1),
     lambda x: np.repeat(x, [1, 0, 3], axis=1), (2, 3)),
    ("np.repeat", lambda x: np.repeat(x, 3, axis=-1), lambda x: np.repeat(x, 3, axis=-1), (2, 2)),
    ("tile", lambda x: ag.tile(x, 2), lambda x: np.tile(x, 2), (3,)),
    ("tile_2d", lambda x: ag.tile(x, (2, 1, 2)), lambda x: np.tile(x, (2, 1, 2)), (2, 3)),
    ("np.tile", lambda x: np.tile(x, (3, 1)), lambda x: np.tile(x, (3, 1)), (2, 2, 2)),
    ("roll", lambda x: ag.roll(x, 2), lambda x: np.roll(x, 2), (2, 3)),
    ("roll_axis", lambda x: ag.roll(x, -1, axis=1), lambda x: np.roll(x, -1, axis=1), (2, 3)),
    ("roll_axes", lambda x: ag.roll(x, (1, 5), (0, -1)), lambda x: np.roll(x, (1, 5), (0, -1)),
     (3, 4)),
    ("np.roll", lambda x: np.roll(x, 1, 0), lambda x: np.roll(x, 1, 0), (3, 2)),
    ("flip", ag.flip, np.flip, (2, 3, 2)),
    ("flip_axis", lambda x: ag.flip(x, (0, 2)), lambda x: np.flip(x, (0, 2)), (2, 3, 2)),
    ("flipud", ag.flipud, np.flipud, (3, 2)),
    ("fliplr", ag.fliplr, np.fliplr, (3, 2)),
    ("np.flip", lambda x: np.flip(x, -1), lambda x: np.flip(x, -1), (3, 2)),
    ("rot90", ag.rot90, np.rot90, (2, 3)),
    ("rot90_k2", lambda x: ag.rot90(x, 2), lambda x: np.rot90(x, 2), (2, 3)),
    ("rot90_k3_axes", lambda x: ag.rot90(x, -1, (2, 0)), lambda x: np.rot90(x, -1, (2, 0)),
     (2, 3, 4)),
    ("np.rot90", np.rot90, np.rot90, (3, 2)),
    ("moveaxis", lambda x: ag.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), (2, 3, 4)),
    ("moveaxis_tuple", lambda x: ag.moveaxis(x, (0, 1), (2, 0)),
     lambda x: np.moveaxis(x, (0, 1), (2, 0)), (2, 3, 4)),
    ("np.moveaxis", lambda x: np.moveaxis(x, -1, 1), lambda x: np.moveaxis(x, -1, 1), (2, 3, 4)),
    ("rollaxis", lambda x: ag.rollaxis(x, 2), lambda x: np.rollaxis(x, 2), (2, 3, 4)),
    ("rollaxis_start", lambda x: ag.rollaxis(x, 0, 2), lambda x: np.rollaxis(x, 0, 2),
     (2, 3, 4)),
    ("np.swapaxes", lambda x: np.swapaxes(x, 0, 1), lambda x: np.swapaxes(x, 0, 1), (2, 3)),
    ("pad_constant", lambda x: ag.pad(x, 1), lambda x: np.pad(x, 1), (2, 3)),
    ("pad_constant_values", lambda x: ag.pad(x, ((1, 0), (2, 1)), constant_values=((1, 2), (3, 4))),
     lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=((1, 2), (3, 4))), (2, 3)),
    ("pad_edge", lambda x: ag.pad(x, ((2, 1), (0, 3)), mode="edge"),
     lambda x: np.pad(x, ((2, 1), (0, 3)), mode="edge"), (2, 3)),
    ("pad_reflect", lambda x: ag.pad(x, (2, 3), "reflect"),
     lambda x: np.pad(x, (2, 3), "reflect"), (3, 4)),
    ("pad_symmetric", lambda x: ag.pad(x, 2, "symmetric"), lambda x: np.pad(x, 2, "symmetric"),
     (3,)),
    ("pad_wrap", lambda x: ag.pad(x, ((1, 1), (4, 0)), "wrap"),
     lambda x: np.pad(x, ((1, 1), (4, 0)), "wrap"), (2, 3)),
    ("np.pad", lambda x: np.pad(x, (1, 2), mode="reflect"),
     lambda x: np.pad(x, (1, 2), mode="reflect"), (2, 3, 3)),
    ("diff", ag.diff, np.diff, (2, 4)),
    ("diff_n2_axis0", lambda x: ag.diff(x, 2, axis=0), lambda x: np.diff(x, 2, axis=0), (4, 3)),
    ("diff_prepend_append", lambda x: ag.diff(x, prepend=0.5, append=np.ones((2, 2))),
     lambda x: np.diff(x, prepend=0.5, append=np.ones((2, 2))), (2, 3)),
    ("np.diff", lambda x: np.diff(x, n=3), lambda x: np.diff(x, n=3), (5,)),
    ("take", lambda x: ag.take(x, [0, 5, 5, 2]), lambda x: np.take(x, [0, 5, 5, 2]), (2, 3)),
    ("take_axis", lambda x: ag.take(x, IDX, axis=1), lambda x: np.take(x, IDX, axis=1),
     (2, 3, 2)),
    ("take_wrap", lambda x: ag.take(x, [-4, 7], axis=0, mode="wrap"),
     lambda x: np.take(x, [-4, 7], axis=0, mode="wrap"), (3, 2)),
    ("take_method", lambda x: x.take([1, 1], axis=-1), lambda x: x.take([1, 1], axis=-1),
     (2, 3)),
    ("np.take", lambda x: np.take(x, IDX), lambda x: np.take(x, IDX), (2, 3)),
    ("take_along_axis", lambda x: ag.take_along_axis(x, np.array([[2, 0, 0], [1, 2, 1]]), 1),
     lambda x: np.take_along_axis(x, np.array([[2, 0, 0], [1, 2, 1]]), 1), (2, 3)),
    ("take_along_axis_0", lambda x: ag.take_along_axis(x, np.array([[1], [0], [1]]), 0),
     lambda x: np.take_along_axis(x, np.array([[1], [0], [1]]), 0), (2, 3)),
    ("np.take_along_axis", lambda x: np.take_along_axis(x, np.argsort(x.data, -1), -1),
     lambda x: np.take_along_axis(x, np.argsort(x, -1), -1), (3, 3)),
    ("repeat_method", lambda x: x.repeat(2, axis=0), lambda x: x.repeat(2, axis=0), (2, 3)),
]
CASES += [OpCase(n, f, r, (s,), (STD,)) for n, f, r, s in MANIPULATION]


def _select(x: Any, y: Any, z: Any) -> Any:
    return np.select([x > 0.5, x < -0.5], [y, z * 2], default=-1.0)


def _ag_select(x: Any, y: Any, z: Any) -> Any:
    return ag.select([x > 0.5, x < -0.5], [y, z * 2], default=-1.0)


JOINS = [
    ("select", _ag_select, _select, ((2, 3), (3,), (2, 1))),
    ("np.select", lambda x, y, z: np.select([x.data > 0, x.data <= 0], [y, z]),
     lambda x, y, z: np.select([x > 0, x <= 0], [y, z]), ((2, 3), (2, 3), (3,))),
    ("append", lambda a, b, c: ag.append(a, b), lambda a, b, c: np.append(a, b),
     ((2, 3), (4,), (1,))),
    ("append_axis", lambda a, b, c: ag.append(a, c, axis=1), lambda a, b, c: np.append(a, c, 1),
     ((2, 3), (4,), (2, 2))),
    ("np.append", lambda a, b, c: np.append(a, b), lambda a, b, c: np.append(a, b),
     ((2, 3), (4,), (1,))),
    ("vstack", lambda a, b, c: ag.vstack([a, b, c]), lambda a, b, c: np.vstack([a, b, c]),
     ((3,), (2, 3), (1, 3))),
    ("hstack", lambda a, b, c: ag.hstack((a, b, c)), lambda a, b, c: np.hstack((a, b, c)),
     ((3,), (2,), (4,))),
    ("hstack_2d", lambda a, b, c: ag.hstack([a, b, c]), lambda a, b, c: np.hstack([a, b, c]),
     ((2, 1), (2, 3), (2, 2))),
    ("dstack", lambda a, b, c: ag.dstack([a, b, c]), lambda a, b, c: np.dstack([a, b, c]),
     ((2,), (1, 2), (1, 2, 3))),
    ("column_stack", lambda a, b, c: ag.column_stack([a, b, c]),
     lambda a, b, c: np.column_stack([a, b, c]), ((3,), (3, 2), (3,))),
    ("np.vstack", lambda a, b, c: np.vstack([a, b, c]), lambda a, b, c: np.vstack([a, b, c]),
     ((3,), (2, 3), (1, 3))),
    ("np.hstack", lambda a, b, c: np.hstack([a, b, c]), lambda a, b, c: np.hstack([a, b, c]),
     ((3,), (2,), (4,))),
    ("np.dstack", lambda a, b, c: np.dstack([a, b, c]), lambda a, b, c: np.dstack([a, b, c]),
     ((2, 2), (2, 2), (2, 2, 1))),
    ("np.column_stack", lambda a, b, c: np.column_stack([a, b, c]),
     lambda a, b, c: np.column_stack([a, b, c]), ((2,), (2,), (2, 3))),
    ("block", lambda a, b, c: ag.block([[a, b], [c]]),
     lambda a, b, c: np.block([[a, b], [c]]), ((2, 2), (2, 1), (3,))),  # (3,) -> (1, 3)
    ("block_3d", lambda a, b, c: ag.block([[[a, b]], [[c]]]),
     lambda a, b, c: np.block([[[a, b]], [[c]]]), ((1, 2, 3), (2, 1), (2, 4))),
    ("np.block", lambda a, b, c: np.block([[a, b], [c, 1.5]]),
     lambda a, b, c: np.block([[a, b], [c, 1.5]]), ((2,), (1,), (2,))),
    ("np.block_1d", lambda a, b, c: np.block([a, b, c]), lambda a, b, c: np.block([a, b, c]),
     ((2,), (3,), ())),
    ("np.concatenate_flat", lambda a, b, c: np.concatenate([a, b, c], axis=None),
     lambda a, b, c: np.concatenate([a, b, c], axis=None), ((2, 3), (4,), (1, 2))),
    ("np.stack", lambda a, b, c: np.stack((a, b, c), axis=-1),
     lambda a, b, c: np.stack((a, b, c), axis=-1), ((2, 3), (2, 3), (2, 3))),
    ("atleast_nd", lambda a, b, c: [ag.atleast_1d(a), *ag.atleast_2d(a, b), ag.atleast_3d(c),
                                    ag.atleast_3d(b)],
     lambda a, b, c: [np.atleast_1d(a), *np.atleast_2d(a, b), np.atleast_3d(c),
                      np.atleast_3d(b)], ((), (3,), (2, 3))),
    ("np.atleast_nd", lambda a, b, c: [np.atleast_1d(a), np.atleast_2d(b), np.atleast_3d(c)],
     lambda a, b, c: [np.atleast_1d(a), np.atleast_2d(b), np.atleast_3d(c)],
     ((), (3,), (2, 3))),
]
CASES += [OpCase(n, f, r, s, (STD,) * len(s)) for n, f, r, s in JOINS]
SPLITS = [
    ("array_split", lambda x: ag.array_split(x, 3), lambda x: np.array_split(x, 3), (5, 2)),
    ("array_split_axis", lambda x: ag.array_split(x, 4, axis=-1),
     lambda x: np.array_split(x, 4, axis=-1), (2, 6)),
    ("array_split_indices", lambda x: ag.array_split(x, [1, 4]),
     lambda x: np.array_split(x, [1, 4]), (5,)),
    ("np.array_split", lambda x: np.array_split(x, 2, 1), lambda x: np.array_split(x, 2, 1),
     (2, 3)),
    ("vsplit", lambda x: ag.vsplit(x, 2), lambda x: np.vsplit(x, 2), (4, 3)),
    ("hsplit", lambda x: ag.hsplit(x, [1]), lambda x: np.hsplit(x, [1]), (2, 3)),
    ("hsplit_1d", lambda x: ag.hsplit(x, 2), lambda x: np.hsplit(x, 2), (4,)),
    ("dsplit", lambda x: ag.dsplit(x, 2), lambda x: np.dsplit(x, 2), (2, 1, 4)),
    ("np.vsplit", lambda x: np.vsplit(x, [1]), lambda x: np.vsplit(x, [1]), (3, 2)),
]
CASES += [OpCase(n, f, r, (s,), (STD,)) for n, f, r, s in SPLITS]

# ---- contractions -------------------------------------------------------------------------------
def _ein(spec: str) -> tuple[Callable, Callable]:
    return (lambda *xs: ag.einsum(spec, *xs)), (lambda *xs: np.einsum(spec, *xs))


EINSUM = [
    ("ij,jk->ik", ((2, 3), (3, 4))),
    ("ij,jk", ((2, 3), (3, 4))),  # implicit output
    ("ba,ca", ((2, 3), (4, 3))),  # implicit output in alphabetical order: "bc"
    ("ii->i", ((3, 3),)),  # a diagonal
    ("ii", ((3, 3),)),  # a trace
    ("iij->j", ((2, 2, 3),)),
    ("ij->", ((2, 3),)),
    ("ij->ji", ((2, 3),)),
    ("i,i", ((3,), (3,))),
    ("i,j->ij", ((3,), (2,))),
    ("ij,ij,ij->i", ((2, 3), (2, 3), (2, 3))),
    ("...ij,...jk->...ik", ((2, 1, 2, 3), (4, 3, 2))),  # batched with broadcasting
    ("...i,...i", ((2, 3), (3,))),
    ("i...->...", ((3, 2, 2),)),
    ("bij,bjk,kl->bil", ((2, 2, 3), (2, 3, 2), (2, 2))),
    ("ijk,k->i", ((2, 3, 4), (4,))),
    ("ij,ji->", ((3, 3), (3, 3))),
    ("i,ij,j", ((2,), (2, 2), (2,))),
]
CASES += [OpCase(f"einsum {spec}", *_ein(spec), shapes, (STD,) * len(shapes))
          for spec, shapes in EINSUM]
CASES += [
    OpCase("einsum optimize", lambda a, b, c: ag.einsum("ij,jk,kl->il", a, b, c, optimize=True),
           lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c), ((2, 3), (3, 4), (4, 2)),
           (STD,) * 3),
    OpCase("np.einsum", lambda a, b: np.einsum("ij,kj->ik", a, b, optimize="greedy"),
           lambda a, b: np.einsum("ij,kj->ik", a, b), ((2, 3), (4, 3)), (STD,) * 2),
]
CONTRACTIONS = [
    ("tensordot", lambda a, b: ag.tensordot(a, b), np.tensordot, ((2, 3, 4), (3, 4, 2))),
    ("tensordot_int1", lambda a, b: ag.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
     ((2, 3), (3, 2))),
    ("tensordot_pairs", lambda a, b: ag.tensordot(a, b, ([0, 2], [2, 1])),
     lambda a, b: np.tensordot(a, b, ([0, 2], [2, 1])), ((2, 3, 4), (3, 4, 2))),
    ("tensordot_0", lambda a, b: ag.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
     ((2,), (3,))),
    ("np.tensordot", lambda a, b: np.tensordot(a, b, axes=([1], [0])),
     lambda a, b: np.tensordot(a, b, axes=([1], [0])), ((2, 3), (3, 2))),
    ("dot_nd", ag.dot, np.dot, ((2, 3, 4), (2, 4, 3))),
    ("dot_nd_1d", ag.dot, np.dot, ((2, 3, 4), (4,))),
    ("dot_1d_nd", ag.dot, np.dot, ((4,), (2, 4, 3))),
    ("dot_2d", ag.dot, np.dot, ((2, 3), (3, 2))),
    ("dot_scalar", ag.dot, np.dot, ((), (2, 3))),
    ("dot_method", lambda a, b: a.dot(b), lambda a, b: a.dot(b), ((3,), (3,))),
    ("np.dot_nd", np.dot, np.dot, ((2, 2, 3), (3, 2))),
    ("inner", ag.inner, np.inner, ((2, 3), (4, 3))),
    ("inner_scalar", ag.inner, np.inner, ((), (3,))),
    ("np.inner", np.inner, np.inner, ((3,), (2, 2, 3))),
    ("outer", ag.outer, np.outer, ((3,), (2, 2))),
    ("np.outer", np.outer, np.outer, ((2,), (3,))),
    ("vdot", ag.vdot, np.vdot, ((2, 3), (3, 2))),
    ("np.vdot", np.vdot, np.vdot, ((4,), (2, 2))),
    ("kron", ag.kron, np.kron, ((2, 3), (2, 2))),
    ("kron_mixed", ag.kron, np.kron, ((3,), (2, 1, 2))),
    ("np.kron", np.kron, np.kron, ((2,), (3,))),
    ("cross", ag.cross, np.cross, ((3,), (3,))),
    ("cross_broadcast", ag.cross, np.cross, ((2, 3), (3,))),
    ("cross_axes", lambda a, b: ag.cross(a, b, axisa=0, axisb=1, axisc=0),
     lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0), ((3, 2), (2, 3))),
    ("cross_axis", lambda a, b: ag.cross(a, b, axis=0), lambda a, b: np.cross(a, b, axis=0),
     ((3, 2), (3, 2))),
    ("np.cross", np.cross, np.cross, ((4, 3), (4, 3))),
]
CASES += [OpCase(n, f, r, s, (STD,) * len(s)) for n, f, r, s in CONTRACTIONS]

# ---- ordering and accumulation ------------------------------------------------------------------
ORDERING = [
    ("sort", ag.sort, np.sort, (3, 4), grid(-2, 2)),
    ("sort_axis0", lambda x: ag.sort(x, axis=0), lambda x: np.sort(x, axis=0), (3, 4), grid(-2, 2)),
    ("sort_none", lambda x: ag.sort(x, None), lambda x: np.sort(x, None), (2, 3), grid(-2, 2)),
    ("np.sort", lambda x: np.sort(x, kind="mergesort"), np.sort, (5,), grid(-2, 2)),
    ("partition", lambda x: ag.partition(x, 2), lambda x: np.partition(x, 2), (2, 5),
     grid(-2, 2)),
    ("partition_kths", lambda x: ag.partition(x, (0, 3), axis=0),
     lambda x: np.partition(x, (0, 3), axis=0), (5, 2), grid(-2, 2)),
    ("np.partition", lambda x: np.partition(x, -1), lambda x: np.partition(x, -1), (4,),
     grid(-2, 2)),
    ("cumsum", ag.cumsum, np.cumsum, (2, 3), STD),
    ("cumsum_axis", lambda x: ag.cumsum(x, axis=-2), lambda x: np.cumsum(x, axis=-2), (2, 3, 2),
     STD),
    ("cumsum_method", lambda x: x.cumsum(0), lambda x: x.cumsum(0), (4,), STD),
    ("np.cumsum", lambda x: np.cumsum(x, 1), lambda x: np.cumsum(x, 1), (2, 3), STD),
    ("cumprod", ag.cumprod, np.cumprod, (2, 3), nonzero(0.5, 1.5)),
    ("cumprod_axis", lambda x: ag.cumprod(x, axis=1), lambda x: np.cumprod(x, axis=1), (2, 4, 2),
     nonzero(0.5, 1.5)),
    ("cumprod_method", lambda x: x.cumprod(0), lambda x: x.cumprod(0), (4,), nonzero(0.5, 1.5)),
    ("np.cumprod", lambda x: np.cumprod(x, 0), lambda x: np.cumprod(x, 0), (3, 2),
     nonzero(0.5, 1.5)),
    ("gradient_1d", ag.gradient, np.gradient, (5,), STD),
    ("gradient_spacing", lambda x: ag.gradient(x, 0.5), lambda x: np.gradient(x, 0.5), (4,), STD),
    ("gradient_2d", ag.gradient, np.gradient, (3, 4), STD),
    ("gradient_axis_edge2", lambda x: ag.gradient(x, 2.0, axis=1, edge_order=2),
     lambda x: np.gradient(x, 2.0, axis=1, edge_order=2), (2, 4), STD),
    ("gradient_coordinates", lambda x: ag.gradient(x, np.array([0.0, 0.5, 1.5, 1.7, 3.0])),
     lambda x: np.gradient(x, np.array([0.0, 0.5, 1.5, 1.7, 3.0])), (5,), STD),
    ("gradient_coordinates_edge2", lambda x: ag.gradient(x, [0.0, 0.4, 1.0, 2.2],
                                                         edge_order=2),
     lambda x: np.gradient(x, [0.0, 0.4, 1.0, 2.2], edge_order=2), (4,), STD),
    ("np.gradient", lambda x: np.gradient(x, 1.0, 2.0), lambda x: np.gradient(x, 1.0, 2.0),
     (3, 3), STD),
]
CASES += [OpCase(n, f, r, (s,), (d,)) for n, f, r, s, d in ORDERING]

# ---- linear algebra -----------------------------------------------------------------------------
def wellconditioned(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Stacked matrices near 1.5 I (square) or near a scaled partial identity: invertible,
    full rank, with well-separated singular values (vectors: uniform on [-1, 1])."""
    if len(shape) < 2:
        return rng.uniform(-1.0, 1.0, shape)
    m, n = shape[-2], shape[-1]
    base = np.zeros((m, n))
    k = min(m, n)
    base[range(k), range(k)] = np.linspace(1.0, 2.5, k)[::-1] + 0.5
    return base + rng.uniform(-0.25, 0.25, shape)


def separated(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Matrices whose symmetric completion from the lower triangle is positive definite with
    eigenvalues about 1 apart (the upper triangle is random: numpy ignores it)."""
    n = shape[-1]
    return np.diag(np.arange(1.0, n + 1) + 1.0) + rng.uniform(-0.2, 0.2, shape)


L = ag.linalg
LINALG = [
    ("inv", L.inv, np.linalg.inv, ((3, 3),), wellconditioned),
    ("inv_stacked", L.inv, np.linalg.inv, ((2, 2, 2),), wellconditioned),
    ("np.linalg.inv", np.linalg.inv, np.linalg.inv, ((3, 3),), wellconditioned),
    ("solve_vector", L.solve, np.linalg.solve, ((3, 3), (3,)), wellconditioned),
    ("solve_matrix", L.solve, np.linalg.solve, ((3, 3), (3, 2)), wellconditioned),
    ("solve_batched", L.solve, np.linalg.solve, ((2, 3, 3), (1, 3, 2)), wellconditioned),
    ("np.linalg.solve", np.linalg.solve, np.linalg.solve, ((2, 2), (2, 4)), wellconditioned),
    ("det", L.det, np.linalg.det, ((3, 3),), wellconditioned),
    ("det_stacked", L.det, np.linalg.det, ((2, 1, 3, 3),), wellconditioned),
    ("np.linalg.det", np.linalg.det, np.linalg.det, ((2, 2),), STD),
    ("slogdet", lambda a: L.slogdet(a).logabsdet, lambda a: np.linalg.slogdet(a)[1],
     ((2, 3, 3),), wellconditioned),
    ("np.linalg.slogdet", lambda a: np.linalg.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1],
     ((3, 3),), wellconditioned),
    ("cholesky", L.cholesky, np.linalg.cholesky, ((3, 3),), separated),
    ("cholesky_stacked", L.cholesky, np.linalg.cholesky, ((2, 3, 3),), separated),
    ("cholesky_upper", lambda a: L.cholesky(a, upper=True),
     lambda a: np.linalg.cholesky(a, upper=True), ((3, 3),), separated),
    ("np.linalg.cholesky", np.linalg.cholesky, np.linalg.cholesky, ((2, 2),), separated),
    ("eigh", lambda a: list(L.eigh(a)), lambda a: list(np.linalg.eigh(a)), ((3, 3),),
     separated),
    ("eigh_upper_stacked", lambda a: list(L.eigh(a, "U")), lambda a: list(np.linalg.eigh(a, "U")),
     ((2, 3, 3),), separated),
    ("eigvalsh", L.eigvalsh, np.linalg.eigvalsh, ((4, 4),), separated),
    ("np.linalg.eigh", lambda a: list(np.linalg.eigh(a)), lambda a: list(np.linalg.eigh(a)),
     ((2, 2),), separated),
    ("svd_square", lambda a: list(L.svd(a)), lambda a: list(np.linalg.svd(a)), ((3, 3),),
     wellconditioned),
    ("svd_tall", lambda a: list(L.svd(a, full_matrices=False)),
     lambda a: list(np.linalg.svd(a, full_matrices=False)), ((4, 2),), wellconditioned),
    ("svd_wide_stacked", lambda a: list(L.svd(a, full_matrices=False)),
     lambda a: list(np.linalg.svd(a, full_matrices=False)), ((2, 2, 3),), wellconditioned),
    ("svd_values", lambda a: L.svd(a, compute_uv=False),
     lambda a: np.linalg.svd(a, compute_uv=False), ((3, 4),), wellconditioned),
    ("svdvals", L.svdvals, np.linalg.svdvals, ((2, 4, 3),), wellconditioned),
    ("np.linalg.svd", lambda a: list(np.linalg.svd(a, full_matrices=False)),
     lambda a: list(np.linalg.svd(a, full_matrices=False)), ((3, 2),), wellconditioned),
    ("qr", lambda a: list(L.qr(a)), lambda a: list(np.linalg.qr(a)), ((4, 3),),
     wellconditioned),
    ("qr_square_stacked", lambda a: list(L.qr(a)), lambda a: list(np.linalg.qr(a)),
     ((2, 3, 3),), wellconditioned),
    ("qr_r", lambda a: L.qr(a, "r"), lambda a: np.linalg.qr(a, "r"), ((3, 2),),
     wellconditioned),
    ("np.linalg.qr", lambda a: list(np.linalg.qr(a)), lambda a: list(np.linalg.qr(a)),
     ((3, 3),), wellconditioned),
    ("pinv", L.pinv, np.linalg.pinv, ((3, 2),), wellconditioned),
    ("pinv_wide_stacked", L.pinv, np.linalg.pinv, ((2, 2, 3),), wellconditioned),
    ("pinv_square", L.pinv, np.linalg.pinv, ((3, 3),), wellconditioned),
    ("np.linalg.pinv", np.linalg.pinv, np.linalg.pinv, ((2, 3),), wellconditioned),
    ("matrix_power_3", lambda a: L.matrix_power(a, 3), lambda a: np.linalg.matrix_power(a, 3),
     ((3, 3),), STD),
    ("matrix_power_6_stacked", lambda a: L.matrix_power(a, 6),
     lambda a: np.linalg.matrix_power(a, 6), ((2, 2, 2),), uniform(-0.6, 0.6)),
    ("matrix_power_-2", lambda a: L.matrix_power(a, -2), lambda a: np.linalg.matrix_power(a, -2),
     ((3, 3),), wellconditioned),
    ("matrix_power_0", lambda a: L.matrix_power(a, 0), lambda a: np.linalg.matrix_power(a, 0),
     ((3, 3),), STD),
    ("np.linalg.matrix_power", lambda a: np.linalg.matrix_power(a, 2),
     lambda a: np.linalg.matrix_power(a, 2), ((2, 2),), STD),
]
CASES += [OpCase(n, f, r, s, (d,) * len(s)) for n, f, r, s, d in LINALG]
NZ, DISTINCT, WELL = nonzero(0.3, 2.0), grid(0.3, 2.0), wellconditioned
NORMS = [  # (keyword arguments, shape, domain: away from abs kinks, ties and repeated values)
    ({}, (2, 3, 2), STD),
    ({"keepdims": True}, (2, 3), STD),
    ({"ord": 1}, (4,), NZ),
    ({"ord": 3, "axis": 0}, (3, 2), NZ),
    ({"ord": 0.5, "axis": -1, "keepdims": True}, (2, 3), NZ),
    ({"ord": np.inf, "axis": 1}, (2, 3), DISTINCT),
    ({"ord": -np.inf}, (4,), DISTINCT),
    ({"ord": 2, "axis": -1}, (2, 3), STD),
    ({"ord": "fro"}, (3, 2), STD),
    ({"ord": "fro", "axis": (0, 2), "keepdims": True}, (2, 3, 2), STD),
    ({"ord": "nuc"}, (3, 2), WELL),
    ({"ord": 2}, (2, 3), WELL),
    ({"ord": -2, "axis": (2, 1)}, (2, 3, 3), WELL),
    ({"ord": 1}, (3, 3), NZ),
    ({"ord": -1, "axis": (1, 0), "keepdims": True}, (3, 2), NZ),
    ({"ord": np.inf}, (2, 3), NZ),
    ({"ord": -np.inf, "axis": (-1, -2)}, (2, 3, 2), NZ),
]
CASES += [OpCase(f"norm {kw} {s}", lambda x, kw=kw: ag.linalg.norm(x, **kw),
                 lambda x, kw=kw: np.linalg.norm(x, **kw), (s,), (d,)) for kw, s, d in NORMS]
CASES += [OpCase("np.linalg.norm", lambda x: np.linalg.norm(x, axis=0),
                 lambda x: np.linalg.norm(x, axis=0), ((3, 2),), (STD,))]

# ---- end of the table

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case ids"
BROADCAST_CASES = {c.id.split("-")[0]: c for c in CASES if c.broadcast}
