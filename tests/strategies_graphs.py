"""Random small computation graphs for differential tests (hypothesis).

A `Program` is a list of leaf inputs and a sequence of op steps; every op is given twice, as
autograd_nn code and as PyTorch code (``torch`` is passed in, never imported here), so the same
program can be built in both engines from the same float64 data and their values and gradients
compared. The scalar that is differentiated is ``sum_k (node_k * R_k).sum()`` over the nodes no
step consumed, with fixed random weights ``R_k`` (so upstream gradients are not all ones).

Domains are kept where both engines are smooth and finite: log/sqrt/divide/power see
``x*x + 0.5``; exp sees |x| <= 4; a step whose result is not finite or exceeds 1e4 is dropped.
Masks (``where``) are constants computed while drawing, so rounding cannot make them differ.
While drawing, autograd_nn (under no_grad) computes the values that decide shapes and domains;
it is never the oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_nn as ag

try:
    from autograd_nn.nn import functional as F
except ImportError:  # pragma: no cover - the nn package not built yet
    F = None


def _pos(x):  # the positive domain of log, sqrt, divide, power
    return x * x + 0.5


@dataclass(frozen=True)
class OpSpec:
    """One op in both engines. ``draw(draw, pool)`` picks operands (indices into the pool of
    node values) and parameters, or returns None when the op does not fit the pool; it may
    ask for new leaves (e.g. a weight for matmul), which become nodes ``len(pool)``, ..."""

    name: str
    ag: Callable[..., Any]
    torch: Callable[..., Any]  # torch(T, *operands, **params)
    draw: Callable[[Any, list], tuple | None]


@dataclass
class Program:
    inputs: dict[int, np.ndarray] = field(default_factory=dict)  # node index -> leaf value
    # (node index, op, operand node indices, params)
    steps: list[tuple[int, OpSpec, tuple, dict]] = field(default_factory=list)
    weights: dict[int, np.ndarray] = field(default_factory=dict)  # sink node -> R

    def build(self, engine: str, T: Any = None) -> tuple[list, dict, Any]:
        """(leaves, {node index: tensor}, scalar) in ``engine`` ('ag' or 'torch'; T is the
        torch module)."""
        nodes: dict[int, Any] = {}
        leaves = []
        for i, v in self.inputs.items():
            t = ag.Tensor(v.copy(), requires_grad=True) if engine == "ag" else \
                T.tensor(v.copy(), dtype=T.float64, requires_grad=True)
            nodes[i] = t
            leaves.append(t)
        for node, op, args, params in self.steps:
            xs = [nodes[a] for a in args]
            nodes[node] = op.ag(*xs, **params) if engine == "ag" else op.torch(T, *xs, **params)
        total = None
        for k, r in self.weights.items():
            w = r if engine == "ag" else T.tensor(r, dtype=T.float64)
            term = (nodes[k] * w).sum()
            total = term if total is None else total + term
        return leaves, nodes, total

    def __repr__(self) -> str:
        by_node = {n: (op, args, params) for n, op, args, params in self.steps}
        lines = []
        for k in range(len(self.inputs) + len(self.steps)):
            if k in self.inputs:
                lines.append(f"x{k} = leaf(shape {self.inputs[k].shape})")
                continue
            op, args, params = by_node[k]
            shown = {n: (f"<array {np.shape(v)}>" if isinstance(v, np.ndarray) and v.size > 6
                         else v) for n, v in params.items()}
            ps = "".join(f", {n}={v!r}" for n, v in shown.items())
            lines.append(f"x{k} = {op.name}({', '.join(f'x{a}' for a in args)}{ps})")
        lines.append("loss = " + " + ".join(f"(x{k} * R{k}).sum()" for k in self.weights))
        data = "; ".join(f"x{i}={v.tolist()}" for i, v in self.inputs.items())
        return "Program:\n  " + "\n  ".join(lines) + f"\n  data: {data}"


# ---- operand choice -----------------------------------------------------------------------------
def _any(draw, pool, min_ndim=0, max_size=10**9):
    ok = [i for i, v in enumerate(pool) if v.ndim >= min_ndim and v.size <= max_size]
    return draw.choice(ok) if ok else None


def _partner(draw, pool, i, same_shape=False):
    a = pool[i].shape
    ok = []
    for j, v in enumerate(pool):
        try:
            if same_shape and v.shape != a or np.broadcast_shapes(a, v.shape) is None:
                continue
        except ValueError:
            continue
        ok.append(j)
    return draw.choice(ok)  # i itself always fits


def _axis(draw, ndim):
    kind = draw.choice(["none", "int", "tuple"])
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(sorted(draw(hnp.valid_tuple_axes(ndim, min_size=1))))


def _dims(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


def unary(fn_ag, fn_torch, gate=None):
    def draw_(draw, pool):
        i = _any(draw, pool)
        return None if gate is not None and not gate(pool[i]) else ((i,), {}, [])
    return fn_ag, fn_torch, draw_


def binary(fn_ag, fn_torch, same_shape=False):
    def draw_(draw, pool):
        i = _any(draw, pool)
        return (i, _partner(draw, pool, i, same_shape)), {}, []
    return fn_ag, fn_torch, draw_


def reduction(fn_ag, fn_torch, gate=None):
    def draw_(draw, pool):
        i = _any(draw, pool, min_ndim=1)
        if i is None or (gate is not None and not gate(pool[i])):
            return None
        return (i,), {"axis": _axis(draw, pool[i].ndim), "keepdims": draw(st.booleans())}, []
    return (lambda x, axis, keepdims: fn_ag(x, axis=axis, keepdims=keepdims),
            lambda T, x, axis, keepdims: fn_torch(T, x, _dims(axis, x.ndim), keepdims), draw_)


def _torch_prod(T, x, dims, keepdim):
    for d in sorted(dims, reverse=True):
        x = T.prod(x, dim=d, keepdim=keepdim)
    return x


def _draw_var(draw, pool):
    i = _any(draw, pool, min_ndim=1)
    if i is None:
        return None
    v = pool[i]
    axis = _axis(draw, v.ndim)
    n = int(np.prod([v.shape[d] for d in _dims(axis, v.ndim)]))
    ddof = draw(st.integers(0, 1))
    if n - ddof <= 0 or np.min(np.var(v, axis=_dims(axis, v.ndim))) < 1e-3:
        return None  # no degrees of freedom, or std's derivative near sqrt(0)
    return (i,), {"axis": axis, "ddof": ddof, "keepdims": draw(st.booleans())}, []


def _draw_softmax(draw, pool):
    i = _any(draw, pool, min_ndim=1)
    return None if i is None else ((i,), {"axis": draw(st.integers(-pool[i].ndim,
                                                                   pool[i].ndim - 1))}, [])


def _draw_matmul(draw, pool):
    i = _any(draw, pool, min_ndim=1)
    if i is None:
        return None
    x = pool[i].shape
    m = draw(st.integers(1, 3))
    batch = ()
    if len(x) >= 2:  # weights with batch axes that broadcast against x's
        batch = draw.choice([(), (1,), x[:-2]] + ([(2,)] if len(x) == 2 else []))
    if len(x) == 1 and draw(st.booleans()):
        w_shape, left = (m, x[0]), True  # w @ x
    else:
        w_shape, left = batch + (x[-1], m), False  # x @ w, maybe with broadcast batch axes
    w = draw(hnp.arrays(np.float64, w_shape, elements=_elements))
    return ((len(pool), i) if left else (i, len(pool))), {}, [w]


def _draw_reshape(draw, pool):
    i = _any(draw, pool)
    shape = pool[i].shape
    options = [(-1,), tuple(reversed(shape)), (1,) + shape, shape + (1,)]
    if len(shape) >= 2:
        options.append((shape[0], -1))
    return (i,), {"shape": draw.choice(options)}, []


def _draw_transpose(draw, pool):
    i = _any(draw, pool, min_ndim=2)
    if i is None:
        return None
    return (i,), {"axes": tuple(draw(st.permutations(range(pool[i].ndim))))}, []


def _draw_index(draw, pool):
    i = _any(draw, pool, min_ndim=1)
    if i is None:
        return None
    v = pool[i]
    n = v.shape[0]
    kind = draw.choice(["int", "slice", "reverse", "repeat", "repeat1", "mask"])
    if kind == "int":
        return (i,), {"kind": kind, "index": draw(st.integers(-n, n - 1))}, []
    if kind == "slice":
        a = draw(st.integers(0, n - 1))
        return (i,), {"kind": kind, "index": (a, draw(st.integers(a + 1, n)),
                                              draw(st.integers(1, 2)))}, []
    if kind == "reverse":
        return (i,), {"kind": kind, "index": None}, []
    if kind == "repeat1" and v.ndim < 2:
        kind = "repeat"
    size = v.shape[1] if kind == "repeat1" else n
    if kind == "mask":
        mask = draw(hnp.arrays(bool, v.shape))
        return ((i,), {"kind": kind, "index": mask}, []) if mask.any() else None
    idx = np.array(draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=5)))
    return (i,), {"kind": kind, "index": idx}, []


def _ag_index(x, kind, index):
    if kind == "slice":
        return x[index[0]:index[1]:index[2]]
    if kind == "reverse":
        return x[::-1]
    if kind == "repeat1":
        return x[:, index]
    return x[index]


def _torch_index(T, x, kind, index):
    if kind == "slice":
        return x[index[0]:index[1]:index[2]]
    if kind == "reverse":
        return T.flip(x, [0])
    if kind == "repeat":
        return T.index_select(x, 0, T.as_tensor(index % x.shape[0]))
    if kind == "repeat1":
        return x[:, T.as_tensor(index)]
    if kind == "mask":
        return x[T.as_tensor(index)]
    return x[index]


def _draw_join(draw, pool):
    i = _any(draw, pool, min_ndim=1)
    if i is None:
        return None
    j = _partner(draw, pool, i, same_shape=True)
    return (i, j), {"axis": draw(st.integers(-pool[i].ndim, pool[i].ndim - 1))}, []


def _draw_where(draw, pool):
    i = _any(draw, pool)
    j = _partner(draw, pool, i)
    return (i, j), {"cond": pool[i] > 0}, []


def _draw_clip(draw, pool):
    i = _any(draw, pool)
    lo, hi = draw.choice([(-0.5, 0.5), (None, 0.3), (-0.3, None), (0.0, 1.0)])
    return (i,), {"lo": lo, "hi": hi}, []


def _draw_squeeze(draw, pool):
    i = _any(draw, pool)
    ones = [a for a, n in enumerate(pool[i].shape) if n == 1]
    return ((i,), {"axis": draw.choice(ones)}, []) if ones else None


def _draw_squeeze_expand(draw, pool):
    i = _any(draw, pool)
    nd = pool[i].ndim
    return (i,), {"axis": draw(st.integers(-nd - 1, nd))}, []


# ---- losses -------------------------------------------------------------------------------------
def _draw_pair_loss(draw, pool, bound=np.inf):
    i = _any(draw, pool)
    target = draw(st.booleans())
    j = _partner(draw, pool, i, same_shape=True) if not target else None
    if np.abs(pool[i]).max(initial=0) > bound or (j is not None
                                                  and np.abs(pool[j]).max(initial=0) > bound):
        return None
    params = {"reduction": draw.choice(["mean", "sum", "none"])}
    if target:
        params["target"] = draw(hnp.arrays(np.float64, pool[i].shape, elements=_unit))
        return (i,), params, []
    return (i, j), params, []


def _draw_ce(draw, pool):
    i = _any(draw, pool, min_ndim=1)
    if i is None or pool[i].ndim > 2:
        return None
    v = pool[i]
    params = {"reduction": draw.choice(["mean", "sum", "none"])}
    if draw(st.booleans()):
        lead = v.shape[:-1]
        params["target"] = np.asarray(draw(hnp.arrays(np.int64, lead, elements=st.integers(
            0, v.shape[-1] - 1))))
    else:
        p = draw(hnp.arrays(np.float64, v.shape, elements=_unit)) + 0.1
        params["target"] = p / p.sum(axis=-1, keepdims=True)
    return (i,), params, []


def _loss(ag_name, torch_name, prob=False):
    def ag_fn(a, b=None, target=None, reduction="mean"):
        if prob:  # probabilities (and a target in [0, 1]) for binary_cross_entropy
            a, b = ag.sigmoid(a), (None if b is None else ag.sigmoid(b))
        return getattr(F, ag_name)(a, b if b is not None else target, reduction=reduction)

    def torch_fn(T, a, b=None, target=None, reduction="mean"):
        if prob:
            a, b = T.sigmoid(a), (None if b is None else T.sigmoid(b))
        t = b if b is not None else T.as_tensor(target)
        return getattr(T.nn.functional, torch_name)(a, t, reduction=reduction)
    return ag_fn, torch_fn


# no tiny non-zero values: PyTorch's own formulas overflow there (prod's double backward
# divides by x*x: at x = 1e-117 it gives 3.5e100 where the exact value is 0)
_elements = st.floats(-2, 2, allow_nan=False).map(lambda v: 0.0 if abs(v) < 1e-3 else v)
_unit = st.floats(0, 1, allow_nan=False, allow_subnormal=False)


def _small(v):
    return np.abs(v).max(initial=0) <= 4



def _spec(name, parts):
    return OpSpec(name, *parts)


OPS: dict[str, OpSpec] = {s.name: s for s in [
    _spec("negative", unary(lambda x: -x, lambda T, x: -x)),
    _spec("exp", unary(ag.exp, lambda T, x: T.exp(x), gate=_small)),
    _spec("log", unary(lambda x: ag.log(_pos(x)), lambda T, x: T.log(_pos(x)))),
    _spec("sqrt", unary(lambda x: ag.sqrt(_pos(x)), lambda T, x: T.sqrt(_pos(x)))),
    _spec("abs", unary(ag.abs, lambda T, x: T.abs(x))),
    _spec("sin", unary(ag.sin, lambda T, x: T.sin(x))),
    _spec("cos", unary(ag.cos, lambda T, x: T.cos(x))),
    _spec("tanh", unary(ag.tanh, lambda T, x: T.tanh(x))),
    _spec("sigmoid", unary(ag.sigmoid, lambda T, x: T.sigmoid(x))),
    _spec("relu", unary(ag.relu, lambda T, x: T.relu(x))),
    _spec("leaky_relu", unary(lambda x: ag.leaky_relu(x, 0.1),
                              lambda T, x: T.nn.functional.leaky_relu(x, 0.1))),
    _spec("softplus", unary(ag.softplus, lambda T, x: T.nn.functional.softplus(x, threshold=50),
                            gate=lambda v: np.abs(v).max(initial=0) < 30)),
    _spec("square", unary(lambda x: x**2, lambda T, x: x**2)),
    _spec("cube", unary(lambda x: x**3, lambda T, x: x**3, gate=_small)),
    _spec("clip", (lambda x, lo, hi: ag.clip(x, lo, hi),
                   lambda T, x, lo, hi: T.clamp(x, lo, hi), _draw_clip)),
    _spec("add", binary(lambda a, b: a + b, lambda T, a, b: a + b)),
    _spec("subtract", binary(lambda a, b: a - b, lambda T, a, b: a - b)),
    _spec("multiply", binary(lambda a, b: a * b, lambda T, a, b: a * b)),
    _spec("divide", binary(lambda a, b: a / _pos(b), lambda T, a, b: a / _pos(b))),
    # the exponent stays in (0.25, 1.25): PyTorch's second derivative is wrong at exponent 0
    _spec("power", binary(lambda a, b: _pos(a) ** (ag.tanh(b) * 0.5 + 0.75),
                          lambda T, a, b: _pos(a) ** (T.tanh(b) * 0.5 + 0.75))),
    _spec("maximum", binary(ag.maximum, lambda T, a, b: T.maximum(a, b))),
    _spec("minimum", binary(ag.minimum, lambda T, a, b: T.minimum(a, b))),
    _spec("where", (lambda a, b, cond: ag.where(cond, a, b),
                    lambda T, a, b, cond: T.where(T.as_tensor(cond), a, b), _draw_where)),
    _spec("matmul", (ag.matmul, lambda T, a, b: T.matmul(a, b), _draw_matmul)),
    _spec("sum", reduction(ag.sum, lambda T, x, d, k: T.sum(x, dim=d, keepdim=k))),
    _spec("mean", reduction(ag.mean, lambda T, x, d, k: T.mean(x, dim=d, keepdim=k))),
    _spec("max", reduction(ag.max, lambda T, x, d, k: T.amax(x, dim=d, keepdim=k))),
    _spec("min", reduction(ag.min, lambda T, x, d, k: T.amin(x, dim=d, keepdim=k))),
    _spec("prod", reduction(ag.prod, _torch_prod,
                            gate=lambda v: v.size <= 8 and np.abs(v).max(initial=0) <= 3)),
    _spec("logsumexp", reduction(ag.logsumexp,
                                 lambda T, x, d, k: T.logsumexp(x, dim=d, keepdim=k))),
    _spec("var", (lambda x, axis, ddof, keepdims: ag.var(x, axis, ddof, keepdims),
                  lambda T, x, axis, ddof, keepdims: T.var(
                      x, dim=_dims(axis, x.ndim), correction=ddof, keepdim=keepdims),
                  _draw_var)),
    _spec("std", (lambda x, axis, ddof, keepdims: ag.std(x, axis, ddof, keepdims),
                  lambda T, x, axis, ddof, keepdims: T.std(
                      x, dim=_dims(axis, x.ndim), correction=ddof, keepdim=keepdims),
                  _draw_var)),
    _spec("softmax", (lambda x, axis: ag.softmax(x, axis), lambda T, x, axis: T.softmax(x, axis),
                      _draw_softmax)),
    _spec("log_softmax", (lambda x, axis: ag.log_softmax(x, axis),
                          lambda T, x, axis: T.log_softmax(x, axis), _draw_softmax)),
    _spec("reshape", (lambda x, shape: x.reshape(shape),
                      lambda T, x, shape: T.reshape(x, shape), _draw_reshape)),
    _spec("transpose", (lambda x, axes: x.transpose(axes),
                        lambda T, x, axes: T.permute(x, axes), _draw_transpose)),
    _spec("expand_dims", (lambda x, axis: ag.expand_dims(x, axis % (x.ndim + 1)),
                          lambda T, x, axis: T.unsqueeze(x, axis % (x.ndim + 1)),
                          _draw_squeeze_expand)),
    _spec("squeeze", (lambda x, axis: ag.squeeze(x, axis), lambda T, x, axis: T.squeeze(x, axis),
                      _draw_squeeze)),
    _spec("broadcast_to", unary(lambda x: ag.broadcast_to(x, (2,) + x.shape),
                                lambda T, x: T.broadcast_to(x, (2,) + x.shape))),
    _spec("getitem", (_ag_index, _torch_index, _draw_index)),
    _spec("concatenate", (lambda a, b, axis: ag.concatenate([a, b], axis),
                          lambda T, a, b, axis: T.cat([a, b], axis), _draw_join)),
    _spec("stack", (lambda a, b, axis: ag.stack([a, b], axis),
                    lambda T, a, b, axis: T.stack([a, b], axis), _draw_join)),
]}
if F is not None:
    for _name, (_ag, _torch), _draw in [
        ("mse_loss", _loss("mse_loss", "mse_loss"), _draw_pair_loss),
        ("l1_loss", _loss("l1_loss", "l1_loss"), _draw_pair_loss),
        # inputs of sigmoid within +-3: PyTorch's double backward of binary_cross_entropy
        # loses ~1e-8 relative near saturation (checked against mpmath; ours is accurate)
        ("binary_cross_entropy", _loss("binary_cross_entropy", "binary_cross_entropy", True),
         lambda draw, pool: _draw_pair_loss(draw, pool, bound=3.0)),
        ("binary_cross_entropy_with_logits", _loss("binary_cross_entropy_with_logits",
                                                   "binary_cross_entropy_with_logits"),
         _draw_pair_loss),
        ("cross_entropy", _loss("cross_entropy", "cross_entropy"), _draw_ce),
    ]:
        OPS[_name] = OpSpec(_name, _ag, _torch, _draw)


class _Draw:
    """hypothesis' ``draw``, plus ``choice(seq)``: a uniform pick from a numpy generator seeded
    by hypothesis. Hypothesis' own ``sampled_from`` favours the first items (good for
    shrinking, bad for mixing ops), so ops, operands and options are picked with ``choice``;
    shapes, values and step counts are still drawn (and shrunk) by hypothesis."""

    def __init__(self, draw: Any, seed: int) -> None:
        self._draw, self.rng = draw, np.random.default_rng(seed)

    def __call__(self, strategy: Any) -> Any:
        return self._draw(strategy)

    def choice(self, seq: Any) -> Any:
        seq = list(seq)
        return seq[int(self.rng.integers(len(seq)))]


@st.composite
def programs(draw, ops: tuple[str, ...] = tuple(OPS), required: str | None = None,
             max_steps: int = 5) -> Program:
    """A random program over ``ops``; ``required`` (an op name) appears at least once."""
    draw = _Draw(draw, draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 3))
    min_dims = draw(st.sampled_from([1, 0, 2, 1]))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=3,
                                                    max_side=3)).input_shapes
    prog = Program()
    pool: list[np.ndarray] = []
    for s in shapes:
        prog.inputs[len(pool)] = draw(hnp.arrays(np.float64, s, elements=_elements))
        pool.append(prog.inputs[len(pool)])
    consumed: set[int] = set()
    n_steps = draw.choice(range(1, max_steps + 1))
    where_required = draw(st.integers(0, n_steps - 1)) if required else -1
    for k in range(n_steps):
        name = required if k == where_required else draw.choice(ops)
        drawn = OPS[name].draw(draw, pool)
        if drawn is None:
            continue
        args, params, new = drawn
        values = [pool[a] if a < len(pool) else new[a - len(pool)] for a in args]
        with ag.no_grad(), np.errstate(all="ignore"):
            out = OPS[name].ag(*[ag.Tensor(v) for v in values], **params).data
        if out.dtype.kind != "f" or not np.all(np.isfinite(out)) \
                or np.abs(out).max(initial=0) > 1e4:
            continue
        for v in new:
            prog.inputs[len(pool)] = v
            pool.append(v)
        consumed.update(args)
        prog.steps.append((len(pool), OPS[name], args, params))
        pool.append(out)
    if required and not any(op.name == required for _, op, _, _ in prog.steps):
        from hypothesis import assume

        assume(False)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    for k in range(len(pool)):
        if k not in consumed:
            prog.weights[k] = rng.normal(size=pool[k].shape)
    return prog
