"""Save parameters to ``.npz`` and load them back, without pickle.

``save(model_or_state_dict, path)`` writes one array per dotted parameter name with
``np.savez`` (to exactly ``path``: no ``.npz`` is appended; written to a temporary file and
renamed, so an interrupted save leaves any earlier file intact).
``load(path, model)`` reads with ``np.load(..., allow_pickle=False)``, checks every entry
against the model (names, shapes, floating dtypes), and only then copies; any problem raises a
single `SerializationError` naming it, and the model is left exactly as it was.
``load(path)`` without a model returns the state dict.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor
from .module import Module, StateDictError


class SerializationError(StateDictError):
    """A parameter file is unreadable, not an .npz archive, or does not fit the model."""


def _arrays_of(obj: Module | Mapping[str, Any]) -> dict[str, np.ndarray]:
    if isinstance(obj, Module):
        return obj.state_dict()
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a Module or a mapping name -> array, "
                        f"got {type(obj).__name__}")
    out = {}
    for k, v in obj.items():
        if not isinstance(k, str) or not k:
            raise TypeError(f"save: keys must be non-empty strings, got {k!r}")
        arr = v._data if isinstance(v, Tensor) else np.asarray(v)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"save: entry {k!r} has dtype {arr.dtype}; only numeric arrays "
                            "can be saved without pickle")
        out[k] = arr
    return out


def save(obj: Module | Mapping[str, Any], path: str | os.PathLike) -> str:
    """Write a module's parameters (or a state dict) to the ``.npz`` file ``path``."""
    arrays = _arrays_of(obj)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _read(path: str) -> dict[str, np.ndarray]:
    """Every entry of the archive, read into memory (the file is closed afterwards)."""
    where = f"cannot load parameters from {path!r}"
    if not os.path.exists(path):
        raise FileNotFoundError(f"{where}: no such file")
    with open(path, "rb") as f:
        head = f.read(6)
    if not head:
        raise SerializationError(f"{where}: the file is empty")
    if head.startswith(b"\x93NUMPY"):
        raise SerializationError(f"{where}: it holds a single .npy array, not an .npz archive "
                                 "of named parameters")
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise SerializationError(f"{where}: not an .npz archive (it does not start with the "
                                 "zip signature: a foreign or corrupted file)")
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - zip, EOF and format errors of a damaged archive
        raise SerializationError(f"{where}: the file is truncated or corrupted: "
                                 f"{type(e).__name__}: {e}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):  # pragma: no cover - the signature said zip
        raise SerializationError(f"{where}: not an .npz archive")
    arrays = {}
    with npz:
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except ValueError as e:
                if "pickle" in str(e):
                    raise SerializationError(f"{where}: entry {key!r} holds Python objects "
                                             "(pickle), which is refused") from None
                raise SerializationError(f"{where}: entry {key!r} is unreadable: {e}") from None
            except Exception as e:  # noqa: BLE001 - zip/CRC/EOF errors of a damaged archive
                raise SerializationError(f"{where}: entry {key!r} is truncated or corrupted: "
                                         f"{type(e).__name__}: {e}") from None
    return arrays


def load(path: str | os.PathLike, model: Module | None = None,
         strict: bool = True) -> dict[str, np.ndarray]:
    """Read the ``.npz`` file ``path``; with ``model``, load it into the model's parameters.

    Returns the state dict read. With a model, every entry is checked first (missing or
    extra names when ``strict``, shapes, non-floating dtypes); floating entries are cast to the
    parameter's dtype. On any problem a `SerializationError` names it and the model is
    unchanged.
    """
    path = os.fspath(path)
    arrays = _read(path)
    if model is not None:
        if not isinstance(model, Module):
            raise TypeError(f"load: model must be a Module, got {type(model).__name__}")
        try:
            model.load_state_dict(arrays, strict=strict)
        except StateDictError as e:
            raise SerializationError(f"cannot load {path!r}: {e}") from None
    return arrays
