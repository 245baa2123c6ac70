"""`print_graph` / `format_graph`: a recorded graph as an indented tree of text (no Graphviz
needed)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from ..tensor import Tensor
from .graph import (
    INTERMEDIATE,
    ConstEntry,
    ParamsArg,
    TensorEntry,
    array_inline,
    as_roots,
    build_view,
    op_label,
    shape_text,
    short_value,
)

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

# print_graph's default file: sys.stdout as it is when print_graph runs (Any: it stands for one)
_STDOUT: Any = object()
MAX_INDENT = 24  # tree levels drawn in full; deeper lines show their depth as a number
_TAIL = 6  # levels of tree lines kept after the depth number


class _Rest:
    """The tree lines left of a tensor's children, as a linked list (one segment per level,
    innermost first) shared by siblings, so a deep tree costs O(1) memory per line."""

    __slots__ = ("parent", "segment", "levels")

    def __init__(self, parent: _Rest | None, segment: str) -> None:
        self.parent, self.segment = parent, segment
        self.levels: int = 1 if parent is None else parent.levels + 1


def _prefix(rest: _Rest | None, connector: str, depth: int) -> str:
    """``│  ├─ `` for a line at ``depth``; past `MAX_INDENT` levels ``[depth 1234] ...``
    followed by the innermost `_TAIL` levels, so every line has a bounded width."""
    levels = rest.levels if rest is not None else 0
    keep = levels if levels <= MAX_INDENT else _TAIL
    segments: list[str] = []
    node = rest
    while node is not None and len(segments) < keep:
        segments.append(node.segment)
        node = node.parent
    art = "".join(reversed(segments)) + connector
    return art if levels <= MAX_INDENT else f"[depth {depth}] {art}"


def format_graph(
    root: Tensor | list[Tensor],
    params: ParamsArg = None,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 8,
    precision: int = 4,
    max_depth: int = 100,
) -> str:
    """The graph below ``root`` as a tree of text (what `print_graph` prints).

    Each line is a tensor: its id (``t0`` is the output) and name, shape, dtype, values and
    gradient (all of them up to ``max_elements`` elements, else min/mean/max; ``precision``
    significant digits), its role in brackets unless it is an intermediate, and ``<- op`` for
    the op that made it; the op's operands follow, indented, in order. A tensor reached a
    second time is printed once and then referred to (``t4 (see above)``). Subtrees deeper
    than ``max_depth`` are cut. The walk is iterative and the text linear in the graph's size
    at any depth: the first `MAX_INDENT` levels are drawn as tree lines, deeper lines start
    with ``[depth N]`` and the innermost few levels' lines.
    """
    roots = as_roots(root, "print_graph")
    if isinstance(max_depth, bool) or not isinstance(max_depth, (int, np.integer)) \
            or max_depth < 0:
        raise ValueError(f"print_graph: max_depth must be an int >= 0, got {max_depth!r}")
    view = build_view(roots, params, "print_graph")
    out: list[str] = []
    shown: set[str] = set()
    # (entry, tree lines left of it, its connector, its depth)
    stack: list[tuple[Any, _Rest | None, str, int]] = [
        (e, None, "", 0) for e in reversed(view.roots)]
    while stack:
        e, rest, connector, depth = stack.pop()
        head = _prefix(rest, connector, depth)
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
        inner = rest if not connector else _Rest(rest, "   " if connector == "└─ " else "│  ")
        if depth >= max_depth:
            out.append(f"{_prefix(inner, '└─ ', depth + 1)}… (deeper levels not printed; "
                       f"raise max_depth={max_depth})")
            continue
        kids = e.op.operands
        for i in range(len(kids) - 1, -1, -1):
            stack.append((kids[i], inner, "└─ " if i == len(kids) - 1 else "├─ ", depth + 1))
    return "\n".join(out)


def print_graph(
    root: Tensor | list[Tensor],
    params: ParamsArg = None,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 8,
    precision: int = 4,
    max_depth: int = 100,
    file: SupportsWrite[str] = _STDOUT,
) -> None:
    """Print the graph below ``root`` as a tree (see `format_graph`, which returns the text)
    to ``file`` (default ``sys.stdout``). Returns None, like ``print``, so a notebook cell
    ending with ``print_graph(J)`` shows the tree once."""
    if file is None:
        raise TypeError("print_graph: file=None prints nothing; call format_graph(...) for "
                        "the text")
    text = format_graph(root, params, show_data=show_data, show_grad=show_grad,
                        max_elements=max_elements, precision=precision, max_depth=max_depth)
    print(text, file=sys.stdout if file is _STDOUT else file)


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
