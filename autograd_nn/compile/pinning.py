"""Arguments that were, while tracing, also tensors the function reaches otherwise.

When an argument *is* a tensor the function also reads through a global, a closure or a module
(``f(w)`` with ``w`` a global that ``f`` uses too), the trace cannot tell the two uses apart:
both are that argument. The compiled version is then valid only for calls that pass that same
tensor in that position; a call with another tensor there traces again (without the pin it
would read the argument where the function reads the global). Found here: the tensors among
the function's closure cells and the globals its code names (nested code too), and the
parameters and buffers of the modules the trace ran (and of the optimizers' groups).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from ..tensor import Tensor


def reached_otherwise(fn: Any, modules: list) -> set[int]:
    """ids of the tensors ``fn`` may reach other than through its arguments."""
    found: set[int] = set()
    func = getattr(fn, "__func__", fn)
    for value in _globals_and_cells(func):
        _collect(value, found)
    for m in modules:
        found.update(id(t) for t in [*m.parameters(), *m.buffers()])
    return found


def _globals_and_cells(func: Any) -> list:
    return [value for _, value in named_globals_and_cells(func)]


def named_globals_and_cells(func: Any) -> list[tuple[str, Any]]:
    """(name, value) of ``func``'s filled closure cells and the globals its code names."""
    func = getattr(func, "__func__", func)
    if not isinstance(func, types.FunctionType):
        return []
    cells = zip(func.__code__.co_freevars, func.__closure__ or ())
    values = [(n, c.cell_contents) for n, c in cells if _filled(c)]
    g = func.__globals__
    stack = [func.__code__]
    while stack:
        code = stack.pop()
        values += [(n, g[n]) for n in code.co_names if n in g]
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return values


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _collect(value: Any, found: set[int]) -> None:
    """Tensors and plain arrays in ``value``: a Tensor or ndarray, a list/tuple/dict of
    them, a module's, an optimizer's."""
    if isinstance(value, (Tensor, np.ndarray)):
        found.add(id(value))
    elif isinstance(value, (list, tuple)):
        for v in value:
            if isinstance(v, (Tensor, np.ndarray)):
                found.add(id(v))
    elif isinstance(value, dict):
        found.update(id(v) for v in value.values() if isinstance(v, (Tensor, np.ndarray)))
    elif hasattr(value, "named_parameters") and hasattr(value, "buffers"):
        found.update(id(t) for t in [*value.parameters(), *value.buffers()])
    elif hasattr(value, "param_groups"):
        found.update(id(p) for g in value.param_groups for p in g["params"])
