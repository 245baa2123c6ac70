"""Validation of optimizer hyperparameters and state entries, shared by `step` and
`load_state_dict` so that both check everything before the first write."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .tensor import Tensor

_Real = (int, float, np.integer, np.floating)


def check_number(opt: str, name: str, value: Any, low: float, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False) -> None:
    """Raise ValueError unless ``value`` is a finite real number within the bounds."""
    ok = isinstance(value, _Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and \
             (value < high if high_open else value <= high)
    if not ok:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{opt}: invalid {name} {value!r}; it must be a finite number in "
                         f"{lo}{low}, {high}{hi}")


def sections(name: str, state_dict: Any) -> tuple[list[dict[str, Any]], Mapping[Any, Any]]:
    """The ``param_groups`` (a list of dicts with a ``params`` list) and ``state`` (a
    mapping) of an optimizer state dict."""
    if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
        raise ValueError(f"{name}: expected a dict with exactly 'state' and 'param_groups'")
    groups, state = state_dict["param_groups"], state_dict["state"]
    if not isinstance(groups, (list, tuple)) or not all(
            isinstance(g, Mapping) and isinstance(g.get("params"), (list, tuple))
            for g in groups):
        raise ValueError(f"{name}: 'param_groups' must be a list of dicts, each with a "
                         "'params' list")
    if not isinstance(state, Mapping):
        raise ValueError(f"{name}: 'state' must be a dict, got {type(state).__name__}")
    return list(groups), state


def state_array(where: str, label: str, key: str, v: Any, p: Tensor) -> np.ndarray:
    """A state buffer: a floating ndarray (or Tensor) of the parameter's shape."""
    arr = v._data if isinstance(v, Tensor) else v
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{where} {key!r} of {label} must be a floating array of the "
                        f"parameter's shape {p.shape}, got {type(v).__name__}")
    if arr.shape != p.shape or arr.dtype.kind != "f":
        raise ValueError(f"{where} {key!r} of {label} has shape {arr.shape} {arr.dtype}, "
                         f"expected {p.shape} floating")
    return arr


def checked_state(where: str, label: str, p: Tensor, entry: Any,
                  spec: dict[str, tuple[bool, str]], opt: str) -> dict[str, Any]:
    """One parameter's state entry (its arrays not copied) after checking it against
    ``spec`` (name -> (required, "array" or "count")); ``where`` and ``label`` (the
    parameter) name it in errors."""
    if not isinstance(entry, dict):
        raise TypeError(f"{where} of {label} must be a dict, got {type(entry).__name__}")
    out: dict[str, Any] = {}
    if not entry:
        return out
    unknown = sorted(set(entry) - set(spec), key=repr)
    missing = sorted(k for k, (req, _) in spec.items() if req and k not in entry)
    if unknown or missing:
        raise ValueError(f"{where} of {label}: unknown entries {unknown} and missing "
                         f"{missing}; {opt} keeps {sorted(spec)}")
    for k, v in entry.items():
        kind = spec[k][1]
        if kind == "count":
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise TypeError(f"{where} {k!r} of {label} must be a non-negative int, "
                                f"got {v!r}")
            out[k] = int(v)
        elif v is None and not spec[k][0]:
            continue  # an optional buffer not made yet
        else:
            out[k] = state_array(where, label, k, v, p)
    return out
