"""Error helpers shared by the engine's modules."""

from __future__ import annotations


def same_kind(e: Exception, msg: str) -> Exception:
    """An exception of ``e``'s kind carrying ``msg`` (numpy's own error classes take other
    constructor arguments, so those become the builtin class they derive from)."""
    try:
        return type(e)(msg)
    except Exception:
        kinds = (TypeError, IndexError, ValueError, RuntimeError)
        return next(k for k in kinds if isinstance(e, k))(msg)
