"""`draw_graph`: a recorded graph as a ``graphviz.Digraph`` (pure: it writes nothing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .graph import (
    CONSTANT,
    INTERMEDIATE,
    LEAF,
    OUTPUT,
    PARAMETER,
    ConstEntry,
    GraphView,
    TensorEntry,
    array_lines,
    as_roots,
    build_view,
    op_label,
    shape_text,
    short_value,
)
from .layout import Layout, box_lines, plan
from .render import digraph_class

# Fill colours (the legend in draw_graph's docstring and in legend=True).
COLORS = {
    OUTPUT: "#a5d6a7",  # green
    PARAMETER: "#90caf9",  # blue
    LEAF: "#fff59d",  # yellow
    INTERMEDIATE: "#ffffff",  # white
    CONSTANT: "#eeeeee",  # grey, dashed border
    "op": "#e0e0e0",  # grey ellipse
    "module": "#ce93d8",  # purple 3-d box
    "highlight": "#ff8a80",  # red, thick red border
    "current": "#ffcc80",  # orange (the step shown by a backward trace)
}
_TENSOR_STYLE = {
    OUTPUT: {"style": "filled,bold"},
    PARAMETER: {"style": "filled"},
    LEAF: {"style": "filled"},
    INTERMEDIATE: {"style": "filled"},
    CONSTANT: {"style": "filled,dashed", "fontcolor": "#555555"},
}
_OP_STYLE = {"shape": "ellipse", "style": "filled", "fontname": "Helvetica"}
_BOX_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": COLORS["module"],
              "fontname": "Helvetica"}
_CLUSTER_STYLE = {"style": "rounded,dashed", "color": "#7e57c2", "fontcolor": "#4527a0",
                  "labeljust": "l"}
_HIGHLIGHT = {"fillcolor": COLORS["highlight"], "color": "#d50000", "penwidth": "3"}
_CURRENT = {"fillcolor": COLORS["current"], "color": "#e65100", "penwidth": "2.5"}
_RANKDIRS = ("LR", "RL", "TB", "BT")
_DTYPE_NAMES: dict[Any, str] = {}

def draw_graph(
    root: Tensor | list[Tensor],
    params: Any = None,
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 20,
    collapse: Any = None,
    rankdir: str = "LR",
    highlight: Any = None,
    hide_constants: bool = False,
    *,
    grads: Any = None,
    legend: bool = False,
    precision: int = 4,
) -> Any:
    """The graph that produced ``root`` as a ``graphviz.Digraph`` (nothing is written).

    One box per tensor: its name (from ``params``, a Module's ``named_parameters()`` or a dict
    name -> Tensor, else ``tensor.name``), shape and dtype; with ``show_data`` its values, with
    ``show_grad`` its ``.grad`` (or its gradient in ``grads``: a dict Tensor -> array or a
    ``trace_backward`` result, which has every intermediate's gradient), all values when the
    tensor has at most ``max_elements`` elements, else min/mean/max. One ellipse per operation,
    e.g. ``matmul`` or ``sum(axis=0)``. Edges go tensor -> op -> tensor, operands in order.

    Colours: output green (bold border); parameter blue; other leaf that requires grad yellow;
    intermediate white; constant (a number or array operand, or a tensor that requires no
    grad) grey with a dashed border, or left out with ``hide_constants=True`` (then numbers are
    shown in the op's label, e.g. ``power(·, 2)``); op grey ellipse; collapsed module purple
    3-d box; highlighted red with a thick red border. ``legend=True`` adds a legend cluster.

    Ops made inside a module's forward are grouped in a dashed cluster per module, labelled
    ``name (Class)`` (names from ``params.named_modules()`` when ``params`` is a Module).
    ``collapse`` (a module name, class name, module, a list of them, or True/"all" for every
    innermost module) draws each chosen module as one box with its parameter shapes and its
    input/output shapes. ``highlight`` takes a gradcheck result (its ``failed_nodes``) or a
    collection of Function nodes / Tensors and paints them red. Render with
    ``graph.render(...)``, ``graph.pipe(format="svg")`` or ``autograd_nn.viz.render``; Jupyter
    shows the Digraph inline; ``graph.source`` is the DOT text.
    """
    roots = as_roots(root, "draw_graph")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if isinstance(max_elements, bool) or not isinstance(max_elements, (int, np.integer)) \
            or max_elements < 0:
        raise ValueError(f"draw_graph: max_elements must be an int >= 0, got {max_elements!r}")
    view = build_view(roots, params, "draw_graph")
    marked, failed = resolve_highlight(view, highlight)
    grad_of = grad_lookup(grads) if grads is not None else None
    return draw_view(
        view, collapse=collapse, rankdir=rankdir, show_data=show_data, show_grad=show_grad,
        max_elements=int(max_elements), precision=precision, hide_constants=hide_constants,
        highlight=marked, highlight_note="✗ gradcheck failed" if failed else None,
        grad_of=grad_of, legend=legend,
    )


def grad_lookup(grads: Any) -> Callable[[Tensor], Any]:
    """id-keyed gradient lookup from a trace (``grad_map()``) or a dict Tensor -> array."""
    if hasattr(grads, "grad_map"):
        by_id = grads.grad_map()
    elif isinstance(grads, Mapping):
        by_id = {}
        for k, v in grads.items():
            if not isinstance(k, Tensor):
                raise TypeError(f"draw_graph: grads must be keyed by Tensors, got {k!r:.40}")
            by_id[id(k)] = v
    else:
        raise TypeError(
            "draw_graph: grads must be a trace_backward result or a dict Tensor -> gradient, "
            f"got {type(grads).__name__}"
        )
    return lambda t: by_id.get(id(t))


def resolve_highlight(view: GraphView, highlight: Any) -> tuple[set[str], bool]:
    """Keys of the nodes to paint, and whether they came from a gradcheck result."""
    if highlight is None:
        return set(), False
    failed = hasattr(highlight, "failed_nodes")
    if failed:
        items = list(highlight.failed_nodes or ())
    elif isinstance(highlight, (Tensor, Function)):
        items = [highlight]
    else:
        try:
            items = list(highlight)
        except TypeError:
            raise TypeError(
                "draw_graph: highlight must be a gradcheck result (with failed_nodes) or a "
                f"collection of Function nodes / Tensors, got {type(highlight).__name__}"
            ) from None
    keys = set()
    for x in items:
        if not isinstance(x, (Tensor, Function)):
            raise TypeError(
                f"draw_graph: highlight items must be Function nodes or Tensors, got {x!r:.60}"
            )
        e = view.entry_of(x)
        if e is not None:
            keys.add(e.key)
    if items and not keys:
        raise ValueError(
            f"draw_graph: none of the {len(items)} nodes to highlight is part of this graph "
            "(draw the output whose graph holds them)"
        )
    return keys, failed


def tensor_lines(
    e: TensorEntry, show_data: bool, show_grad: bool, grad: Any, max_elements: int,
    precision: int, show_ids: bool = False,
) -> list[str]:
    """Name (or, with ``show_ids``, the id ``t3`` of an unnamed tensor), shape and dtype;
    then the values and the gradient (or their summaries)."""
    t = e.tensor
    head = f"{e.name}  " if e.name else f"{e.key}  " if show_ids else ""
    dtype = _DTYPE_NAMES.get(t._data.dtype)
    if dtype is None:
        dtype = _DTYPE_NAMES[t._data.dtype] = str(t._data.dtype)
    lines = [f"{head}{shape_text(t._data)} {dtype}"]
    blocks = []
    if show_data:
        blocks.append(("value", t._data))
    if show_grad and grad is not None:
        blocks.append(("grad", grad._data if isinstance(grad, Tensor) else grad))
    for title, arr in blocks:
        body = array_lines(arr, max_elements, precision)
        if len(body) == 1:
            lines.append(f"{title} {body[0]}")
        else:
            lines.append(title)
            lines.extend(body)
    return lines


def _text(lines: list[str], left: bool = True) -> str:
    """Label text: user backslashes kept literal, lines left-justified (``\\l``) or centred."""
    esc = [x.replace("\\", "\\\\") for x in lines]
    return "\\l".join(esc) + "\\l" if left else "\\n".join(esc)


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace('"', '\\"') + '"'


def _attrs(attrs: Mapping[str, str]) -> str:
    return " ".join(f"{k}={_q(v)}" for k, v in attrs.items())


def draw_view(
    view: GraphView,
    *,
    collapse: Any = None,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 20,
    precision: int = 4,
    hide_constants: bool = False,
    highlight: set[str] | None = None,
    highlight_note: str | None = None,
    grad_of: Callable[[Tensor], Any] | None = None,
    grad_fallback: bool = True,
    edge_labels: Mapping[tuple[str, str], str] | None = None,
    current: set[str] | None = None,
    legend: bool = False,
    title: str | None = None,
    show_ids: bool = False,
) -> Any:
    """Emit the Digraph of a view (draw_graph's and the backward trace's common renderer)."""
    Digraph = digraph_class()
    layout = plan(view, collapse, {e.key for e in view.roots})
    highlight = {layout.rep(k) for k in highlight or ()}
    current = {layout.rep(k) for k in current or ()}
    edge_labels = edge_labels or {}
    hidden = _hidden(view, hide_constants)
    bodies: dict[tuple, list[tuple[str, str, str]]] = {}
    attr_text: dict[tuple, str] = {}

    def put(path: tuple, key: str, label: Any, attrs: dict) -> None:
        if key in highlight:
            attrs = {**attrs, **_HIGHLIGHT}
        elif key in current:
            attrs = {**attrs, **_CURRENT}
        items = tuple(attrs.items())
        text = attr_text.get(items)
        if text is None:
            text = attr_text[items] = _attrs(attrs)
        bodies.setdefault(tuple(path), []).append((key, label, text))

    def grad_for(t: Tensor) -> Any:
        grad = grad_of(t) if grad_of is not None else None
        return t.grad if grad is None and grad_fallback else grad

    for e in view.tensors:
        if e.key in layout.box or e.key in hidden:
            continue
        grad = grad_for(e.tensor) if show_grad else None
        lines = tensor_lines(e, show_data, show_grad, grad, max_elements, precision, show_ids)
        attrs = {"fillcolor": COLORS[e.kind], **_TENSOR_STYLE[e.kind]}
        put(layout.path[e.key], e.key, _text(lines), attrs)
    for c in view.consts:
        if c.key in layout.box or c.key in hidden:
            continue
        text = short_value(c.value, 40)
        if isinstance(c.value, np.ndarray) and show_data and c.value.size <= max_elements:
            text = "\n".join(array_lines(c.value, max_elements, precision))
        attrs = {"fillcolor": COLORS[CONSTANT], **_TENSOR_STYLE[CONSTANT]}
        put(layout.path[c.key], c.key, _text(text.splitlines()), attrs)
    for op in view.ops:
        if op.key in layout.box:
            continue
        folded = None
        if hide_constants:
            folded = [_folded(a) if a.key in hidden else None for a in op.operands]
        lines = [op_label(op.node, folded)]
        if highlight_note and op.key in highlight:
            lines.append(highlight_note)
        put(layout.path[op.key], op.key, _text(lines, left=False),
            {"fillcolor": COLORS["op"], **_OP_STYLE})
    for b in layout.boxes:
        put(b.path, b.key, _text(box_lines(view, b, grad_for if show_grad else None)),
            _BOX_STYLE)

    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"}
    if title:
        graph_attr.update(label=title, labelloc="t", labeljust="l")
    dot = Digraph(
        graph_attr=graph_attr,
        node_attr={"shape": "box", "fontname": "Courier", "fontsize": "10", "margin": "0.08,0.04"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#546e7a"},
    )
    # DOT lines are written directly into the body: graphviz's node()/edge() quote every
    # attribute on each call, too slow for a graph of 100,000 ops.
    dot.body.extend(_cluster_lines(view, bodies))
    dot.body.extend(_edge_lines(view, layout, hidden, edge_labels))
    if legend:
        dot.body.extend(_legend_lines())
    return dot


def _hidden(view: GraphView, hide_constants: bool) -> set[str]:
    if not hide_constants:
        return set()
    keys = {c.key for c in view.consts}
    keys.update(t.key for t in view.tensors if t.kind == CONSTANT)
    return keys


def _folded(entry: TensorEntry | ConstEntry) -> str:
    if isinstance(entry, ConstEntry):
        return short_value(entry.value)
    return entry.name or f"const{tuple(entry.tensor.shape)}"


def _cluster_lines(view: GraphView, bodies: dict) -> list[str]:
    """Node lines, in nested ``cluster_*`` subgraphs, one per module of their scope."""
    paths: set[tuple] = set()
    for p in bodies:
        paths.update(p[:k] for k in range(1, len(p) + 1))
    children: dict[tuple, list[tuple]] = {}
    order = sorted(paths, key=lambda p: (len(p), view.module_label(p[-1])))
    names = {p: f"cluster_{n}" for n, p in enumerate(order)}
    for p in order:
        children.setdefault(p[:-1], []).append(p)
    lines: list[str] = []
    stack: list[Any] = [()]  # a path to open, or a string to emit (a closing brace)
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            lines.append(item)
            continue
        ind = "\t" * (len(item) + 1)
        if item:
            attrs = {"label": view.module_label(item[-1]), **_CLUSTER_STYLE}
            lines.append(f"{ind[:-1]}subgraph {names[item]} {{\n")
            lines.append(f"{ind}graph [{_attrs(attrs)}]\n")
            stack.append(f"{ind[:-1]}}}\n")
        for key, label, attrs in bodies.get(item, ()):
            lines.append(f"{ind}{key} [label={_q(label)} {attrs}]\n")
        stack.extend(reversed(children.get(item, ())))
    return lines


def _edge_lines(
    view: GraphView, layout: Layout, hidden: set[str],
    edge_labels: Mapping[tuple[str, str], str],
) -> list[str]:
    """tensor -> op -> tensor, operands in order (``x * x`` has two edges from x); edges
    inside a collapsed box are left out, edges to and from a box drawn once."""
    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    rep = layout.rep
    for op in view.ops:
        dst = rep(op.key)
        for a in op.operands:
            if a.key in hidden:
                continue
            src = rep(a.key)
            if src != a.key or dst != op.key:  # an edge of a collapsed box: draw it once
                if src == dst or (src, dst) in seen:
                    continue
                seen.add((src, dst))
            label = edge_labels.get((a.key, op.key))
            if label:
                lines.append(f"\t{src} -> {dst} [label={_q(_text(label.splitlines(), False))}]\n")
            else:
                lines.append(f"\t{src} -> {dst}\n")
        for t in op.outputs:
            out = rep(t.key)
            if out != dst and (dst, out) not in seen:
                seen.add((dst, out))
                lines.append(f"\t{dst} -> {out}\n")
    return lines


def _legend_lines() -> list[str]:
    rows = [(f"legend_{k}", k, {"fillcolor": COLORS[k], **_TENSOR_STYLE[k]})
            for k in (OUTPUT, PARAMETER, LEAF, INTERMEDIATE, CONSTANT)]
    rows += [
        ("legend_op", "operation", {"fillcolor": COLORS["op"], **_OP_STYLE}),
        ("legend_module", "collapsed module", _BOX_STYLE),
        ("legend_highlight", "highlighted", {"style": "filled", **_HIGHLIGHT}),
    ]
    lines = ["\tsubgraph cluster_legend {\n", '\t\tgraph [label=legend style=rounded]\n']
    lines += [f"\t\t{key} [label={_q(text)} {_attrs(a)}]\n" for key, text, a in rows]
    return lines + ["\t}\n"]
