"""Error helpers shared by the engine's modules."""

from __future__ import annotations

import numpy as np


def same_kind(e: Exception, msg: str) -> Exception:
    """An exception of ``e``'s kind carrying ``msg`` (numpy's own error classes take other
    constructor arguments, so those become the builtin class they derive from)."""
    try:
        return type(e)(msg)
    except Exception:
        kinds = (TypeError, IndexError, ValueError, RuntimeError)
        return next(k for k in kinds if isinstance(e, k))(msg)


def as_flag(where: str, value: object) -> bool:
    """``value`` as a bool if it is one (Python's or numpy's); anything else, a string such
    as ``"no"`` or a number, raises TypeError instead of being read as truthy."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{where} must be a bool (True or False), got {value!r} "
                    f"of type {type(value).__name__}")


class MissingDependencyError(ImportError):
    """An optional dependency is needed for this function; the message says how to get it."""
