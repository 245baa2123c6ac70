"""`print_graph`: a recorded graph as an indented tree of text (no Graphviz needed)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..tensor import Tensor
from .graph import (
    INTERMEDIATE,
    ConstEntry,
    TensorEntry,
    array_inline,
    as_roots,
    build_view,
    op_label,
    shape_text,
    short_value,
)

_STDOUT = object()


def print_graph(
    root: Tensor | list[Tensor],
    params: Any = None,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 8,
    precision: int = 4,
    max_depth: int = 100,
    file: Any = _STDOUT,
) -> str:
    """Print the graph below ``root`` as a tree and return the text.

    Each line is a tensor: its id (``t0`` is the output) and name, shape, dtype, values and
    gradient (all of them up to ``max_elements`` elements, else min/mean/max), its role in
    brackets unless it is an intermediate, and ``<- op`` for the op that made it; the op's
    operands follow, indented, in order. A tensor reached a second time is printed once and
    then referred to (``t4 (see above)``). Subtrees deeper than ``max_depth`` are cut (the walk
    itself is iterative, so any depth works). Prints to ``file`` (default ``sys.stdout``;
    ``None`` prints nothing).
    """
    roots = as_roots(root, "print_graph")
    view = build_view(roots, params, "print_graph")
    out: list[str] = []
    shown: set[str] = set()
    # (entry, prefix of its own line, prefix of its children's lines, depth)
    stack: list[tuple[Any, str, str, int]] = [(e, "", "", 0) for e in reversed(view.roots)]
    while stack:
        e, head, rest, depth = stack.pop()
        if isinstance(e, ConstEntry):
            out.append(head + _const_line(e, show_data, max_elements, precision))
            continue
        if e.key in shown:
            out.append(f"{head}{_ident(e)} (see above)")
            continue
        shown.add(e.key)
        out.append(head + _tensor_line(e, show_data, show_grad, max_elements, precision))
        if e.op is None or not e.op.operands:
            continue
        if depth >= max_depth:
            out.append(f"{rest}└─ … (deeper levels not printed; raise max_depth={max_depth})")
            continue
        kids = e.op.operands
        for i in range(len(kids) - 1, -1, -1):
            last = i == len(kids) - 1
            stack.append((kids[i], rest + ("└─ " if last else "├─ "),
                          rest + ("   " if last else "│  "), depth + 1))
    text = "\n".join(out)
    if file is _STDOUT:
        file = sys.stdout
    if file is not None:
        print(text, file=file)
    return text


def _ident(e: TensorEntry) -> str:
    return f"{e.key} {e.name}" if e.name else e.key


def _tensor_line(
    e: TensorEntry, show_data: bool, show_grad: bool, max_elements: int, precision: int
) -> str:
    t = e.tensor
    parts = [_ident(e), f"{shape_text(t._data)} {t.dtype}"]
    if e.kind != INTERMEDIATE:
        parts.append(f"[{e.kind}]")
    if show_data:
        parts.append("value " + _values(t._data, max_elements, precision))
    if show_grad and t.grad is not None:
        parts.append("grad " + _values(t.grad._data, max_elements, precision))
    if e.op is not None:
        parts.append(f"<- {op_label(e.op.node)}")
    return "  ".join(parts)


def _const_line(e: ConstEntry, show_data: bool, max_elements: int, precision: int) -> str:
    v = e.value
    if isinstance(v, np.ndarray):
        text = f"{shape_text(v)} {v.dtype} [constant]"
        if show_data:
            text += "  value " + _values(v, max_elements, precision)
        return text
    return f"{short_value(v, 40)} [constant]"


def _values(arr: np.ndarray, max_elements: int, precision: int) -> str:
    text = array_inline(arr, max_elements, precision)
    if arr.ndim and arr.size <= max_elements:  # the shape is already on the line
        return text[text.index("[") :]
    return text.split(") ", 1)[1] if arr.ndim else text
