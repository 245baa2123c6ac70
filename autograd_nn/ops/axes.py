"""numpy's ``axis`` argument, normalised in one place: a bool refused (`refuse_bool_axis`),
an int or tuple as non-negative ints with errors naming the op (`axis_tuple`), and a
reduction's axes, sorted, None meaning all (`reduction_axes`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..errors import same_kind

__all__: list[str] = []


def refuse_bool_axis(op: str, axis: Any) -> None:
    """A bool is not an axis (numpy refuses it; ``operator.index(True)`` would read axis 1).
    ``op`` prefixes the message ('' inside a Function, whose apply names the op)."""
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    if any(isinstance(a, (bool, np.bool_)) for a in items):
        raise TypeError(f"{op + ': ' if op else ''}axis must be an int or a tuple of ints, "
                        f"got {axis!r}")


def axis_tuple(op: str, axis: Any, ndim: int, shape: tuple | None = None) -> tuple[int, ...]:
    """``axis`` (int or tuple, negatives allowed) as non-negative ints; an axis out of range
    (numpy's AxisError) or repeated (ValueError) is reported with the op's name and shape."""
    refuse_bool_axis(op, axis)
    try:
        return normalize_axis_tuple(axis, ndim)
    except ValueError as e:  # numpy's AxisError, or a repeated axis
        where = f" (operand shape {tuple(shape)})" if shape is not None else ""
        raise same_kind(e, f"{op}: {e}{where}") from None


def reduction_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """axis (None, int or tuple, negatives allowed) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # not a bool: type(True) is bool
        return (axis % ndim,)
    refuse_bool_axis("", axis)
    return tuple(sorted(normalize_axis_tuple(axis, ndim)))
