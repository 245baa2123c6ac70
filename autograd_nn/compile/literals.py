"""Constants of the generated code: Python literals where a value has one, names otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np


class Constants:
    """Objects the generated code refers to by name (arrays, functions, classes, contexts)."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.namespace: dict[str, Any] = {"np": np}

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
        inner = [literal(v) for v in (x.start, x.stop, x.step)]
        return None if None in inner else f"slice({', '.join(inner)})"  # type: ignore[arg-type]
    if isinstance(x, (tuple, list)):
        inner = [literal(v) for v in x]
        if None in inner:
            return None
        body = ", ".join(inner)  # type: ignore[arg-type]
        if isinstance(x, list):
            return f"[{body}]"
        return f"({body},)" if len(x) == 1 else f"({body})"
    return None


def _numpy_literal(x: Any) -> str | None:
    if isinstance(x, np.dtype):
        return f"np.dtype({x.name!r})"
    if isinstance(x, type):
        ok = issubclass(x, np.generic) and getattr(np, x.__name__, None) is x
        return f"np.{x.__name__}" if ok else None
    if x.dtype.kind not in "biuf" or (x.dtype.kind == "f" and not np.isfinite(x)):
        return None
    return f"np.{x.dtype.name}({x.item()!r})"
