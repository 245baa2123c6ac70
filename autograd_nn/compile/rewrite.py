"""Rewrites the recorder applies as it writes a line, each exact (the same bits as the line it
replaces, or the line's value known when the code is generated):

- **folding**: a line whose symbols are all constants (the seed of a training step's backward,
  always ones, and what is computed from it) computes nothing at run time: its value, known
  while generating, is the constant. W1's backward began with four such lines.
- **identity**: ``x * ones`` and ``x / ones`` (ones a folded constant of x's shape and dtype)
  are x: IEEE multiplication by 1 is exact.
- **matmul as dot**: ``a @ b`` on two 2-D float arrays of one dtype is ``a.dot(b)``: the same
  BLAS call without the matmul ufunc's dispatch (0.5 us instead of 1.4 us on W1's 4x5 arrays);
  checked equal on the traced values, otherwise ``@`` stays.
- **operators and positional arguments**: ``np.negative(x)`` is ``-x`` (the same ufunc without
  the keyword-capable call: 3.7k instead of 4.2k instructions on W1's 4x5 arrays), and
  ``np.add.reduce(x, axis=<every axis>, keepdims=False)`` is ``np.add.reduce(x, None)`` (numpy
  turns axis=None into every axis: the same reduction, 8.9k instead of 9.5k instructions).
- **leading ones**: ``a + b`` where ``b`` has fewer dimensions and ``a``'s extra leading ones
  are all 1 (``(1, 16) + (16,)``, a bias at batch 1) is ``a + b[None]``: the same elements
  without the broadcasting iterator (5.3k instead of 8.2k instructions on W2s).
- **scalars as 0-d arrays**: ``1.0 + x`` with x a float array is ``c1_0 + x``, c1_0 a 0-d array
  of x's dtype holding 1.0 (numpy converts a Python scalar on every call: 0.7 us instead of
  1.0 us on W1's arrays); only where the scalar is exact in that dtype, so the result is the
  same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .literals import Constants, Named, literal


class Frozen:
    """A folded constant's value where a run-time line uses it (copied: later folding may
    change the constant's own array in place)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value.copy() if isinstance(value, np.ndarray) else value


_SYM: list = []  # [Sym, Quoted]: registered by symbolic.py, which imports this module


def register(sym_class: type, quoted_class: type) -> None:
    _SYM[:] = [sym_class, quoted_class]


def _is_sym(p: Any) -> bool:
    return type(p) is _SYM[0]


def frozen(parts: tuple) -> tuple:
    """``parts`` with every folded constant replaced by its value now (nested too)."""
    sym = _SYM[0]
    if not any(type(p) is sym and p.const or isinstance(p, (tuple, list)) for p in parts):
        return parts
    out = []
    for p in parts:
        if _is_sym(p) and p.const:
            p = Frozen(p.value)
        elif isinstance(p, (tuple, list)):
            p = type(p)(frozen(tuple(p)))
        out.append(p)
    return tuple(out)


def foldable(parts: tuple) -> bool:
    """Are the symbols among ``parts`` all folded constants (at least one), and every other
    operand a literal? Then the line's value is known now."""
    found = False
    stack = list(parts)
    while stack:
        p = stack.pop()
        if _is_sym(p):
            if not p.const:
                return False
            found = True
        elif isinstance(p, (tuple, list)):
            stack.extend(p)
        elif not isinstance(p, (str, Named)) and type(p) is not _SYM[1] \
                and literal(p) is None:
            return False
    return found


def _ones(x: Any) -> bool:
    return _is_sym(x) and x.const and bool(np.all(np.asarray(x.value) == 1))


def _one(x: Any, other: Any) -> bool:
    """Is ``x`` the Python number 1 next to a float symbol (the result keeps its dtype)?"""
    return (type(x) in (int, float) and x == 1 and _is_sym(other) and not other.const
            and np.asarray(other.value).dtype.kind == "f")


def _same(s: Any, value: Any) -> bool:
    return (_is_sym(s) and type(value) is type(s.value) and np.shape(value) == s.shape
            and np.asarray(value).dtype == s.dtype)


def identity(op: str, left: Any, right: Any, value: Any) -> Any:
    """The operand ``left op right`` equals exactly, or None (``x / 1``, the mean of one
    element, included: IEEE division by 1 is exact)."""
    if op in ("*", "/") and (_ones(right) or _one(right, left)) and _same(left, value):
        return left
    if op == "*" and _ones(left) and _same(right, value):
        return right
    return None


def binop_parts(op: str, left: Any, right: Any, value: Any,
                consts: Constants) -> tuple[tuple, tuple]:
    """The parts of the line computing ``left op right`` (see the module docstring), and its
    two operands as the line uses them (for buffers.py)."""
    if op == "@" and dot_is_matmul(left, right, value):
        return (left, ".dot(", right, ")"), (left, right)
    if op in ("+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!="):
        left, right = _zero_d(left, right, value, consts), _zero_d(right, left, value, consts)
    a, b = _arg(left), _arg(right)
    return (a, *_leading(a, value), f" {op} ", b, *_leading(b, value)), (a, b)


def _leading(x: Any, value: Any) -> tuple:
    """``("[None]",)`` when ``x``, an operand of an elementwise line, has fewer dimensions than
    its result and the result's extra leading dimensions are all 1 (so the other operand
    has the result's shape): numpy then adds the same elements with no broadcasting."""
    if not (_is_sym(x) and not x.const) or type(value) is not np.ndarray:
        return ()
    k = value.ndim - len(x.shape)
    if k <= 0 or x.shape != value.shape[k:] or any(n != 1 for n in value.shape[:k]) \
            or not x.shape:
        return ()
    return ("[" + ", ".join(["None"] * k) + "]",)


def reduce_args(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``np.add.reduce``'s arguments, an axis tuple naming every axis with keepdims False
    given as the positional ``None`` (the same reduction; see the module docstring)."""
    axis = kwargs.get("axis", args[1] if len(args) > 1 else 0)
    ndim = len(getattr(args[0], "shape", ()))
    if set(kwargs) <= {"axis", "keepdims"} and not kwargs.get("keepdims", False) \
            and isinstance(axis, tuple) and sorted(a % ndim for a in axis) == list(range(ndim)) \
            and len(axis) == ndim > 0:
        return (args[0], None), {}
    return args, kwargs


def negation(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> tuple | None:
    """``-x`` for ``np.negative(x)`` of a symbol (see the module docstring), or None."""
    if ufunc is np.negative and method == "__call__" and not kwargs and len(inputs) == 1 \
            and _is_sym(inputs[0]) and not inputs[0].const:
        return ("-", inputs[0])
    return None


def _arg(a: Any) -> Any:
    return _SYM[1](a) if isinstance(a, str) else a


def dot_is_matmul(a: Any, b: Any, value: Any) -> bool:
    if not (_is_sym(a) and _is_sym(b) and not a.const and not b.const):
        return False
    x, y = a.value, b.value
    return (type(x) is np.ndarray and type(y) is np.ndarray and x.ndim == 2 and y.ndim == 2
            and x.dtype == y.dtype and x.dtype.kind == "f"
            and np.array_equal(x.dot(y), value))


def scalar_operands(operands: tuple, value: Any, consts: Constants) -> tuple:
    """A binary ufunc's operands (``np.maximum(t, 0)``) with a Python scalar next to a float
    array as a 0-d array (`_zero_d`)."""
    if len(operands) != 2:
        return operands
    a, b = operands
    return _zero_d(a, b, value, consts), _zero_d(b, a, value, consts)


def _zero_d(x: Any, other: Any, value: Any, consts: Constants) -> Any:
    """A Python scalar operand as a 0-d array of the other operand's dtype, where exact (the
    result keeps its dtype: the other operand's, or bool for a comparison)."""
    if type(x) not in (int, float) or not _is_sym(other):
        return x
    a = other.value
    if type(a) is not np.ndarray or a.ndim == 0 or a.dtype.kind != "f" \
            or type(value) is not np.ndarray or value.dtype not in (a.dtype, np.bool_):
        return x
    c = np.array(x, a.dtype)
    if float(c) != x:
        return x
    return consts.named_scalar(c)
