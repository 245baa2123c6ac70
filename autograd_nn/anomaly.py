"""``detect_anomaly()``: find the op that first made a NaN or inf, and where it was created.

Inside the context every op records the user code line that created it and a checksum of the
arrays it saved; the first non-finite value in a forward result or a backward gradient raises
`AnomalyError` naming the op, its operands' shapes and that line. A saved array changed behind
the engine's back (e.g. ``t.data[...] = ...`` in numpy) is reported too. Off by default; when
off it costs one flag test per op.

Only what happens inside the context is checked: ops created outside it have no recorded line
(their backward is still checked for NaN/inf), and a backward run outside it checks nothing.
The record keeps checksums, not the arrays, so saved arrays are still released after backward.
Under ``create_graph=True`` the backward rules run recorded ops; a NaN made there is reported
as coming from the backward of the op whose rule was running.
"""

from __future__ import annotations

import linecache
import os
import sys
import zlib
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .function import Function

from .mode import LOCAL, STATE

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(RuntimeError):
    """A NaN/inf appeared, or a saved array changed, while ``detect_anomaly()`` was on."""


class detect_anomaly:
    """Context manager that turns on anomaly detection in this thread (and restores the
    previous setting on exit, also when an exception leaves the block)."""

    def __init__(self) -> None:
        self._prev: list[bool] = []

    def __enter__(self) -> detect_anomaly:
        self._prev.append(STATE.anomaly)
        STATE.anomaly = True
        return self

    def __exit__(self, *exc: object) -> None:
        STATE.anomaly = self._prev.pop()


def _outside_package(path: str) -> bool:
    return not os.path.abspath(path).startswith(_PACKAGE_DIR + os.sep)


def creation_site() -> str:
    """The first frame outside the autograd_nn package (the user's line that made the op)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        path = frame.f_code.co_filename
        if _outside_package(path):
            line = linecache.getline(path, frame.f_lineno).strip()
            return f'File "{path}", line {frame.f_lineno}, in {frame.f_code.co_name}: {line}'
        frame = frame.f_back
    return "<inside autograd_nn>"


def _checksum(a: Any) -> int:
    return zlib.crc32(np.ascontiguousarray(a).view(np.uint8).ravel().tobytes())


def _nonfinite(a: Any) -> str | None:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f" and not np.isfinite(a).all():
        return "NaN" if np.isnan(a).any() else "inf"
    return None


def _shape_of(a: Any) -> str:
    data = getattr(a, "_data", a)
    if isinstance(data, np.ndarray):
        return str(data.shape)
    return repr(data)  # a constant operand (Python number, index...)


def _shapes(operands: Any) -> str:
    return ", ".join(_shape_of(a) for a in operands)


def _site_of(node: Any) -> str:
    record = getattr(node, "_anomaly", None)
    return record[0] if record else "an unknown line (created outside detect_anomaly())"


def check_forward(ctx: Function, out: np.ndarray, arrays: Any) -> None:
    """Record the creation site and the saved arrays' checksums; raise on a NaN/inf result."""
    site = creation_site()
    saved = [(i, _checksum(s)) for i, s in enumerate(ctx.saved_tensors or ())
             if isinstance(s, np.ndarray)]
    ctx._anomaly = (site, saved)
    bad = _nonfinite(out)
    if not bad:
        return
    pre = [i for i, a in enumerate(arrays) if _nonfinite(np.asarray(a))]
    cause = f"; operand(s) {pre} already held non-finite values" if pre else ""
    node = LOCAL.mode.backward_node  # the engine sets it while a node's rule runs
    if node is not None:
        raise AnomalyError(
            f"{node.name} backward produced {bad} (in its {ctx.name}, recorded under "
            f"create_graph; operand shapes of {node.name}: {_shapes(node.inputs)}){cause}. "
            f"{node.name} was created at {_site_of(node)}"
        )
    raise AnomalyError(
        f"{ctx.name} produced {bad} in its forward result (operand shapes: {_shapes(arrays)})"
        f"{cause}. Created at {site}"
    )


def check_backward(fn: Function, grads: tuple[Any, ...]) -> None:
    """Raise if a saved array changed since forward, or if a gradient holds NaN/inf."""
    record = getattr(fn, "_anomaly", None)
    site = _site_of(fn)
    if record and fn.saved_tensors:
        for i, crc in record[1]:
            s = fn.saved_tensors[i]
            if _checksum(s) != crc:
                raise AnomalyError(
                    f"{fn.name}: saved array {i} (shape {s.shape}) was modified after the "
                    "forward pass (outside the API, so no version counter saw it), so its "
                    f"gradient would be wrong. Created at {site}"
                )
    for i, g in enumerate(grads):
        bad = _nonfinite(getattr(g, "_data", g))
        if bad:
            raise AnomalyError(
                f"{fn.name} backward produced {bad} in the gradient of operand {i} "
                f"(operand shapes: {_shapes(fn.inputs)}). Created at {site}"
            )
