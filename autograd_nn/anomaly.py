"""``detect_anomaly()``: find the op that first made a NaN or inf, and where it was created.

Inside the context every op records the user code line that created it and a checksum of the
arrays it saved; the first non-finite value in a forward result or a backward gradient raises
`AnomalyError` naming the op, its operands' shapes and that line. A saved array changed behind
the engine's back (e.g. ``t.data[...] = ...`` in numpy) is reported too. Off by default; when
off it costs one flag test per op.
"""

from __future__ import annotations

import linecache
import os
import sys
import zlib
from typing import Any

import numpy as np

from .mode import STATE

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(RuntimeError):
    """A NaN/inf appeared, or a saved array changed, while ``detect_anomaly()`` was on."""


class detect_anomaly:
    """Context manager that turns on anomaly detection in this thread."""

    def __init__(self) -> None:
        self._prev: list[bool] = []

    def __enter__(self) -> detect_anomaly:
        self._prev.append(STATE.anomaly)
        STATE.anomaly = True
        return self

    def __exit__(self, *exc: object) -> None:
        STATE.anomaly = self._prev.pop()


def creation_site() -> str:
    """The first frame outside the autograd_nn package (the user's line that made the op)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_PACKAGE_DIR + os.sep):
            line = linecache.getline(path, frame.f_lineno).strip()
            return f'File "{path}", line {frame.f_lineno}, in {frame.f_code.co_name}: {line}'
        frame = frame.f_back
    return "<inside autograd_nn>"


def _checksum(a: Any) -> int:
    return zlib.crc32(np.ascontiguousarray(a).view(np.uint8).ravel())


def _nonfinite(a: Any) -> str | None:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.isfinite(a).all():
        return "NaN" if np.isnan(a).any() else "inf"
    return None


def _shapes(arrays: Any) -> str:
    return ", ".join(str(np.shape(a)) for a in arrays)


def check_forward(ctx: Any, out: np.ndarray, arrays: Any) -> None:
    site = creation_site()
    saved = [(s, _checksum(s)) for s in ctx.saved_tensors if isinstance(s, np.ndarray)]
    ctx._anomaly = (site, saved)
    bad = _nonfinite(out)
    if bad:
        pre = [i for i, a in enumerate(arrays) if _nonfinite(np.asarray(a))]
        cause = f"; operand(s) {pre} already held non-finite values" if pre else ""
        raise AnomalyError(
            f"{ctx.name} produced {bad} in its forward result (operand shapes: {_shapes(arrays)})"
            f"{cause}. Created at {site}"
        )


def check_backward(fn: Any, grads: tuple) -> None:
    record = getattr(fn, "_anomaly", None)
    site = record[0] if record else "an unknown line (created outside detect_anomaly())"
    shapes = _shapes([getattr(a, "shape", a) if not np.isscalar(a) else a for a in fn.inputs])
    if record:
        for i, (s, crc) in enumerate(record[1]):
            if _checksum(s) != crc:
                raise AnomalyError(
                    f"{fn.name}: saved array {i} (shape {s.shape}) was modified after the forward "
                    f"pass, so its gradient would be wrong. Created at {site}"
                )
    for i, g in enumerate(grads):
        bad = _nonfinite(g if not hasattr(g, "_data") else g._data)
        if bad:
            raise AnomalyError(
                f"{fn.name} backward produced {bad} in the gradient of operand {i} "
                f"(operand shapes: {shapes}). Created at {site}"
            )
