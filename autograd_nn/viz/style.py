"""How pictures look, and how text reaches Graphviz literally.

Colours and node styles per kind, the legend (only the kinds a picture uses), and the escaping
every label goes through: a name shows exactly its characters. Graphviz expands ``\\N``,
``\\G``, ``\\l`` ... inside labels and reads ``&amp;`` as an HTML entity, DOT cannot hold a
NUL, and a trailing backslash would escape the closing quote; so every user string passes
`literal` (control characters shown as ``\\x00``, ``\\n``; backslashes doubled; ``&`` written
``&amp;``) before it is put in quotes by `quote`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .graph import CONSTANT, INTERMEDIATE, LEAF, OUTPUT, PARAMETER

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
GRADIENT_EDGE = "#1565c0"  # blue: a gradient sent backward (trace pictures)
FORWARD_EDGE = "#546e7a"
TENSOR_STYLE = {
    OUTPUT: {"style": "filled,bold"},
    PARAMETER: {"style": "filled"},
    LEAF: {"style": "filled"},
    INTERMEDIATE: {"style": "filled"},
    CONSTANT: {"style": "filled,dashed", "fontcolor": "#555555"},
}
OP_STYLE = {"shape": "ellipse", "style": "filled", "fontname": "Helvetica"}
BOX_STYLE = {"shape": "box3d", "style": "filled", "fillcolor": COLORS["module"],
             "fontname": "Helvetica"}
CLUSTER_STYLE = {"style": "rounded,dashed", "color": "#7e57c2", "fontcolor": "#4527a0",
                 "labeljust": "l"}
HIGHLIGHT = {"fillcolor": COLORS["highlight"], "color": "#d50000", "penwidth": "3"}
CURRENT = {"fillcolor": COLORS["current"], "color": "#e65100", "penwidth": "2.5"}
GRADIENT_EDGE_STYLE = {"dir": "back", "color": GRADIENT_EDGE, "fontcolor": GRADIENT_EDGE,
                       "penwidth": "1.6"}

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def literal(text: str) -> str:
    """``text`` as label text Graphviz shows character for character (one line)."""
    if not text.isprintable():
        text = "".join(
            c if c.isprintable() else _ESCAPES.get(c, f"\\x{ord(c):02x}" if ord(c) < 256
                                                   else f"\\u{ord(c):04x}")
            for c in text)
    return text.replace("\\", "\\\\").replace("&", "&amp;")


def label(lines: Iterable[str], left: bool = True) -> str:
    """Label text of several lines, each shown literally, left-justified (``\\l``) or
    centred (``\\n``)."""
    esc = [literal(x) for x in lines]
    return "\\l".join(esc) + "\\l" if left else "\\n".join(esc)


def quote(text: str) -> str:
    """A DOT double-quoted string (the text must already be escaped label text)."""
    return '"' + text.replace('"', '\\"') + '"'


def attrs_text(attrs: Mapping[str, str]) -> str:
    """``k="v" ...`` for a node or edge statement (values are DOT strings, not labels)."""
    return " ".join(f"{k}={quote(v)}" for k, v in attrs.items())


_LEGEND_TEXT = {
    OUTPUT: "output (the root)",
    PARAMETER: "parameter",
    LEAF: "leaf that requires grad",
    INTERMEDIATE: "intermediate",
    CONSTANT: "constant",
    "op": "operation",
    "module": "collapsed module",
    "highlight": "highlighted",
    "current": "current step: the tensor and op being processed",
}
LEGEND_ORDER = (OUTPUT, PARAMETER, LEAF, INTERMEDIATE, CONSTANT, "op", "module", "highlight",
                "current")


def legend_lines(kinds: set[str], rankdir: str, notes: Iterable[str] = (),
                 gradient_edges: bool = False, highlight_text: str | None = None,
                 ) -> list[str]:
    """A legend cluster with one entry per kind in ``kinds`` (nothing for kinds the picture
    does not use), an entry for gradient edges when the picture has them, and free text lines
    (``notes``). The entries are stacked in one column whatever the ``rankdir``."""
    rows: list[tuple[str, str, dict]] = []
    for k in LEGEND_ORDER:
        if k not in kinds:
            continue
        if k in TENSOR_STYLE:
            a = {"fillcolor": COLORS[k], **TENSOR_STYLE[k]}
        elif k == "op":
            a = {"fillcolor": COLORS["op"], **OP_STYLE}
        elif k == "module":
            a = dict(BOX_STYLE)
        else:
            a = {"style": "filled", **(HIGHLIGHT if k == "highlight" else CURRENT)}
        text = highlight_text if k == "highlight" and highlight_text else _LEGEND_TEXT[k]
        rows.append((f"legend_{k}", text, a))
    for i, note in enumerate(notes):
        rows.append((f"legend_note{i}", note, {"shape": "plaintext", "fontname": "Helvetica"}))
    lines = ["\tsubgraph cluster_legend {\n",
             '\t\tgraph [label=legend style=rounded color="#9e9e9e" fontcolor="#424242"]\n']
    lines += [f"\t\t{key} [label={quote(label([text], left=False))} {attrs_text(a)}]\n"
              for key, text, a in rows]
    if gradient_edges:
        lines.append('\t\tlegend_grad_from [label="" shape=point width=0.05]\n')
        lines.append('\t\tlegend_grad_to [label="" shape=point width=0.05]\n')
        text = "gradient sent to an operand\\n(the arrow points the way it flows)"
        lines.append(f"\t\tlegend_grad_from -> legend_grad_to [label={quote(text)} "
                     f"{attrs_text(GRADIENT_EDGE_STYLE)}]\n")
        rows.append(("legend_grad_from", "", {}))
    if rankdir in ("TB", "BT") and len(rows) > 1:  # a column: chain the entries invisibly
        keys = [key for key, _, _ in rows]
        lines += [f"\t\t{a} -> {b} [style=invis]\n" for a, b in zip(keys, keys[1:])]
    return lines + ["\t}\n"]
