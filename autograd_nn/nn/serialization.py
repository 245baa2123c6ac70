"""Save parameters to ``.npz`` and load them back, without pickle.

``save(model_or_state_dict, path)`` writes one ``<name>.npy`` member per state-dict entry into
a zip archive, the layout ``np.savez`` makes, but written here so that any key works (numpy's
own ``np.savez(file, allow_pickle=..., **kwds)`` would swallow keys named ``file`` or
``allow_pickle``). It writes to exactly ``path`` (no ``.npz`` appended), to a temporary file
renamed over it, so an interrupted save leaves any earlier file intact; an existing file keeps
its permission bits, a new one gets the usual ``0o666 & ~umask``.

``load(path, model)`` reads the archive's directory and every member's ``.npy`` header first
(names, dtypes, shapes, declared sizes against the member's real size), checks them against
the model's state dict (names, shapes), and only then reads the data of the entries the model
needs, so memory stays bounded by the model whatever the file declares. Each member name maps
to exactly one key (one ``.npy`` suffix removed; duplicates refused). Any problem raises a
single `SerializationError` naming it, and the model is left exactly as it was. Object arrays
(pickle) are refused. ``load(path)`` without a model returns the whole state dict.
"""

from __future__ import annotations

import math
import os
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..tensor import Tensor
from .module import Module, StateDictError

if TYPE_CHECKING:
    from ..types import TensorLike


class SerializationError(StateDictError):
    """A parameter file is unreadable, not an .npz archive, or does not fit the model."""


def _arrays_of(obj: Module | Mapping[str, TensorLike]) -> dict[str, np.ndarray]:
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


def save(obj: Module | Mapping[str, TensorLike], path: str | os.PathLike) -> str:
    """Write a module's state dict (or a mapping name -> array) to the ``.npz`` file ``path``."""
    arrays = _arrays_of(obj)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            for key, arr in arrays.items():
                with zf.open(key + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=False)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _mode_for(path: str) -> int:
    """The permission bits the saved file gets: an existing file's, else ``0o666 & ~umask``."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0o022)  # reading the umask means setting it; restored at once
        os.umask(umask)
        return 0o666 & ~umask


class _Member(NamedTuple):
    """One archive member, described by its ``.npy`` header (no data read)."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    nbytes: int


def _open_archive(where: str, path: str) -> zipfile.ZipFile:
    """The zip archive at ``path`` after checking its first bytes (a clear error for an
    empty file, a single ``.npy`` or a foreign format)."""
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
        return zipfile.ZipFile(path)
    except Exception as e:  # noqa: BLE001 - zip, EOF and format errors of a damaged archive
        raise SerializationError(f"{where}: the file is truncated or corrupted: "
                                 f"{type(e).__name__}: {e}") from None


def _header(where: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> _Member:
    """Read only the ``.npy`` header of one member and check it against the member's size."""
    fmt = np.lib.format
    try:
        with zf.open(info) as f:
            version = fmt.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unsupported .npy format version {version}")
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, fortran, dtype = read(f)
            offset = f.tell()
    except Exception as e:  # noqa: BLE001 - a damaged header or member
        raise SerializationError(f"{where}: entry {key!r} is truncated or corrupted: "
                                 f"{type(e).__name__}: {e}") from None
    if dtype.hasobject:
        raise SerializationError(f"{where}: entry {key!r} holds Python objects (pickle), "
                                 "which is refused")
    if dtype.kind not in "biuf":
        raise SerializationError(f"{where}: entry {key!r} has dtype {dtype}; only numeric "
                                 "arrays are read")
    nbytes = math.prod(shape) * dtype.itemsize
    if info.file_size != offset + nbytes:
        raise SerializationError(
            f"{where}: entry {key!r} declares shape {shape} {dtype} ({nbytes} bytes of data) "
            f"but the member holds {info.file_size - offset}: truncated or corrupted")
    return _Member(info, tuple(shape), dtype, bool(fortran), nbytes)


def _directory(where: str, zf: zipfile.ZipFile) -> dict[str, _Member]:
    """Every member as key -> header: each name ends in ``.npy`` (removed once) and
    appears once."""
    members: dict[str, _Member] = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy") or info.is_dir():
            raise SerializationError(f"{where}: member {info.filename!r} is not a .npy array "
                                     "(not an archive written by save or np.savez)")
        key = info.filename[:-4]
        if key in members:
            raise SerializationError(f"{where}: entry {key!r} appears twice in the archive")
        members[key] = _header(where, zf, info, key)
    return members


def _data(where: str, zf: zipfile.ZipFile, key: str, m: _Member) -> np.ndarray:
    """The array of one member, read into one buffer of exactly the declared size."""
    buf = bytearray(m.nbytes)
    try:
        with zf.open(m.info) as f:
            f.seek(m.info.file_size - m.nbytes)
            got = 0
            while got < m.nbytes:  # in chunks of at most 1 MiB: one copy of the data
                chunk = f.read(min(m.nbytes - got, 1 << 20))
                if not chunk:
                    raise EOFError(f"{m.nbytes - got} bytes missing")
                buf[got:got + len(chunk)] = chunk
                got += len(chunk)
            if f.read(1):  # pragma: no cover - the header check fixed the size
                raise ValueError("data after the declared array")
    except Exception as e:  # noqa: BLE001 - zip/CRC/EOF errors of a damaged archive
        raise SerializationError(f"{where}: entry {key!r} is truncated or corrupted: "
                                 f"{type(e).__name__}: {e}") from None
    arr = np.frombuffer(buf, dtype=m.dtype)
    return arr.reshape(m.shape, order="F" if m.fortran else "C")


def _check_against(where: str, model: Module, members: dict[str, _Member],
                   strict: bool) -> list[str]:
    """The keys to read for ``model``, after checking names and shapes from the headers."""
    own = {k: np.shape(v) for k, v in model.state_dict().items()}
    problems = []
    if strict:
        problems += [f"missing key {k!r}" for k in own if k not in members]
        problems += [f"unexpected key {k!r}" for k in members if k not in own]
    wanted = [k for k in own if k in members]
    problems += [f"{k!r}: shape {members[k].shape} does not match the model's shape {own[k]}"
                 for k in wanted if members[k].shape != own[k]]
    if problems:
        raise SerializationError(f"{where}: Error(s) in loading state_dict for "
                                 f"{type(model).__name__}: " + "; ".join(problems)
                                 + ". Nothing was loaded.")
    return wanted


def load(path: str | os.PathLike, model: Module | None = None,
         strict: bool = True) -> dict[str, np.ndarray]:
    """Read the ``.npz`` file ``path``; with ``model``, load it into the model's state.

    Returns the state dict read (with a model and ``strict=False``, only the entries the
    model has). With a model, names and shapes are checked from the headers before any data
    is read (missing or extra names when ``strict``), then dtypes by
    ``model.load_state_dict``; floating entries are cast to the parameter's dtype. On any
    problem a `SerializationError` names it and the model is unchanged.
    """
    path = os.fspath(path)
    where = f"cannot load parameters from {path!r}"
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"load: model must be a Module, got {type(model).__name__}")
    with _open_archive(where, path) as zf:
        try:
            members = _directory(where, zf)
        except zipfile.BadZipFile as e:  # pragma: no cover - a broken directory entry
            raise SerializationError(f"{where}: the file is truncated or corrupted: {e}") from None
        keys = list(members) if model is None else _check_against(where, model, members, strict)
        arrays = {k: _data(where, zf, k, members[k]) for k in keys}
    if model is not None:
        try:
            model.load_state_dict(arrays, strict=strict)
        except StateDictError as e:
            raise SerializationError(f"cannot load {path!r}: {e}") from None
    return arrays
