"""Compiled outputs that are views of an input: they share its version counter, as eager views do.

In eager mode a view op (``x[:, 1:]``, ``reshape``, ``.T``; `Function.is_view`) gives a tensor that
shares its operand's version counter, so an in-place change of either is seen by every graph that
saved the other. The compiled node is one op, so the trace finds which input the output is a view
of (through view ops only, or the input itself), and each call shares that input's counter when
the output array really shares its memory (a reshape may copy; an input returned as it is
is copied by the code generator, `codegen._fresh`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


def view_source(out: Any, region: list) -> int | None:
    """The position in ``region`` (the compiled node's inputs, `Var`s) of the input that the
    output `Var` is a view of, through view ops only; None when it is no view of one."""
    v = out
    while v.node is not None:
        cls = v.node.cls
        if cls is None or not cls.is_view or not v.node.operands:
            return None
        v = v.node.operands[0]
        if not hasattr(v, "node"):  # a constant operand, not a Var
            return None
    for i, r in enumerate(region):
        if r is v:
            return i
    return None


def share_versions(out: Tensor, source: Any) -> None:
    """Give ``out`` the version counter of ``source`` when their arrays share memory."""
    if isinstance(source, Tensor) and np.may_share_memory(out._data, source._data):
        out._versions = source._version_counter()
