"""The third interpretation of the rules: arrays that are symbols, and running a rule emits code.

A `Sym` stands for an array of the generated function. It carries the value the array had while
tracing (so shapes, dtypes and numpy's promotion rules come from numpy itself), and every numpy
operation on it -- an operator, a ufunc (``np.exp(s)``, ``np.add.reduce(s, axis=0)``, with
``out=``), an array function (``np.where``), a method (``s.astype``) or indexing -- computes the
value with numpy and appends the same call, as a line of Python, to a `Recorder`.

A rule that reads a symbol's *value* (``bool(s)``, ``float(s)``, ``s.item()``, ``np.asarray`` of it
outside the rule's own module) raises `Untraceable`: the code generator then emits a call of the
rule itself for that op, which is always right (the rule runs on the arrays at run time).

``ctx.xp`` for this interpretation is `recording_xp.RecordingXP`: each name of the numpy
namespace the rules are written against (``registry.PLAIN``) becomes an emitted call of that
same function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .literals import Constants, Named, literal
from .rewrite import (
    Frozen,
    binop_parts,
    foldable,
    frozen,
    identity,
    negation,
    reduce_args,
    register,
    scalar_operands,
)

__all__ = ["Frozen", "frozen"]


class Untraceable(Exception):
    """A rule read a symbol's value (or used numpy in a way the recorder cannot write down)."""


_BINOPS = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
    "pow": "**", "matmul": "@", "and": "&", "or": "|", "xor": "^",
    "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!=",
}
_REFLECTED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}
_METHODS = {
    "astype", "reshape", "squeeze", "transpose", "sum", "mean", "prod", "max", "min", "copy",
    "swapaxes", "ravel", "flatten", "cumsum", "cumprod", "clip", "repeat", "any", "all",
}


class Sym:
    """An array of the generated code: a variable name (given when rendered) and a value."""

    __slots__ = ("rec", "value", "name", "hint", "const", "made", "__weakref__")
    __array_priority__ = 1000.0
    __hash__ = object.__hash__  # identity (== is elementwise)

    def __init__(self, rec: Recorder, value: Any, hint: str = "t") -> None:
        self.rec, self.value, self.hint = rec, value, hint
        self.name: str | None = None  # given when the code is rendered
        self.const = False  # known when the code is generated (folded: no line computes it)
        self.made: tuple | None = None  # (ufunc or "dot", operands): buffers.py may rewrite it

    @property
    def ident(self) -> str:
        """The variable name, given by the code generator before the code is rendered."""
        if self.name is None:
            raise RuntimeError(f"{self!r} is rendered before it was given a name")
        return self.name

    # ---- static properties (part of the signature) ------------------------------------------
    @property
    def shape(self) -> tuple:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        return int(np.size(self.value))

    @property
    def dtype(self) -> np.dtype:
        return np.asarray(self.value).dtype

    def __len__(self) -> int:
        return len(self.value)

    @property
    def T(self) -> Sym:
        return self.rec.now.expr(self.value.T, (self, ".T"))

    # ---- value reads: not allowed -------------------------------------------------------------
    def _read(self, *_: Any) -> Any:
        raise Untraceable("a rule read an array's value")

    __bool__ = __float__ = __int__ = __index__ = __complex__ = __iter__ = _read
    item = tolist = tobytes = __array__ = _read

    def __repr__(self) -> str:
        return f"<Sym {self.name or self.hint} {self.shape} {self.dtype}>"

    # ---- numpy dispatch ---------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return self.rec.now.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        return self.rec.now.function(func, args, kwargs)

    def __getattr__(self, attr: str) -> Any:
        if attr not in _METHODS:
            raise Untraceable(f"array attribute {attr!r}")

        def method(*args: Any, **kwargs: Any) -> Any:
            value = getattr(self.value, attr)(*values(args), **values(kwargs))
            return self.rec.now.expr(value, (self, f".{attr}("), *call_args(args, kwargs), ")")

        return method

    def __getitem__(self, index: Any) -> Sym:
        value = self.value[values(index)]
        return self.rec.now.expr(value, (self, "["), *index_parts(index), "]")

    def __setitem__(self, index: Any, v: Any) -> None:
        if self.const:
            raise Untraceable("a folded constant changed in place")
        self.value[values(index)] = values(v)
        self.rec.now.statement(self, "[", *index_parts(index), "] = ", _arg(v))

    def __neg__(self) -> Sym:
        return made(self.rec.now.expr(-self.value, ("-", self)), np.negative, (self,))

    def __pos__(self) -> Sym:
        return self

    def __abs__(self) -> Sym:
        return self.rec.now.ufunc(np.absolute, "__call__", (self,), {})

    def __invert__(self) -> Sym:
        return self.rec.now.expr(~self.value, ("~", self))


def _binop(name: str, op: str) -> tuple:
    def forward(self: Sym, other: Any) -> Any:
        value = eval(f"a {op} b", {"a": self.value, "b": values(other)})  # noqa: S307
        return self.rec.now.binop(op, self, other, value)

    def reflected(self: Sym, other: Any) -> Any:
        value = eval(f"b {op} a", {"a": self.value, "b": values(other)})  # noqa: S307
        return self.rec.now.binop(op, other, self, value)

    def inplace(self: Sym, other: Any) -> Any:
        value = self.value
        result = eval(f"a {op} b", {"a": value, "b": values(other)})  # noqa: S307
        if not isinstance(value, np.ndarray) or result.shape != value.shape or self.const:
            raise Untraceable("in-place operation on a scalar or a folded constant")
        value[...] = result
        self.rec.now.statement(self, f" {op}= ", _arg(other))
        return self

    return forward, reflected, inplace


for _name, _op in _BINOPS.items():
    _f, _r, _i = _binop(_name, _op)
    setattr(Sym, f"__{_name}__", _f)
    if _name in _REFLECTED:
        continue
    setattr(Sym, f"__r{_name}__", _r)
    setattr(Sym, f"__i{_name}__", _i)


def values(x: Any) -> Any:
    """``x`` with every symbol replaced by its trace-time value (tuples, lists, dicts too)."""
    if isinstance(x, Sym):
        return x.value
    if isinstance(x, tuple):
        return tuple(values(e) for e in x)
    if isinstance(x, list):
        return [values(e) for e in x]
    if isinstance(x, dict):
        return {k: values(v) for k, v in x.items()}
    return x


class Quoted:
    """A string argument of a call (parts that are plain ``str`` are code)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


register(Sym, Quoted)


def _arg(a: Any) -> Any:
    return Quoted(a) if isinstance(a, str) else a


def call_args(args: Any, kwargs: dict) -> list:
    parts: list = []
    for a in args:
        parts += [_arg(a), ", "]
    for k, v in kwargs.items():
        parts += [f"{k}=", _arg(v), ", "]
    return parts[:-1]


def index_parts(index: Any) -> list:
    items = index if isinstance(index, tuple) else (index,)
    parts: list = []
    for i in items:
        if isinstance(i, slice):
            parts.append(":".join("" if v is None else repr(int(v)) for v in
                                  (i.start, i.stop) + ((i.step,) if i.step is not None else ())))
        elif i is None:
            parts.append("None")
        elif i is Ellipsis:
            parts.append("...")
        else:
            parts.append(i)
        parts.append(", ")
    if isinstance(index, tuple) and len(items) == 1:
        return parts  # keep the trailing comma of a 1-tuple
    return parts[:-1] if parts else ["()"]


class Recorder:
    """The lines of one generated function; constants are kept in a shared namespace."""

    def __init__(self, consts: Constants) -> None:
        self.lines: list[tuple] = []  # each a tuple of parts: str, Sym or constant
        self.consts = consts
        consts.active = self

    @property
    def now(self) -> Recorder:
        """The recorder lines go to now (the backward's, once it is being generated)."""
        return self.consts.active

    def activate(self) -> None:
        self.consts.active = self

    def mark(self) -> int:
        return len(self.lines)

    def undo(self, mark: int) -> None:
        del self.lines[mark:]

    def comment(self, *parts: Any) -> None:
        self.lines.append(("# ", *parts))

    def statement(self, *parts: Any) -> None:
        if any(isinstance(p, Sym) and p.const for p in parts[:1]):
            raise Untraceable("a folded constant changed in place")
        self.lines.append(frozen(parts))

    def expr(self, value: Any, parts: tuple, *more: Any, hint: str = "t") -> Sym:
        """A new symbol holding ``value``, assigned from the expression made of the parts; a
        constant (no line) when every symbol in them is one (`rewrite.foldable`)."""
        out = Sym(self, value, hint)
        parts = (*parts, *more)
        if foldable(parts):
            out.const = True
            return out
        self.lines.append((out, " = ", *frozen(parts)))
        return out

    def binop(self, op: str, left: Any, right: Any, value: Any) -> Any:
        """``left op right`` (one of them a symbol), rewritten where `rewrite.binop` can."""
        same = identity(op, left, right, value)
        if same is not None:
            return same
        parts, operands = binop_parts(op, left, right, value, self.consts)
        out = self.expr(value, parts)
        return made(out, "dot" if parts[1] == ".dot(" else _UFUNCS.get(op), operands)

    def constant_sym(self, value: Any, hint: str = "_c") -> Sym:
        return self.expr(value, (self.consts.ref(value),), hint=hint)

    def ufunc(self, ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
        out = kwargs.pop("out", None)
        if out is not None:
            out = out[0] if isinstance(out, tuple) and len(out) == 1 else out
            if not isinstance(out, Sym) or out.const:
                raise Untraceable("out= into an array that is not a symbol")
            kwargs["out"] = out
        value = getattr(ufunc, method)(*values(inputs), **values(kwargs))
        if isinstance(value, tuple):
            raise Untraceable(f"np.{ufunc.__name__} gives several arrays")
        if method == "__call__" and out is None and ufunc.nout == 1:
            inputs = scalar_operands(tuple(inputs), value, self.consts)
        fname = f"np.{ufunc.__name__}" if getattr(np, ufunc.__name__, None) is ufunc \
            else self.consts.ref(ufunc)
        callee = fname if method == "__call__" else f"{fname}.{method}"
        shown = (inputs, kwargs)
        if ufunc is np.add and method == "reduce" and out is None:
            shown = reduce_args(tuple(inputs), kwargs)
        parts = negation(ufunc, method, inputs, kwargs) or (f"{callee}(", *call_args(*shown),
                                                            ")")
        if out is not None:
            self.lines.append(frozen(parts))
            return out
        elementwise = method == "__call__" and not kwargs and fname == f"np.{ufunc.__name__}"
        return made(self.expr(value, parts), ufunc if elementwise else None, inputs,
                    reader=method == "reduce")

    def function(self, func: Any, args: tuple, kwargs: dict) -> Any:
        if func in (np.shape, np.ndim, np.size):
            return func(*values(args), **values(kwargs))
        value = func(*values(args), **values(kwargs))
        if not isinstance(value, (np.ndarray, np.generic)):
            raise Untraceable(f"np.{func.__name__} gives {type(value).__name__}")
        name = func.__name__
        callee = f"np.{name}" if getattr(np, name, None) is func else self.consts.ref(func)
        return self.expr(value, (f"{callee}(", *call_args(args, kwargs), ")"))


_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}


def made(out: Any, ufunc: Any, operands: tuple, reader: bool = False) -> Any:
    """Tag ``out`` as made by ``ufunc`` (elementwise, or "dot") from ``operands`` -- or, with
    ``reader``, by a call that reads them and keeps nothing (a reduction) -- for buffers.py."""
    if isinstance(out, Sym) and not out.const and (ufunc is not None or reader):
        out.made = (ufunc, tuple(operands))
    return out


def render_part(p: Any, consts: Constants) -> str:
    if isinstance(p, str):
        return p
    if isinstance(p, Quoted):
        return repr(p.text)
    if isinstance(p, Sym):
        return p.ident if not p.const else render_part(Frozen(p.value), consts)
    if isinstance(p, Named):
        return p.name
    if isinstance(p, Frozen):
        text = literal(p.value, consts)
        return text if text is not None else consts.ref(p.value, "_c")
    if isinstance(p, (tuple, list)) and any(isinstance(e, Sym) for e in p):
        inner = ", ".join(render_part(e, consts) for e in p)
        if isinstance(p, list):
            return f"[{inner}]"
        return f"({inner},)" if len(p) == 1 else f"({inner})"
    text = literal(p, consts)
    return text if text is not None else consts.ref(p)
