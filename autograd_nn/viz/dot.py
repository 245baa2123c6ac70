"""`draw_graph`: a recorded graph as a ``graphviz.Digraph`` (pure: it writes nothing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..tensor import Tensor
from .graph import (
    CONSTANT,
    ConstEntry,
    GraphView,
    ParamsArg,
    TensorEntry,
    array_lines,
    as_roots,
    build_view,
    op_label,
    short_value,
)
from .layout import CollapseArg, Layout, box_lines, plan, tensor_lines
from .render import digraph_class
from .resolve import GradsArg, HighlightArg, NotesArg, grad_lookup, resolve_highlight, resolve_notes
from .style import (
    BOX_STYLE,
    CLUSTER_STYLE,
    COLORS,
    CURRENT,
    FORWARD_EDGE,
    GRADIENT_EDGE_STYLE,
    HIGHLIGHT,
    OP_STYLE,
    TENSOR_STYLE,
    attrs_text,
    label,
    legend_lines,
    literal,
    quote,
)

if TYPE_CHECKING:
    import graphviz  # no stubs: a Digraph is Any to mypy

_RANKDIRS = ("LR", "RL", "TB", "BT")
__all__ = ["COLORS", "draw_graph", "draw_view"]


def draw_graph(
    root: Tensor | list[Tensor],
    params: ParamsArg = None,
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 20,
    collapse: CollapseArg = None,
    rankdir: str = "LR",
    highlight: HighlightArg = None,
    hide_constants: bool = False,
    *,
    grads: GradsArg = None,
    legend: bool = False,
    precision: int = 4,
    title: str | None = None,
    notes: NotesArg = None,
    clusters: bool = True,
) -> graphviz.Digraph:
    """The graph that produced ``root`` as a ``graphviz.Digraph`` (nothing is written).

    One box per tensor: its name (see `autograd_nn.viz` for the naming rule), shape and dtype;
    with ``show_data`` its values, with ``show_grad`` its ``.grad`` (or its gradient in
    ``grads``: a dict Tensor -> array or a ``trace_backward`` result, which has every
    intermediate's gradient and heads it ``grad = dJ/dz4``), all values when the tensor has at
    most ``max_elements`` elements, else min/mean/max, each number in ``precision``
    significant digits (``1.2e-04``, never ``0.``). One ellipse per operation, e.g.
    ``matmul`` or ``sum(axis=0)``. Edges go tensor -> op -> tensor, operands in order.

    Colours: output green (bold border); parameter blue; other leaf that requires grad yellow;
    intermediate white; constant (a number or array operand, or a tensor that requires no
    grad) grey with a dashed border, or left out with ``hide_constants=True`` (then numbers are
    shown in the op's label, e.g. ``power(·, 2)``); op grey ellipse; collapsed module purple
    3-d box; highlighted red with a thick red border. ``legend=True`` adds a legend of the
    kinds the picture uses. ``title`` is drawn above the graph; ``notes`` (a dict Tensor or
    name -> text) adds a line to a tensor's box, or to its gradient's heading when the text
    starts with ``=`` (``{z4: "= δ4"}`` shows ``grad = dJ/dz4 = δ4``). Every label shows its
    text literally (backslashes, ``&amp;``, control characters included).

    Ops made inside a module's forward are grouped in a dashed cluster per module, labelled
    ``name (Class)`` (names from ``params.named_modules()`` when ``params`` is a Module);
    ``clusters=False`` draws no clusters (a straight chain, parameters beside it).
    ``collapse`` (a module name, class name, module, a list of them, or True/"all" for every
    innermost module) draws each chosen module as one box with its parameter shapes and its
    input/output shapes. ``highlight`` takes a gradcheck result (its ``failed_nodes``) or a
    collection of Function nodes / Tensors and paints them red. Render with
    ``graph.render(...)``, ``graph.pipe(format="svg")`` or ``autograd_nn.viz.render``; Jupyter
    shows the Digraph inline as SVG (without Graphviz's ``dot``: its DOT text and how to
    install Graphviz); ``graph.source`` is the DOT text.
    """
    roots = as_roots(root, "draw_graph")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if isinstance(max_elements, bool) or not isinstance(max_elements, (int, np.integer)) \
            or max_elements < 0:
        raise ValueError(f"draw_graph: max_elements must be an int >= 0, got {max_elements!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"draw_graph: title must be a str, got {type(title).__name__}")
    view = build_view(roots, params, "draw_graph")
    marked, failed = resolve_highlight(view, highlight)
    grad_of = grad_lookup(grads) if grads is not None else None
    traced_root = getattr(grads, "root", None) if hasattr(grads, "grad_map") else None
    return draw_view(
        view, collapse=collapse, rankdir=rankdir, show_data=show_data, show_grad=show_grad,
        max_elements=int(max_elements), precision=precision, hide_constants=hide_constants,
        highlight=marked, highlight_note="✗ gradcheck failed" if failed else None,
        grad_of=grad_of, legend=legend, title=title, notes=resolve_notes(view, notes),
        grad_root=view.entry_of(traced_root) if traced_root is not None else None,
        clusters=clusters,
    )


def draw_view(
    view: GraphView,
    *,
    collapse: CollapseArg = None,
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
    backward_ops: set[str] | None = None,
    current: set[str] | None = None,
    legend: bool = False,
    legend_notes: tuple[str, ...] = (),
    title: str | None = None,
    show_ids: bool = False,
    notes: Mapping[str, str] | None = None,
    grad_root: Any = None,
    clusters: bool = True,
) -> graphviz.Digraph:
    """Emit the Digraph of a view (draw_graph's and the backward trace's common renderer).

    ``edge_labels`` (operand key, op key) -> text marks gradient edges: drawn with the arrow
    pointing from the op to the operand (the way the gradient flows), blue, labelled;
    ``backward_ops`` the ops whose backward ran (their output edge points back too).
    ``grad_root``: the entry of the tensor the gradients are of (headings ``grad = dJ/dz4``)."""
    digraph = digraph_class()  # first: without graphviz, its error before any work
    layout = plan(view, collapse, {e.key for e in view.roots})
    nodes = _Nodes({layout.rep(k) for k in highlight or ()}, {layout.rep(k) for k in current or ()})
    drawing = _Drawing(view, layout, nodes, _hidden(view, hide_constants), show_data,
                       max_elements, precision,
                       partial(_grad_for, grad_of, grad_fallback) if show_grad else None)
    drawing.put_tensors(show_ids, notes or {}, grad_root)
    drawing.put_consts()
    drawing.put_ops(hide_constants, highlight_note)
    if not clusters:
        nodes.flatten()
    drawing.put_boxes(clusters)
    dot = _digraph(digraph, rankdir, bool(edge_labels), title)
    # DOT lines are written directly into the body: graphviz's node()/edge() quote every
    # attribute on each call, too slow for a graph of 100,000 ops.
    dot.body.extend(_cluster_lines(view, nodes.bodies))
    dot.body.extend(_edge_lines(view, layout, drawing.hidden, edge_labels or {},
                                backward_ops or set()))
    if legend:
        dot.body.extend(legend_lines(nodes.kinds, rankdir, legend_notes, bool(edge_labels),
                                     "highlighted: " + highlight_note if highlight_note
                                     else None))
    return dot


class _Nodes:
    """A drawing's node lines, grouped by the module path whose clusters hold them, and the
    kinds of node drawn (for the legend); highlighted and current nodes are restyled."""

    def __init__(self, highlight: set[str], current: set[str]) -> None:
        self.highlight, self.current = highlight, current
        self.bodies: dict[tuple, list[tuple[str, str, str]]] = {}
        self.kinds: set[str] = set()
        self._attr_text: dict[tuple, str] = {}

    def put(self, path: tuple, key: str, text: str, attrs: dict, kind: str) -> None:
        self.kinds.add(kind)
        if key in self.highlight:
            attrs = {**attrs, **HIGHLIGHT}
            self.kinds.add("highlight")
        elif key in self.current:
            attrs = {**attrs, **CURRENT}
            self.kinds.add("current")
        items = tuple(attrs.items())
        a = self._attr_text.get(items)
        if a is None:
            a = self._attr_text[items] = attrs_text(attrs)
        self.bodies.setdefault(tuple(path), []).append((key, text, a))

    def flatten(self) -> None:
        """Every node so far at the top level (a drawing without clusters)."""
        self.bodies = {(): [x for group in self.bodies.values() for x in group]}


def _grad_for(grad_of: Callable[[Tensor], Any] | None, fallback: bool, t: Tensor) -> Any:
    """The gradient drawn for ``t``: ``grad_of``'s, else (with ``fallback``) ``t.grad``."""
    grad = grad_of(t) if grad_of is not None else None
    return t.grad if grad is None and fallback else grad


class _Drawing:
    """What `draw_view` puts in its nodes: the visible tensors, constants, ops and boxes of a
    view, each where the layout places it. ``grad_for``: a tensor's gradient (None: no
    gradients drawn)."""

    def __init__(self, view: GraphView, layout: Layout, nodes: _Nodes, hidden: set[str],
                 show_data: bool, max_elements: int, precision: int,
                 grad_for: Callable[[Tensor], Any] | None) -> None:
        self.view, self.layout, self.nodes, self.hidden = view, layout, nodes, hidden
        self.show_data, self.max_elements, self.precision = show_data, max_elements, precision
        self.grad_for = grad_for

    def _visible(self, key: str) -> bool:
        return key not in self.layout.box and key not in self.hidden

    def put_tensors(self, show_ids: bool, notes: Mapping[str, str], grad_root: Any) -> None:
        root_name = grad_root.label if grad_root is not None else None
        show_grad = self.grad_for is not None
        for e in self.view.tensors:
            if not self._visible(e.key):
                continue
            grad = self.grad_for(e.tensor) if self.grad_for is not None else None
            heading = "grad"
            if root_name is not None and e is not grad_root:
                heading = f"grad = d{root_name}/d{e.label}"
            lines = tensor_lines(e, self.show_data, show_grad, grad, self.max_elements,
                                 self.precision, show_ids or root_name is not None, heading,
                                 notes.get(e.key))
            attrs = {"fillcolor": COLORS[e.kind], **TENSOR_STYLE[e.kind]}
            self.nodes.put(self.layout.path[e.key], e.key, label(lines), attrs, e.kind)

    def put_consts(self) -> None:
        for c in self.view.consts:
            if not self._visible(c.key):
                continue
            text = short_value(c.value, 40)
            if isinstance(c.value, np.ndarray) and self.show_data \
                    and c.value.size <= self.max_elements:
                text = "\n".join(array_lines(c.value, self.max_elements, self.precision))
            attrs = {"fillcolor": COLORS[CONSTANT], **TENSOR_STYLE[CONSTANT]}
            self.nodes.put(self.layout.path[c.key], c.key, label(text.splitlines()), attrs,
                           CONSTANT)

    def put_ops(self, hide_constants: bool, highlight_note: str | None) -> None:
        for op in self.view.ops:
            if op.key in self.layout.box:
                continue
            folded = None
            if hide_constants:
                folded = [_folded(a) if a.key in self.hidden else None for a in op.operands]
            lines = [op_label(op.node, folded)]
            if highlight_note and op.key in self.nodes.highlight:
                lines.append(highlight_note)
            self.nodes.put(self.layout.path[op.key], op.key, label(lines, left=False),
                           {"fillcolor": COLORS["op"], **OP_STYLE}, "op")

    def put_boxes(self, clusters: bool) -> None:
        for b in self.layout.boxes:
            text = label(box_lines(self.view, b, self.grad_for))
            self.nodes.put(b.path if clusters else (), b.key, text, BOX_STYLE, "module")


def _digraph(digraph: Any, rankdir: str, edge_labels: bool, title: str | None) -> Any:
    """An empty Digraph with the drawing's graph, node and edge attributes (and title)."""
    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"}
    if edge_labels:  # room between labels of edges that meet at one op
        graph_attr["nodesep"] = "0.5"
    dot = digraph(
        graph_attr=graph_attr,
        node_attr={"shape": "box", "fontname": "Courier", "fontsize": "10", "margin": "0.08,0.04"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": FORWARD_EDGE},
    )
    if title:
        dot.body.append(f"\tgraph [label={quote(label(title.splitlines(), left=False))} "
                        "labelloc=t labeljust=l fontsize=13]\n")
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
            text = quote(literal(view.module_label(item[-1])))
            lines.append(f"{ind[:-1]}subgraph {names[item]} {{\n")
            lines.append(f"{ind}graph [label={text} {attrs_text(CLUSTER_STYLE)}]\n")
            stack.append(f"{ind[:-1]}}}\n")
        for key, text, attrs in bodies.get(item, ()):
            lines.append(f"{ind}{key} [label={quote(text)} {attrs}]\n")
        stack.extend(reversed(children.get(item, ())))
    return lines


def _edge_lines(
    view: GraphView, layout: Layout, hidden: set[str],
    edge_labels: Mapping[tuple[str, str], str], backward_ops: set[str],
) -> list[str]:
    """tensor -> op -> tensor, operands in order (``x * x`` has two edges from x); edges
    inside a collapsed box are left out, edges to and from a box drawn once. A gradient edge
    (one of ``edge_labels``) keeps its place in the layout but its arrow points back."""
    lines: list[str] = []
    seen: set[tuple[str, str]] = set()
    rep = layout.rep
    grad_style = attrs_text(GRADIENT_EDGE_STYLE)
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
            text = edge_labels.get((a.key, op.key))
            # the chain of computed tensors is drawn straight, leaves hang beside it
            main = " weight=4" if getattr(a, "op", None) is not None else ""
            if text:
                lines.append(f"\t{src} -> {dst} [label={quote(label(text.splitlines(), False))}"
                             f" {grad_style}{main}]\n")
            else:
                lines.append(f"\t{src} -> {dst}{f' [{main[1:]}]' if main else ''}\n")
        for t in op.outputs:
            out = rep(t.key)
            if out != dst and (dst, out) not in seen:
                seen.add((dst, out))
                back = f" {grad_style}" if op.key in backward_ops else ""
                lines.append(f"\t{dst} -> {out} [weight=4{back}]\n")
    return lines
