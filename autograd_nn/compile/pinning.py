"""Arguments that were, while tracing, also tensors the function reaches otherwise.

When an argument *is* a tensor the function also reads through a global, a closure or a module
(``f(w)`` with ``w`` a global that ``f`` uses too), the trace cannot tell the two uses apart:
both are that argument. The compiled version is then valid only for calls that pass that same
tensor in that position; a call with another tensor there traces again (without the pin it
would read the argument where the function reads the global). Found here: the tensors and
arrays among the function's closure cells, default arguments and the globals its code names
(nested code too), followed a few levels into containers, plain objects' attributes, the
helper functions found there (their own globals, closures and defaults), a bound method's
object, a callable object's ``__call__`` and a ``functools.partial``'s function and
arguments; the tensors and arrays a Python module among them holds under a name the code reads
(``mymodule.w``); and the parameters and buffers of the modules the trace ran and of the
optimizers.
"""

from __future__ import annotations

import functools
import types
from typing import Any

import numpy as np

from ..tensor import Tensor


def reached_otherwise(fn: Any, modules: list) -> set[int]:
    """ids of the tensors ``fn`` may reach other than through its arguments."""
    found: set[int] = set()
    seen: set[int] = set()
    func = getattr(fn, "__func__", fn)
    if hasattr(fn, "__self__"):  # a bound method: what its object holds
        _collect(fn.__self__, found, seen, 0)
    _collect(func, found, seen, 0)
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
    stack, names = [func.__code__], set[str]()
    while stack:
        code = stack.pop()
        values += [(n, g[n]) for n in code.co_names if n in g]
        names.update(code.co_names)
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return values + _module_arrays(values, names)


def _module_arrays(values: list[tuple[str, Any]], names: set[str]) -> list[tuple[str, Any]]:
    """The tensors and arrays that the modules among ``values`` hold under a name the code
    reads (``mymodule.w``; `vars`, so no module ``__getattr__`` runs), as ``mymodule_w``."""
    return [(f"{n}_{a}", x) for n, m in values if isinstance(m, types.ModuleType)
            for a in names if isinstance(x := vars(m).get(a), (Tensor, np.ndarray))]


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


_DEPTH = 4  # how far attributes, containers and helper functions are followed


def _collect(value: Any, found: set[int], seen: set[int], depth: int) -> None:
    """Tensors and plain arrays in ``value``: a Tensor or ndarray; what a list, tuple, dict or
    plain object's attributes hold; a module's or an optimizer's tensors; what a function (a
    helper the function calls) reaches through its globals and closure. Followed ``_DEPTH``
    levels deep, each object once; Python modules are not followed, nor a class's methods (its
    other attributes are)."""
    if isinstance(value, (Tensor, np.ndarray)):
        found.add(id(value))
        return
    if depth > _DEPTH or id(value) in seen or isinstance(value, types.ModuleType):
        return
    if isinstance(value, type):  # a class's attributes (``K.w``), not its methods' globals
        seen.add(id(value))
        for item in vars(value).values():
            if not isinstance(item, (types.FunctionType, classmethod, staticmethod, property)):
                _collect(item, found, seen, depth + 1)
        return
    seen.add(id(value))
    if hasattr(value, "named_parameters") and hasattr(value, "buffers"):
        found.update(id(t) for t in [*value.parameters(), *value.buffers()])
        return
    if hasattr(value, "param_groups"):
        found.update(id(p) for g in value.param_groups for p in g["params"])
        return
    for item in _contents(value):
        _collect(item, found, seen, depth + 1)


def _contents(value: Any) -> list:
    """What ``value`` holds that a function may read: items, attributes, globals and cells."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, types.FunctionType):
        defaults = [*(value.__defaults__ or ()), *(value.__kwdefaults__ or {}).values()]
        return [v for _, v in named_globals_and_cells(value)] + defaults
    if isinstance(value, types.MethodType):
        return [value.__self__, value.__func__]
    if isinstance(value, functools.partial):  # its function and the arguments it binds
        return [value.func, *value.args, *value.keywords.values()]
    attrs = getattr(value, "__dict__", None)
    held = list(attrs.values()) if isinstance(attrs, dict) else []
    call = _call_of(value)  # a callable object: what its __call__ reads
    return held + [call] if call is not None else held


def bindings(fn: Any) -> list[tuple[Any, str | None, Any]]:
    """The names ``fn``'s own code reads from its globals and closure, with the object each
    holds now (after the trace): ``(its globals dict, the name, the object)`` or ``(a closure
    cell, None, the object)``. The trace read those objects (a tensor, an array, a number
    written into the code as a constant, a module, a helper function), so a later call checks
    that each name still holds its object (`still_bound`): rebinding one (``W = Tensor(...)``,
    ``scale = 3.0``) traces again, where the compiled code would read the old one. Python
    modules (``np``) are not watched; what an object holds is not (in-place changes of tensors
    are followed by their versions, a module's attributes by modules.py)."""
    func = _code_of(fn)
    if func is None:
        return []
    found: list[tuple[Any, str | None, Any]] = [
        (c, None, c.cell_contents) for c in func.__closure__ or ()
        if _filled(c) and not isinstance(c.cell_contents, types.ModuleType)]
    g, stack = func.__globals__, [func.__code__]
    while stack:
        code = stack.pop()
        found += [(g, n, g[n]) for n in code.co_names
                  if n in g and not isinstance(g[n], types.ModuleType)]
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return found


def _code_of(fn: Any) -> types.FunctionType | None:
    """The Python function whose code a call of ``fn`` runs first: ``fn`` itself, a method's
    function, a partial's function, or a callable object's ``__call__``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    func = getattr(fn, "__func__", fn)
    return func if isinstance(func, types.FunctionType) else _call_of(fn)


def _call_of(value: Any) -> types.FunctionType | None:
    """A callable object's ``__call__`` (its class's own, or an inherited one), if Python."""
    call = next((vars(k)["__call__"] for k in type(value).__mro__ if "__call__" in vars(k)), None)
    return call if isinstance(call, types.FunctionType) else None


def still_bound(held: list[tuple[Any, str | None, Any]]) -> bool:
    """Does every name of `bindings` still hold its object?"""
    for holder, name, value in held:
        if name is not None:
            if holder.get(name, _UNBOUND) is not value:
                return False
        elif not _filled(holder) or holder.cell_contents is not value:
            return False
    return True


_UNBOUND = object()
