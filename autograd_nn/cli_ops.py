"""The catalog of ops that ``autograd-nn gradcheck`` and ``autograd-nn eps-sweep`` check.

Each op has several cases: operand shapes (broadcasting pairs for the binary ops) and, per
operand, the domain its values are drawn from, kept inside the op's domain and away from its
kinks and ties (relu and abs at 0, clip's bounds, equal values in max/min/maximum/minimum), so
that central differences are valid. Constants (a where-condition, a target) are drawn with
the same seeded generator. Every case runs `gradcheck` and `gradgradcheck`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ops
from .cli_ops_layers import add_layer_cases
from .nn import functional as F
from .tensor import Tensor

Domain = Callable[[np.random.Generator, tuple], np.ndarray]


# ---- operand domains ----------------------------------------------------------------------------
def uniform(lo: float, hi: float) -> Domain:
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def away_from(kinks: tuple[float, ...], lo: float = -2.0, hi: float = 2.0,
              margin: float = 0.1) -> Domain:
    """Uniform on [lo, hi], moved at least ``margin`` away from every kink."""
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


def distinct(parity: int = 0, lo: float = -2.0, hi: float = 2.0) -> Domain:
    """Values without ties: distinct points of a grid at least 0.01 apart; operands drawn
    with parity 0 and 1 use interleaved grids and never tie with each other either."""
    def draw(rng: np.random.Generator, shape: tuple) -> np.ndarray:
        n = int(np.prod(shape, dtype=int))
        k = rng.choice(200, size=n, replace=False) * 2 + parity
        return (lo + (hi - lo) * (k + 0.5) / 400).reshape(shape)
    return draw


STD = uniform(-2.0, 2.0)
POS = uniform(0.5, 2.0)


@dataclass(frozen=True)
class OpCase:
    """One check: ``fn(*tensors, **constants)`` on operands of ``shapes`` drawn from
    ``domains``; ``constants(rng)`` draws non-differentiable extra arguments."""

    op: str
    label: str
    fn: Callable[..., Tensor]
    shapes: tuple[tuple[int, ...], ...]
    domains: tuple[Domain, ...]
    constants: Callable[[np.random.Generator], dict[str, Any]] | None = None

    def inputs(self, rng: np.random.Generator, dtype: Any = np.float64) -> list[Tensor]:
        return [Tensor(d(rng, s).astype(dtype), requires_grad=True)
                for s, d in zip(self.shapes, self.domains)]

    def function(self, rng: np.random.Generator) -> Callable[..., Tensor]:
        """``fn`` with its constants drawn (once) from ``rng``."""
        consts = self.constants(rng) if self.constants is not None else {}
        return lambda *xs: self.fn(*xs, **consts)


def _shape(s: tuple) -> str:
    return str(s) if len(s) != 1 else f"({s[0]},)"


UNARY_SHAPES = [(), (5,), (2, 3), (2, 1, 3)]
PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 2))]
CATALOG: dict[str, list[OpCase]] = {}
KIND: dict[str, str] = {}  # op -> "primitive" or "composite"


def _add(op: str, cases: list[OpCase], kind: str = "primitive") -> None:
    CATALOG[op] = cases
    KIND[op] = kind


def _unary(op: str, fn: Callable, domain: Domain, shapes: list | None = None,
           kind: str = "primitive") -> None:
    _add(op, [OpCase(op, _shape(s), fn, (s,), (domain,)) for s in (shapes or UNARY_SHAPES)],
         kind)


def _binary(op: str, fn: Callable, domains: tuple[Domain, Domain], symbol: str) -> None:
    _add(op, [OpCase(op, f"{_shape(a)} {symbol} {_shape(b)}", fn, (a, b), domains)
              for a, b in PAIRS])


# ---- arithmetic ---------------------------------------------------------------------------------
_binary("add", ops.add, (STD, STD), "+")
_binary("subtract", ops.subtract, (STD, STD), "-")
_binary("multiply", ops.multiply, (STD, STD), "*")
_binary("divide", ops.divide, (STD, nonzero(0.5, 2.0)), "/")
_add("power", [
    OpCase("power", "(2, 3) ** (3,) (tensor exponent, base > 0)", ops.power, ((2, 3), (3,)),
           (POS, STD)),
    OpCase("power", "(2, 1, 3) ** (4, 1) (tensor exponent, base > 0)", ops.power,
           ((2, 1, 3), (4, 1)), (POS, STD)),
    OpCase("power", "(2, 3) ** 3", lambda x: ops.power(x, 3), ((2, 3),), (STD,)),
    OpCase("power", "(5,) ** -1.5 (base > 0)", lambda x: ops.power(x, -1.5), ((5,),), (POS,)),
])
_unary("negative", ops.negative, STD)
_add("matmul", [OpCase("matmul", f"{_shape(a)} @ {_shape(b)}", ops.matmul, (a, b), (STD, STD))
                for a, b in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                             ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2))]])

# ---- elementwise --------------------------------------------------------------------------------
_unary("exp", ops.exp, STD)
_unary("log", ops.log, uniform(0.3, 3.0))
_unary("sqrt", ops.sqrt, uniform(0.3, 3.0))
_unary("abs", ops.abs, away_from((0.0,)))
_unary("sin", ops.sin, STD)
_unary("cos", ops.cos, STD)
_unary("tanh", ops.tanh, STD)
_unary("sigmoid", ops.sigmoid, uniform(-4.0, 4.0))
_unary("relu", ops.relu, away_from((0.0,)))
_unary("leaky_relu", lambda x: ops.leaky_relu(x, 0.1), away_from((0.0,)))
_unary("softplus", ops.softplus, uniform(-4.0, 4.0))
_unary("clip", lambda x: ops.clip(x, -0.5, 0.7), away_from((-0.5, 0.7)))
_binary("maximum", ops.maximum, (distinct(0), distinct(1)), "vs")
_binary("minimum", ops.minimum, (distinct(0), distinct(1)), "vs")


def _condition(shape: tuple) -> Callable[[np.random.Generator], dict[str, Any]]:
    return lambda rng: {"cond": rng.random(shape) < 0.5}


_add("where", [OpCase("where", f"where(cond, {_shape(a)}, {_shape(b)})",
                      lambda x, y, cond: ops.where(cond, x, y), (a, b), (STD, STD),
                      _condition(np.broadcast_shapes(a, b))) for a, b in PAIRS])

# ---- reductions ---------------------------------------------------------------------------------
AXES = [(None, False), (1, False), ((0, 2), True), (-1, True)]


def _reduction(op: str, fn: Callable, domain: Domain, kind: str = "primitive") -> None:
    _add(op, [OpCase(op, f"(2, 3, 4) axis={a} keepdims={k}",
                     lambda x, a=a, k=k: fn(x, axis=a, keepdims=k), ((2, 3, 4),), (domain,))
              for a, k in AXES], kind)


_reduction("sum", ops.sum, STD)
_reduction("mean", ops.mean, STD)
_reduction("max", ops.max, distinct())
_reduction("min", ops.min, distinct())
_reduction("prod", ops.prod, nonzero(0.6, 1.4))
_reduction("logsumexp", ops.logsumexp, STD)
_reduction("var", ops.var, STD, "composite")
_reduction("std", ops.std, STD, "composite")
for _name, _fn in (("softmax", ops.softmax), ("log_softmax", ops.log_softmax)):
    _add(_name, [OpCase(_name, f"{_shape(s)} axis={a}", lambda x, a=a, f=_fn: f(x, axis=a),
                        (s,), (STD,)) for s, a in [((5,), -1), ((2, 3, 4), 0), ((2, 3, 4), -1)]])

# ---- shape ops ----------------------------------------------------------------------------------
_add("reshape", [OpCase("reshape", "(2, 3, 4) -> (4, 6)", lambda x: ops.reshape(x, (4, 6)),
                        ((2, 3, 4),), (STD,)),
                 OpCase("reshape", "(6,) -> (3, -1)", lambda x: ops.reshape(x, (3, -1)),
                        ((6,),), (STD,))])
_add("transpose", [OpCase("transpose", "(2, 3, 4) axes=(2, 0, 1)",
                          lambda x: ops.transpose(x, (2, 0, 1)), ((2, 3, 4),), (STD,)),
                   OpCase("transpose", "(2, 3) default", ops.transpose, ((2, 3),), (STD,))])
_add("broadcast_to", [OpCase("broadcast_to", f"{_shape(s)} -> {_shape(t)}",
                             lambda x, t=t: ops.broadcast_to(x, t), (s,), (STD,))
                      for s, t in [((3, 1), (2, 3, 4)), ((), (2, 2)), ((4,), (3, 4))]])
_GETITEM = [("1", 1), ("1:, ::2", (slice(1, None), slice(None, None, 2))),
            ("[0, 1, 0, 0]", [0, 1, 0, 0]), ("..., None, 1", (Ellipsis, None, 1))]
_add("getitem", [OpCase("getitem", f"(2, 3, 4)[{label}]", lambda x, i=index: x[i],
                        ((2, 3, 4),), (STD,)) for label, index in _GETITEM]
     + [OpCase("getitem", "(2, 3)[boolean mask]", lambda x, mask: x[mask], ((2, 3),), (STD,),
               lambda rng: {"mask": np.array([[True, False, True], [False, True, True]])})])
_add("concatenate", [OpCase("concatenate", f"{_shape(a)} ++ {_shape(b)} axis={ax}",
                            lambda x, y, ax=ax: ops.concatenate([x, y], axis=ax), (a, b),
                            (STD, STD))
                     for a, b, ax in [((2, 3), (4, 3), 0), ((2, 3), (2, 1), 1), ((3,), (2,), 0)]])
_add("astype", [OpCase("astype", f"{_shape(s)} -> float64",
                       lambda x: ops.astype(x, np.float64), (s,), (STD,))
                for s in [(5,), (2, 3)]])
_add("stack", [OpCase("stack", f"{_shape(a)}, {_shape(a)} axis={ax}",
                      lambda x, y, ax=ax: ops.stack([x, y], axis=ax), (a, a), (STD, STD))
               for a, ax in [((3,), 0), ((2, 3), -1)]], "composite")
_add("swapaxes", [OpCase("swapaxes", "(2, 3, 4) 0 <-> 2", lambda x: ops.swapaxes(x, 0, 2),
                         ((2, 3, 4),), (STD,))], "composite")
_add("squeeze", [OpCase("squeeze", "(2, 1, 3, 1)", ops.squeeze, ((2, 1, 3, 1),), (STD,))],
     "composite")
_add("expand_dims", [OpCase("expand_dims", "(2, 3) axis=(0, 2)",
                            lambda x: ops.expand_dims(x, (0, 2)), ((2, 3),), (STD,))],
     "composite")
_add("flatten", [OpCase("flatten", "(2, 3, 4)", ops.flatten, ((2, 3, 4),), (STD,))],
     "composite")

# ---- the loss that is a primitive ---------------------------------------------------------------
_add("binary_cross_entropy", [
    OpCase("binary_cross_entropy", f"p {_shape(s)} in (0.05, 0.95), target in [0, 1]",
           lambda p, target: F.binary_cross_entropy(p, target), (s,), (uniform(0.05, 0.95),),
           lambda rng, s=s: {"target": rng.uniform(0.0, 1.0, s)})
    for s in [(5,), (2, 3)]])

# the numpy surface's cases (issue 12) are in their own module, which adds them to CATALOG
from . import cli_ops_numpy  # noqa: E402, F401  (it builds on the definitions above)

# ---- layers (convolution, pooling, normalisation, embedding): cli_ops_layers ----------------
add_layer_cases(_add, OpCase, STD, distinct())


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
    import warnings

    from .gradcheck import GradcheckPrecisionWarning, gradcheck, gradgradcheck

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
