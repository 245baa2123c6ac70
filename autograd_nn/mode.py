"""Thread-local switches read by every op: grad mode, anomaly mode, the module scope."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from .function import Function

F = TypeVar("F", bound=Callable[..., Any])


class Mode:
    """The switches of one thread (ops read them on every call)."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "backward_node", "tracer")

    def __init__(self) -> None:
        self.grad_enabled = True  # ops record a graph
        self.anomaly = False  # ops record their creation site and check for NaN/inf
        self.scope: tuple[Any, ...] = ()  # modules whose forward is running, outermost first
        # under anomaly mode: the node whose backward rule is running (its ops are blamed on it)
        self.backward_node: Function | None = None
        self.tracer: Any = None  # while ag.compile traces: it applies (and records) every op


class _Local(threading.local):
    def __init__(self) -> None:  # runs once in every thread that looks
        self.mode = Mode()


LOCAL = _Local()  # hot paths read ``LOCAL.mode`` once (one thread-local lookup), then its slots


class _StateView:
    """``STATE.grad_enabled`` etc.: this thread's `Mode`, for code off the hot path."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(LOCAL.mode, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(LOCAL.mode, name, value)


STATE = cast(Mode, _StateView())


def is_grad_enabled() -> bool:
    """True when ops record the graph they are part of."""
    return STATE.grad_enabled


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off in this thread."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev: list[bool] = []

    def __enter__(self) -> None:
        state = LOCAL.mode  # not STATE, whose __getattr__ is 2 Python calls a with-block
        self.prev.append(state.grad_enabled)
        state.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        LOCAL.mode.grad_enabled = self.prev.pop()

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(set_grad_enabled):
    """``with no_grad():`` (or ``@no_grad()``): ops inside record nothing, results need no grad."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """``with enable_grad():`` re-enables recording inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)
