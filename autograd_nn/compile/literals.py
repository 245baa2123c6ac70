"""Constants of the generated code: Python literals where a value has one, names otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np


class Named:
    """A 0-d array constant rendered by a readable name (``c1_0``, ``c0_5_float32``)."""

    __slots__ = ("value", "name")

    def __init__(self, value: np.ndarray, name: str) -> None:
        self.value, self.name = value, name


class Constants:
    """Objects the generated code refers to by name (arrays, functions, classes, contexts)."""

    # where lines go now: the symbolic.Recorder made last on these constants (typed Any: this
    # module is below symbolic.py, imports flow one way)
    active: Any

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.namespace: dict[str, Any] = {"np": np}
        self.scalars: dict[tuple, Named] = {}  # (dtype, value) -> its name

    def named_scalar(self, c: np.ndarray) -> Named:
        """A 0-d array constant by a readable name: ``c1_0``, ``c0_5_float32``, ``cm1_0``."""
        key = (c.dtype.str, repr(c.item()))
        if key not in self.scalars:
            name = "c" + repr(c.item()).replace(".", "_").replace("-", "m").replace("+", "p")
            name += "" if c.dtype == np.float64 else "_" + c.dtype.name
            while name in self.namespace:
                name += "_"
            self.namespace[name] = c
            self.scalars[key] = Named(c, name)
        return self.scalars[key]

    def ref(self, obj: Any, hint: str = "_k") -> str:
        key = id(obj)
        if key not in self.names:
            name = f"{hint}{len(self.names)}"
            self.names[key] = name
            self.namespace[name] = obj
        return self.names[key]


def literal(x: Any, consts: Constants | None = None) -> str | None:
    """Python source for a constant whose repr evaluates to an equal value of the same type
    (None when there is none: the constant is then referred to by name)."""
    if x is None or x is Ellipsis or isinstance(x, (bool, str)) or type(x) is int:
        return repr(x)
    if type(x) is float:
        return repr(x) if np.isfinite(x) else f"float({str(x)!r})"
    if isinstance(x, (np.generic, np.dtype, type)):
        return _numpy_literal(x)
    if isinstance(x, slice):
        inner = _literals([x.start, x.stop, x.step])
        return None if inner is None else f"slice({', '.join(inner)})"
    if isinstance(x, (tuple, list)):
        items = _literals(x)
        if items is None:
            return None
        body = ", ".join(items)
        if isinstance(x, list):
            return f"[{body}]"
        return f"({body},)" if len(x) == 1 else f"({body})"
    return None


def _literals(xs: tuple | list) -> list[str] | None:
    """The literals of all of ``xs``, or None when one of them has none."""
    inner = [literal(v) for v in xs]
    texts = [t for t in inner if t is not None]
    return texts if len(texts) == len(inner) else None


def _numpy_literal(x: Any) -> str | None:
    if isinstance(x, np.dtype):
        return f"np.dtype({x.name!r})"
    if isinstance(x, type):
        ok = issubclass(x, np.generic) and getattr(np, x.__name__, None) is x
        return f"np.{x.__name__}" if ok else None
    if x.dtype.kind not in "biuf" or (x.dtype.kind == "f" and not np.isfinite(x)):
        return None
    return f"np.{x.dtype.name}({x.item()!r})"
