"""The one table of ops that drives the op tests (test_ops.py, test_higher_order.py).

Each row gives an autograd_nn expression, the numpy expression it must equal, operand shapes,
and the domain every operand is drawn from (kept away from kinks and ties, so central
differences are valid). Rows marked ``broadcast`` also run on hypothesis-drawn broadcastable
shape pairs. Conventions at non-differentiable points are tested separately (test_ops.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_nn as ag

Domain = Callable[[np.random.Generator, tuple], np.ndarray]


# ---- operand domains ----------------------------------------------------------------------------
def uniform(lo: float, hi: float) -> Domain:
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def away(lo: float, hi: float, kinks: tuple, margin: float = 0.1) -> Domain:
    """Uniform on [lo, hi] but at least ``margin`` from every kink."""

    def draw(rng: np.random.Generator, shape: tuple) -> np.ndarray:
        x = rng.uniform(lo, hi, shape)
        for k in kinks:
            near = np.abs(x - k) < margin
            x = np.where(near, np.where(x >= k, k + margin, k - margin), x)
        return x

    return draw


def nonzero(lo: float, hi: float) -> Domain:
    """Magnitudes in [lo, hi] with random signs."""
    return lambda rng, shape: rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


def grid(lo: float, hi: float, parity: int = 0, slots: int = 200) -> Domain:
    """Distinct values (no ties): a random subset of a fine grid on [lo, hi]. Operands drawn with
    parity 0 and parity 1 use interleaved grids, so they never tie with each other either."""

    def draw(rng: np.random.Generator, shape: tuple) -> np.ndarray:
        n = int(np.prod(shape))
        k = rng.choice(slots, size=n, replace=False) * 2 + parity
        return (lo + (hi - lo) * (k + 0.5) / (2 * slots)).reshape(shape)

    return draw


STD = uniform(-2.0, 2.0)
POS = uniform(0.5, 2.0)


@dataclass(frozen=True)
class OpCase:
    id: str
    fn: Callable[..., Any]  # autograd_nn expression on Tensors (-> Tensor or list of Tensors)
    ref: Callable[..., Any]  # the numpy expression it must equal
    shapes: tuple  # one shape per operand
    domains: tuple  # one Domain per operand
    consts: Callable[[np.random.Generator, tuple], dict] | None = None  # constant kwargs
    broadcast: bool = False  # also run on hypothesis-drawn broadcastable shape pairs
    tags: frozenset = field(default_factory=frozenset)


def _bshape(*shapes: tuple) -> tuple:
    return np.broadcast_shapes(*shapes)


def _where_consts(rng: np.random.Generator, shapes: tuple) -> dict:
    return {"cond": rng.random(_bshape(*shapes)) < 0.5}


def _const_matrix(shape: tuple) -> Callable[[np.random.Generator, tuple], dict]:
    return lambda rng, shapes: {"c": rng.standard_normal(shape)}


def _lse(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


# ---- elementwise and arithmetic -----------------------------------------------------------------
S1 = [(), (4,), (2, 3), (2, 1, 3)]  # shapes for unary ops
UNARY = [
    ("negative", lambda x: -x, lambda x: -x, STD),
    ("negative_fn", ag.negative, np.negative, STD),
    ("exp", ag.exp, np.exp, STD),
    ("exp_np", np.exp, np.exp, STD),  # np.exp(t) routes to the op
    ("log", ag.log, np.log, uniform(0.3, 3.0)),
    ("sqrt", ag.sqrt, np.sqrt, uniform(0.3, 3.0)),
    ("abs", ag.abs, np.abs, away(-2, 2, (0.0,))),
    ("sin", ag.sin, np.sin, STD),
    ("cos", lambda x: x.cos(), np.cos, STD),
    ("tanh", ag.tanh, np.tanh, STD),
    ("sigmoid", ag.sigmoid, lambda x: 1 / (1 + np.exp(-x)), uniform(-4, 4)),
    ("relu", ag.relu, lambda x: np.maximum(x, 0), away(-2, 2, (0.0,))),
    ("leaky_relu", lambda x: ag.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
     away(-2, 2, (0.0,))),
    ("softplus", ag.softplus, lambda x: np.log1p(np.exp(x)), uniform(-4, 4)),
    ("clip", lambda x: ag.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
     away(-2, 2, (-0.5, 0.7))),
    ("clip_lower_only", lambda x: x.clip(-0.5, None), lambda x: np.maximum(x, -0.5),
     away(-2, 2, (-0.5,))),
    ("pow_int3", lambda x: x**3, lambda x: x**3, STD),
    ("pow_2", lambda x: x**2, lambda x: x**2, STD),
    ("pow_half", lambda x: x**0.5, np.sqrt, POS),
    ("pow_neg", lambda x: ag.power(x, -1.5), lambda x: x**-1.5, POS),
    ("pow_zero", lambda x: x**0, lambda x: x**0, STD),
    ("rpow_scalar_base", lambda x: 2.0**x, lambda x: 2.0**x, STD),
    ("rsub_scalar", lambda x: 2.0 - x, lambda x: 2.0 - x, STD),
    ("rdiv_scalar", lambda x: 3.0 / x, lambda x: 3.0 / x, nonzero(0.5, 2)),
    ("div_scalar", lambda x: x / 4.0, lambda x: x / 4.0, STD),
    ("square_by_mul", lambda x: x * x, lambda x: x * x, STD),
    ("astype_same", lambda x: ag.astype(x, np.float64), lambda x: x, STD),
]
CASES: list[OpCase] = [
    OpCase(f"{n}-{s}", f, r, (s,), (d,)) for n, f, r, d in UNARY for s in S1
]

BINARY = [  # (name, fn, ref, domains): run on fixed pairs and on hypothesis-drawn pairs
    ("add", lambda x, y: x + y, np.add, (STD, STD)),
    ("add_fn", ag.add, np.add, (STD, STD)),
    ("subtract", lambda x, y: x - y, np.subtract, (STD, STD)),
    ("multiply", lambda x, y: x * y, np.multiply, (STD, STD)),
    ("divide", lambda x, y: x / y, np.divide, (STD, nonzero(0.5, 2))),
    ("power_tensor", lambda x, y: x**y, np.power, (POS, STD)),
    ("maximum", ag.maximum, np.maximum, (grid(-2, 2, 0), grid(-2, 2, 1))),
    ("minimum", ag.minimum, np.minimum, (grid(-2, 2, 0), grid(-2, 2, 1))),
]
PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 2)), ((3, 1), ())]
CASES += [
    OpCase(f"{n}-{a}-{b}", f, r, (a, b), d, broadcast=True)
    for n, f, r, d in BINARY for a, b in PAIRS
]
CASES += [
    OpCase(f"where-{a}-{b}", lambda x, y, cond: ag.where(cond, x, y),
           lambda x, y, cond: np.where(cond, x, y), (a, b), (STD, STD),
           consts=_where_consts, broadcast=True)
    for a, b in PAIRS
]

# ---- matmul: 1-d, 2-d, batched N-d with broadcast batch dims, 1-d x N-d -------------------------
MATMUL = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
          ((2, 1, 2, 3), (4, 3, 2)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,)), ((1, 2, 3), (5, 3, 2))]
CASES += [OpCase(f"matmul-{a}-{b}", lambda x, y: x @ y, np.matmul, (a, b), (STD, STD))
          for a, b in MATMUL]
CASES += [
    OpCase("matmul_fn-(3, 2)-(2, 2)", ag.matmul, np.matmul, ((3, 2), (2, 2)), (STD, STD)),
    OpCase("ndarray@tensor", lambda x, c: c @ x, lambda x, c: c @ x, ((3, 2),), (STD,),
           consts=_const_matrix((4, 3))),
    OpCase("ndarray*tensor", lambda x, c: c * x, lambda x, c: c * x, ((3, 2),), (STD,),
           consts=_const_matrix((2, 3, 2))),
    OpCase("tensor@ndarray", lambda x, c: x @ c, lambda x, c: x @ c, ((2, 4),), (STD,),
           consts=_const_matrix((4, 3))),
]

# ---- reductions ---------------------------------------------------------------------------------
AXES = [(None, False), (None, True), (1, False), (-1, True), ((0, 2), False), ((2, 0), True),
        (-2, False)]
REDUCTIONS = [
    ("sum", lambda x, a, k: ag.sum(x, axis=a, keepdims=k), np.sum, STD),
    ("mean", lambda x, a, k: x.mean(axis=a, keepdims=k), np.mean, STD),
    ("max", lambda x, a, k: ag.max(x, axis=a, keepdims=k), np.max, grid(-2, 2)),
    ("min", lambda x, a, k: x.min(axis=a, keepdims=k), np.min, grid(-2, 2)),
    ("var", lambda x, a, k: ag.var(x, axis=a, keepdims=k), np.var, STD),
    ("std", lambda x, a, k: x.std(axis=a, keepdims=k), np.std, STD),
    ("prod", lambda x, a, k: ag.prod(x, axis=a, keepdims=k), np.prod, nonzero(0.6, 1.4)),
    ("logsumexp", lambda x, a, k: ag.logsumexp(x, axis=a, keepdims=k), _lse, STD),
    ("np.sum", lambda x, a, k: np.sum(x, axis=a, keepdims=k), np.sum, STD),
]


def _reduction_case(name: str, f: Callable, r: Callable, d: Domain, axis: Any,
                    keepdims: bool) -> OpCase:
    return OpCase(f"{name}-axis={axis}-keepdims={keepdims}",
                  lambda x: f(x, axis, keepdims),
                  lambda x: r(x, axis=axis, keepdims=keepdims), ((2, 3, 4),), (d,))


CASES += [_reduction_case(n, f, r, d, a, k) for n, f, r, d in REDUCTIONS for a, k in AXES]
CASES += [
    OpCase("var-ddof=1", lambda x: ag.var(x, axis=0, ddof=1), lambda x: np.var(x, 0, ddof=1),
           ((3, 2),), (STD,)),
    OpCase("std-ddof=1", lambda x: ag.std(x, ddof=1), lambda x: np.std(x, ddof=1),
           ((3, 2),), (STD,)),
    OpCase("sum-1d", ag.sum, np.sum, ((5,),), (STD,)),
    OpCase("max-0d", ag.max, np.max, ((),), (STD,)),
    OpCase("prod-1d-with-negatives", ag.prod, np.prod, ((5,),), (nonzero(0.5, 1.5),)),
]
for ax in (0, 1, -1):
    CASES += [
        OpCase(f"softmax-axis={ax}", lambda x, ax=ax: ag.softmax(x, axis=ax),
               lambda x, ax=ax: _softmax(x, ax), ((2, 3, 4),), (STD,)),
        OpCase(f"log_softmax-axis={ax}", lambda x, ax=ax: x.log_softmax(axis=ax),
               lambda x, ax=ax: np.log(_softmax(x, ax)), ((2, 3, 4),), (STD,)),
    ]
CASES += [
    OpCase("softmax-1d", ag.softmax, lambda x: _softmax(x, -1), ((5,),), (STD,)),
    OpCase("log_softmax-1d", ag.log_softmax, lambda x: np.log(_softmax(x, -1)), ((5,),), (STD,)),
]

# ---- shape ops ----------------------------------------------------------------------------------
X = ((2, 3, 4),)
MASK = np.array([[True, False, True], [False, False, True]])
SHAPE_OPS = [
    ("reshape", lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), X),
    ("reshape_-1", lambda x: ag.reshape(x, (3, -1)), lambda x: x.reshape(3, -1), X),
    ("transpose_perm", lambda x: ag.transpose(x, (2, 0, 1)), lambda x: x.transpose(2, 0, 1), X),
    ("transpose_method", lambda x: x.transpose(1, 2, 0), lambda x: x.transpose(1, 2, 0), X),
    ("transpose_default", ag.transpose, np.transpose, X),
    (".T", lambda x: x.T, lambda x: x.T, ((2, 3),)),
    ("swapaxes", lambda x: ag.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2), X),
    ("swapaxes_neg", lambda x: x.swapaxes(-1, -2), lambda x: np.swapaxes(x, -1, -2), X),
    ("squeeze_all", ag.squeeze, np.squeeze, ((2, 1, 3, 1),)),
    ("squeeze_axis", lambda x: ag.squeeze(x, -1), lambda x: np.squeeze(x, -1), ((2, 1, 3, 1),)),
    ("expand_dims_0", lambda x: ag.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), ((2, 3),)),
    ("expand_dims_-1", lambda x: ag.expand_dims(x, -1), lambda x: np.expand_dims(x, -1),
     ((2, 3),)),
    ("expand_dims_tuple", lambda x: ag.expand_dims(x, (0, 2)),
     lambda x: np.expand_dims(x, (0, 2)), ((2, 3),)),
    ("broadcast_to", lambda x: ag.broadcast_to(x, (2, 3, 4)),
     lambda x: np.broadcast_to(x, (2, 3, 4)), ((3, 1),)),
    ("broadcast_to_scalar", lambda x: ag.broadcast_to(x, (2, 2)),
     lambda x: np.broadcast_to(x, (2, 2)), ((),)),
    ("flatten", ag.flatten, np.ravel, X),
    ("getitem_int", lambda x: x[1], lambda x: x[1], X),
    ("getitem_slices", lambda x: x[1:, ::2], lambda x: x[1:, ::2], X),
    ("getitem_negative_steps", lambda x: x[::-1, 2:0:-1, ::-2],
     lambda x: x[::-1, 2:0:-1, ::-2], X),
    ("getitem_ellipsis_none", lambda x: x[..., None, 1], lambda x: x[..., None, 1], X),
    ("getitem_int_array_repeated", lambda x: x[[0, 1, 0, 0]], lambda x: x[[0, 1, 0, 0]], X),
    ("getitem_two_int_arrays", lambda x: x[[0, 1, 1], [2, 2, 0]],
     lambda x: x[[0, 1, 1], [2, 2, 0]], X),
    ("getitem_mixed", lambda x: x[:, [1, 1, 0], 1:3], lambda x: x[:, [1, 1, 0], 1:3], X),
    ("getitem_bool_mask", lambda x: x[MASK], lambda x: x[MASK], ((2, 3, 4),)),
    ("getitem_bool_mask_axis1", lambda x: x[:, np.array([True, False, True, True])],
     lambda x: x[:, np.array([True, False, True, True])], ((3, 4),)),
    ("getitem_fn", lambda x: ag.getitem(x, (slice(None), 0)), lambda x: x[:, 0], ((3, 4),)),
    ("split_sections", lambda x: ag.split(x, 3, axis=1), lambda x: np.split(x, 3, axis=1),
     ((2, 3, 2),)),
    ("split_indices", lambda x: ag.split(x, [1, 3], axis=-1),
     lambda x: np.split(x, [1, 3], axis=-1), ((2, 5),)),
    ("iterate_rows", lambda x: list(x), lambda x: list(x), ((3, 2),)),
]
CASES += [OpCase(n, f, r, s, (STD,) * len(s)) for n, f, r, s in SHAPE_OPS]
CASES += [
    OpCase("concatenate_axis1", lambda a, b, c: ag.concatenate([a, b, c], axis=1),
           lambda a, b, c: np.concatenate([a, b, c], axis=1),
           ((2, 1, 3), (2, 2, 3), (2, 3, 3)), (STD,) * 3),
    OpCase("concatenate_axis-1", lambda a, b: ag.concatenate((a, b), axis=-1),
           lambda a, b: np.concatenate((a, b), axis=-1), ((2, 3), (2, 1)), (STD,) * 2),
    OpCase("concatenate_np", lambda a, b: np.concatenate([a, b]),
           lambda a, b: np.concatenate([a, b]), ((1, 3), (2, 3)), (STD,) * 2),
    OpCase("stack_axis0", lambda a, b, c: ag.stack([a, b, c]), lambda a, b, c: np.stack([a, b, c]),
           ((2, 3),) * 3, (STD,) * 3),
    OpCase("stack_axis1", lambda a, b: ag.stack([a, b], axis=1),
           lambda a, b: np.stack([a, b], axis=1), ((2, 3),) * 2, (STD,) * 2),
    OpCase("stack_axis-1", lambda a, b: ag.stack([a, b], axis=-1),
           lambda a, b: np.stack([a, b], axis=-1), ((2, 3),) * 2, (STD,) * 2),
]

# ---- numpy functions on tensors, constants mixed in, and edge arguments ------------------------
MIXED = [
    ("np.max", lambda x: np.max(x, axis=0), lambda x: np.max(x, axis=0), grid(-2, 2)),
    ("np.var_ddof", lambda x: np.var(x, axis=0, ddof=1), lambda x: np.var(x, 0, ddof=1), STD),
    ("np.std", np.std, np.std, STD),
    ("np.prod", lambda x: np.prod(x, axis=1), lambda x: np.prod(x, axis=1), nonzero(0.6, 1.4)),
    ("np.where", lambda x: np.where(x.data > 0, x, 0.5), lambda x: np.where(x > 0, x, 0.5),
     away(-2, 2, (0.0,))),
    ("np.clip", lambda x: np.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
     away(-2, 2, (-0.5, 0.5))),
    ("np.split", lambda x: np.split(x, 2, axis=1), lambda x: np.split(x, 2, axis=1), STD),
    ("np.dot", lambda x: np.dot(x, x.T), lambda x: np.dot(x, x.T), STD),
    ("np.maximum", lambda x: np.maximum(x, 0.3), lambda x: np.maximum(x, 0.3),
     away(-2, 2, (0.3,))),
    ("np.abs", np.abs, np.abs, away(-2, 2, (0.0,))),
    ("np.power", lambda x: np.power(x, 3), lambda x: x**3, STD),
    ("sum_axis_empty_tuple", lambda x: ag.sum(x, axis=()), lambda x: np.sum(x, axis=()), STD),
    ("max_axis_empty_tuple", lambda x: ag.max(x, axis=()), lambda x: np.max(x, axis=()), STD),
    ("getitem_bool_tensor_mask", lambda x: x[x > 0.1], lambda x: x[x > 0.1],
     away(-2, 2, (0.1,))),
    ("getitem_int_tensor_index", lambda x: x[ag.Tensor(np.array([1, 0, 1]))],
     lambda x: x[np.array([1, 0, 1])], STD),
    ("getitem_empty_slice", lambda x: x[2:1], lambda x: x[2:1], STD),
    ("concatenate_with_ndarray", lambda x: ag.concatenate([x, np.ones((1, 4))]),
     lambda x: np.concatenate([x, np.ones((1, 4))]), STD),
    ("stack_with_ndarray", lambda x: ag.stack([np.ones((2, 4)), x], axis=1),
     lambda x: np.stack([np.ones((2, 4)), x], axis=1), STD),
    ("where_tensor_condition", lambda x: ag.where(x > 0.1, x * x, -x),
     lambda x: np.where(x > 0.1, x * x, -x), away(-2, 2, (0.1,))),
    ("clip_tensor_bounds", lambda x: ag.clip(x, ag.Tensor(-0.5), ag.Tensor(0.5)),
     lambda x: np.clip(x, -0.5, 0.5), away(-2, 2, (-0.5, 0.5))),
    ("rpow_tensor_tensor", lambda x: (x[0] + 2.5) ** x[1], lambda x: (x[0] + 2.5) ** x[1], STD),
]
CASES += [OpCase(n, f, r, ((2, 4),), (d,)) for n, f, r, d in MIXED]

# ---- a few composites that mix ops (shared operands, broadcasting inside) -----------------------
CASES += [
    OpCase("mlp_layer", lambda x, w, b: ag.tanh(x @ w + b), lambda x, w, b: np.tanh(x @ w + b),
           ((4, 3), (3, 2), (2,)), (STD,) * 3),
    OpCase("normalize", lambda x: (x - x.mean(axis=0)) / (x.std(axis=0) + 1.0),
           lambda x: (x - x.mean(axis=0)) / (x.std(axis=0) + 1.0), ((4, 3),), (STD,)),
    OpCase("cross_entropy", lambda z: -ag.log_softmax(z, axis=1)[np.arange(3), [0, 2, 1]].mean(),
           lambda z: -np.log(_softmax(z, 1))[np.arange(3), [0, 2, 1]].mean(), ((3, 4),), (STD,)),
]

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case ids"
BROADCAST_CASES = {c.id.split("-")[0]: c for c in CASES if c.broadcast}


# ---- running a row ------------------------------------------------------------------------------
def as_list(out: Any) -> list:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def draw_inputs(c: OpCase, rng: np.random.Generator, shapes: tuple | None = None) -> tuple:
    """Operands (float64 arrays from the row's domains) and the row's constant kwargs."""
    shapes = c.shapes if shapes is None else shapes
    xs = [np.asarray(dom(rng, tuple(s)), dtype=np.float64) for dom, s in zip(c.domains, shapes)]
    consts = c.consts(rng, tuple(shapes)) if c.consts else {}
    return xs, consts


def cotangents(c: OpCase, xs: list, consts: dict, rng: np.random.Generator) -> list:
    """A random weighting of every output (the loss is sum(w * out))."""
    return [np.asarray(rng.standard_normal(np.shape(r))) for r in as_list(c.ref(*xs, **consts))]


def oracle_loss(c: OpCase, consts: dict, ws: list) -> Callable[..., float]:
    """sum(w * ref(*xs)) in plain numpy: what the finite differences differentiate."""

    def loss(*xs: np.ndarray) -> float:
        outs = as_list(c.ref(*xs, **consts))
        return float(sum(np.sum(w * np.asarray(o)) for w, o in zip(ws, outs)))

    return loss


def leaves(xs: list) -> list:
    return [ag.Tensor(x, requires_grad=True) for x in xs]


def engine_grads(c: OpCase, xs: list, consts: dict, ws: list) -> list:
    """The engine's gradient of sum(w * out) with respect to every operand (plain backward)."""
    ts = leaves(xs)
    outs = as_list(c.fn(*ts, **consts))
    ag.autograd.backward(outs, ws)
    return [np.zeros_like(x) if t.grad is None else t.grad.data for x, t in zip(xs, ts)]
