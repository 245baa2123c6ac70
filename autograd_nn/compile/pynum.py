"""Python numbers of a generated optimizer update: Adam's step count and what is computed from
it (``math.sqrt(1 - beta2**t)``, ``lr / (1 - beta1**t)``), and a learning rate read each call.

A `PyNum` is a symbol (`symbolic.Sym`) whose value is a Python ``int`` or ``float``. Arithmetic
with numbers or other `PyNum` (``+ - * / ** //``, unary ``-``) computes the value with Python
and appends the same Python operation as a line (``t3 = 0.999 ** t2``); ``optim._sqrt`` (the
rules' ``math.sqrt``) appends ``math.sqrt(t4)``. Next to an array symbol it is an operand of
that array's line (``t7 = t6 / t5``): the array line gets the Python number, as numpy does
in eager mode. None of the recorder's rewrites apply to it (they look for exact `Sym` types
and Python literals). Reading its value (``bool``, ``float``, a comparison, numpy on it)
raises `Untraceable`, so a rule that branches on it keeps calling ``opt.step()``.
"""

from __future__ import annotations

import math
from typing import Any

from .symbolic import Recorder, Sym, Untraceable

_OPS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "pow": "**",
        "mod": "%"}


class PyNum(Sym):
    """A Python number of the generated code (see the module docstring)."""

    __slots__ = ()

    def _line(self, value: Any, *parts: Any) -> PyNum:
        out = PyNum(self.rec.now, value, "t")
        self.rec.now.lines.append((out, " = ", *parts))
        return out

    def record_sqrt(self) -> PyNum:
        """``math.sqrt(self)`` as a line (``optim._sqrt`` calls it)."""
        self.rec.now.consts.namespace["math"] = math
        return self._line(math.sqrt(self.value), "math.sqrt(", self, ")")

    def __neg__(self) -> PyNum:
        return self._line(-self.value, "-", self)

    def __array_ufunc__(self, *_: Any, **__: Any) -> Any:
        raise Untraceable("numpy applied to a Python number of the update")

    def __array_function__(self, *_: Any) -> Any:
        raise Untraceable("numpy applied to a Python number of the update")

    def _compare(self, *_: Any) -> Any:
        raise Untraceable("a rule compared a Python number of the update")

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _compare
    __hash__ = Sym.__hash__


def _operand(x: Any) -> Any:
    """A number or `PyNum` as a line operand (a negative literal in parentheses), or None."""
    if type(x) is PyNum:
        return x
    if type(x) in (int, float):
        if not math.isfinite(x):
            raise Untraceable("a non-finite number in an update's arithmetic")
        return f"({x!r})" if x < 0 else x
    return None


def _pyop(op: str) -> tuple:
    def forward(self: PyNum, other: Any) -> Any:
        b = _operand(other)
        if b is None:
            return NotImplemented  # an array symbol: its own reflected operator writes the line
        value = eval(f"a {op} b", {"a": self.value, "b": getattr(other, "value", other)})  # noqa: S307
        return self._line(value, self, f" {op} ", b)

    def reflected(self: PyNum, other: Any) -> Any:
        a = _operand(other)
        if a is None:
            return NotImplemented
        value = eval(f"a {op} b", {"a": getattr(other, "value", other), "b": self.value})  # noqa: S307
        return self._line(value, a, f" {op} ", self)

    return forward, reflected


for _name, _op in _OPS.items():
    _f, _r = _pyop(_op)
    setattr(PyNum, f"__{_name}__", _f)
    setattr(PyNum, f"__r{_name}__", _r)
    setattr(PyNum, f"__i{_name}__", _f)  # ``t += 1`` rebinds: a new line, a new number


def number(rec: Recorder, value: Any, hint: str) -> PyNum:
    """An input of the generated update that is a Python number."""
    return PyNum(rec, value, hint)
