"""``ctx.xp`` when a rule is interpreted for code (the third interpretation, symbolic.py): each
name of the numpy namespace the rules are written against (``registry.PLAIN``) emits a call of
that same function, computed on the symbols' values. Two calls are written in the form that
gives the same bits faster (rewrite.py): ``xp.matmul`` of 2-D float arrays as ``.dot``, and
``xp.sum`` with an axis as ``np.add.reduce``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .rewrite import dot_is_matmul, reduce_args
from .symbolic import Recorder, Sym, Untraceable, call_args, made, values


class RecordingXP:
    """``ctx.xp`` when a rule is interpreted for code: each name emits a call of the numpy
    namespace's own function of that name (``xp.sum(g, axis=0)``), computed on the values."""

    def __init__(self, base: Any) -> None:
        self._base = base

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._base, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            rec = _recorder_of(args, kwargs)
            value = fn(*values(args), **values(kwargs))
            if rec is None:  # no symbol among the operands: a constant of the rule
                return value
            rec = rec.now
            if not isinstance(value, (np.ndarray, np.generic)):
                raise Untraceable(f"xp.{name} gives {type(value).__name__}")
            if _is_matmul(fn, args, kwargs) and dot_is_matmul(args[0], args[1], value):
                return made(rec.expr(value, (args[0], ".dot(", args[1], ")")), "dot", args)
            callee = f"xp.{name}"
            shown = args, kwargs
            if _is_add_reduce(fn, args, kwargs):
                callee = "np.add.reduce"  # what xp.sum calls: 0.93 us instead of 1.02 (1x16)
                shown = reduce_args(args, kwargs)
            out = rec.expr(value, (f"{callee}(", *call_args(*shown), ")"))
            ufunc = fn if isinstance(fn, np.ufunc) and not kwargs and getattr(np, fn.__name__,
                                                                             None) is fn else None
            return made(out, ufunc, args, reader=name == "sum")

        return call


def _is_matmul(fn: Any, args: tuple, kwargs: dict) -> bool:
    """Is ``fn`` ``xp.matmul`` (ops' numpy_matmul: np.matmul, or np.dot for an outer product)?"""
    from ..ops.arithmetic import numpy_matmul

    return fn is numpy_matmul and len(args) == 2 and not kwargs


def _is_add_reduce(fn: Any, args: tuple, kwargs: dict) -> bool:
    """Is ``fn(*args, **kwargs)`` ``np.add.reduce`` with the same arguments (``xp.sum`` with an
    axis given: np.add.reduce's default axis is 0, not None)?"""
    from ..ops.reduce import numpy_sum

    return (fn is numpy_sum and set(kwargs) <= {"axis", "keepdims"}
            and (len(args) == 2 or (len(args) == 1 and "axis" in kwargs)))


def _recorder_of(args: Any, kwargs: dict) -> Recorder | None:
    stack = [args, list(kwargs.values())]
    while stack:
        for a in stack.pop():
            if isinstance(a, Sym):
                return a.rec
            if isinstance(a, (tuple, list)):
                stack.append(a)
    return None
