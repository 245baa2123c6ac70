"""A rule's module as it sees numpy while the rule is interpreted on symbols."""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from .symbolic import Sym


class _RecordingNumpy(types.ModuleType):
    """numpy as a rule's module sees it while interpreted: ``np.asarray`` of a symbol is the
    symbol (the one numpy call that does not dispatch); everything else is numpy itself."""

    def __init__(self) -> None:
        super().__init__("numpy")

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def asarray(a: Any, dtype: Any = None, **kw: Any) -> Any:
        if isinstance(a, Sym):
            return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
        return np.asarray(a, dtype=dtype, **kw)

    asanyarray = asarray


RECORDING_NUMPY = _RecordingNumpy()
_REBOUND: dict = {}


def interpretable(fn: Any) -> Any:
    """``fn`` (a rule) with its module's ``np`` bound to the recording numpy (cached)."""
    bound_self = getattr(fn, "__self__", None)
    func = getattr(fn, "__func__", fn)
    if not isinstance(func, types.FunctionType):
        return fn
    new = _REBOUND.get(func)
    if new is None:
        g = func.__globals__
        if g.get("np") is np:
            g = {**g, "np": RECORDING_NUMPY}
        new = types.FunctionType(func.__code__, g, func.__name__, func.__defaults__,
                                 func.__closure__)
        new.__kwdefaults__ = func.__kwdefaults__
        _REBOUND[func] = new
    return new if bound_self is None else types.MethodType(new, bound_self)
