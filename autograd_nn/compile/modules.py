"""The modules a trace ran: their Python attributes are part of what a compiled version assumes.

A module's ``forward`` may read its own Python attributes (``self.training``, ``Dropout.p``,
``LeakyReLU.negative_slope``) and the trace bakes what they were into the code. So the trace
records every module whose ``__call__`` ran (and the module of ``ag.compile(model)`` or
``ag.compile(model.forward)``), wherever it came from (an argument, a closure, a global), and a
compiled version is used only while their attributes that are plain Python values (bool, int,
float, str, None, tuples of them; a random generator by identity) are what they were.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .trace import active

_PLAIN = (bool, int, float, str, type(None))


def _plain(v: Any) -> bool:
    if isinstance(v, _PLAIN):
        return True
    if isinstance(v, tuple):
        return all(_plain(e) for e in v)
    return isinstance(v, np.random.Generator)


def module_call(original: Any) -> Any:
    """``Module.__call__`` that shows the tracing thread's tracer the module it runs."""
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        tr = active()
        if tr is not None:
            tr.modules.setdefault(id(self), self)
        return original(self, *args, **kwargs)

    return call


def module_of(fn: Any) -> Any:
    """The module ``fn`` is (``ag.compile(model)``) or is a method of (``model.forward``)."""
    from ..nn.module import Module

    for m in (fn, getattr(fn, "__self__", None)):
        if isinstance(m, Module):
            return m
    return None


class ModuleAttributes:
    """The plain Python attributes of the modules a trace ran, as they were."""

    def __init__(self, modules: list) -> None:
        self.modules = modules  # kept alive: the dicts below are theirs
        self.watched: list[tuple] = []
        self.buffers: list[tuple] = []  # (a module's buffer dict, its tensors' identities)
        for m in modules:
            bufs = getattr(m, "_buffers", None)
            if bufs:  # a buffer replaced (bn.running_mean = ...) is another captured tensor
                self.buffers.append((bufs, tuple(map(id, bufs.values()))))
            d = vars(m)
            keys = [k for k, v in d.items() if _plain(v)]
            if keys:
                get = operator.itemgetter(*keys)
                self.watched.append((get, d, get(d)))

    def unchanged(self) -> bool:
        try:
            for get, d, values in self.watched:
                now = get(d)  # one key: the value itself (`is` first: a NaN is not == itself)
                if now is not values and now != values:
                    return False
        except KeyError:  # an attribute was deleted
            return False
        return not self.buffers or all(tuple(map(id, d.values())) == ids
                                       for d, ids in self.buffers)
