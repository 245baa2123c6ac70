"""`stepper_html`: one self-contained HTML page that steps through a backward pass.

The page holds everything inline (no network access, so it works from ``file://``): the graph
as one SVG drawn by Graphviz (when ``dot`` is installed; without it the page says how to
install it and still shows the numbers), the trace as JSON, and a few lines of CSS and
JavaScript. Previous/next buttons and the arrow keys move through the steps; the current
tensor and its op are highlighted in the picture, the tensors already done are tinted, and the
panel shows the upstream gradient, each operand's local derivative and the gradient sent to
it, and, where given, the matching hand-derived value (R1's δk). The numbers are formatted in
Python (6 significant digits) and only placed by the script.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from .dot import draw_view
from .graph import format_number

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ..tensor import Tensor
    from .steps import RecordedTrace, TraceStep

#: ``hand=``: tensor name (or Tensor) -> ``(title, array)``, a hand-derived value to compare
HandArg: TypeAlias = ("Mapping[str, tuple[str, ArrayLike]] | Mapping[Tensor, tuple[str, ArrayLike]]"
                      " | None")

DIGITS = 6  # significant digits of every number on the page

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #212121; }
header { padding: 8px 16px; background: #eceff1; border-bottom: 1px solid #cfd8dc; }
header h1 { font-size: 18px; margin: 0 0 6px 0; }
header button { font-size: 15px; padding: 3px 12px; }
#where { font-weight: bold; margin: 0 10px; }
main { display: flex; gap: 12px; padding: 8px; align-items: flex-start; }
#graph { flex: 1 1 55%; overflow: auto; max-height: 88vh; border: 1px solid #eee; }
#graph svg { max-width: 100%; height: auto; }
#panel { flex: 1 1 45%; font-size: 14px; overflow: auto; max-height: 88vh; }
#panel h2 { font-size: 16px; margin: 4px 0; }
#panel h3 { font-size: 14px; margin: 10px 0 2px 0; color: #37474f; }
table.m { border-collapse: collapse; font-family: Courier, monospace; font-size: 13px; }
table.m td { border: 1px solid #cfd8dc; padding: 1px 5px; text-align: right; }
.send { border-left: 4px solid #1565c0; padding-left: 8px; margin: 8px 0; }
.hand { border-left: 4px solid #2e7d32; padding-left: 8px; margin: 8px 0; }
.rule { font-family: Courier, monospace; }
.hint { color: #b71c1c; padding: 8px; }
.node.done polygon, .node.done ellipse { fill: #e3f2fd; }
.node.current polygon, .node.current ellipse { fill: #ffcc80; stroke: #e65100;
  stroke-width: 3px; }
.edge.sending path { stroke: #1565c0; stroke-width: 3px; }
.edge.sending polygon { fill: #1565c0; stroke: #1565c0; }
"""

_JS = """
const data = JSON.parse(document.getElementById('trace-data').textContent);
const nodes = {}, edges = {};
document.querySelectorAll('#graph g.node').forEach(g => {
  nodes[g.querySelector('title').textContent] = g; });
document.querySelectorAll('#graph g.edge').forEach(g => {
  edges[g.querySelector('title').textContent] = g; });
let k = 0;
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [a, v] of Object.entries(attrs || {})) e.setAttribute(a, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function matrix(m, role) {
  const t = el('table', {'class': 'm', 'data-role': role, 'data-shape': m.shape.join(',')});
  for (const row of m.rows) {
    const tr = el('tr');
    for (const v of row) tr.appendChild(el('td', {}, v));
    t.appendChild(tr);
  }
  return t;
}
function show(i) {
  k = Math.max(0, Math.min(data.steps.length - 1, i));
  const s = data.steps[k];
  document.getElementById('where').textContent = `step ${k + 1} / ${data.steps.length}`;
  const p = document.getElementById('panel');
  p.replaceChildren();
  p.appendChild(el('h2', {'id': 'step-title'}, s.title));
  p.appendChild(el('h3', {},
    `upstream gradient ${s.upstream_name} (shape ${s.upstream.shape_text})`));
  p.appendChild(matrix(s.upstream, 'upstream'));
  if (s.hand) {
    const h = el('div', {'class': 'hand'});
    h.appendChild(el('h3', {}, s.hand.title));
    h.appendChild(matrix(s.hand.value, 'hand'));
    h.appendChild(el('p', {'data-role': 'hand-diff'}, s.hand.diff));
    p.appendChild(h);
  }
  if (s.leaf) p.appendChild(el('p', {'data-role': 'leaf'}, s.leaf));
  s.sends.forEach((x, j) => {
    const d = el('div', {'class': 'send', 'data-role': 'send', 'data-operand': x.operand});
    d.appendChild(el('h3', {}, `to ${x.operand}: local derivative`));
    d.appendChild(el('p', {'class': 'rule', 'data-role': 'rule'}, x.rule));
    if (x.local) {
      d.appendChild(el('h3', {}, x.local_title));
      d.appendChild(matrix(x.local, 'local'));
    }
    d.appendChild(el('h3', {}, `gradient sent to ${x.operand}`));
    d.appendChild(matrix(x.sent, 'sent'));
    p.appendChild(d);
  });
  Object.values(nodes).forEach(g => g.classList.remove('current', 'done'));
  Object.values(edges).forEach(g => g.classList.remove('sending'));
  data.steps.slice(0, k).forEach(t => { if (nodes[t.key]) nodes[t.key].classList.add('done'); });
  for (const key of [s.key, s.op_key]) if (key && nodes[key]) nodes[key].classList.add('current');
  if (nodes[s.key]) nodes[s.key].scrollIntoView({block: 'center', inline: 'nearest'});
  for (const x of s.sends) {
    const e = edges[`${x.operand_key}->${s.op_key}`];
    if (e) e.classList.add('sending');
  }
  document.getElementById('prev').disabled = k === 0;
  document.getElementById('next').disabled = k === data.steps.length - 1;
}
document.getElementById('prev').addEventListener('click', () => show(k - 1));
document.getElementById('next').addEventListener('click', () => show(k + 1));
document.addEventListener('keydown', e => {
  if (e.key === 'ArrowRight') { show(k + 1); e.preventDefault(); }
  if (e.key === 'ArrowLeft') { show(k - 1); e.preventDefault(); }
});
show(0);
"""


def matrix_json(a: ArrayLike) -> dict[str, Any]:  # JSON: values of several kinds
    """An array as rows of formatted numbers (0-d: one cell; n-d: rows of the last axis)."""
    arr = np.asarray(a)
    rows2d = arr.reshape(1, 1) if arr.ndim == 0 else arr.reshape(-1, arr.shape[-1]) \
        if arr.size else arr.reshape(1, 0)
    return {"shape": list(arr.shape), "shape_text": str(tuple(arr.shape)),
            "rows": [[format_number(v, DIGITS) for v in row] for row in rows2d.tolist()]}


def _step_json(trace: RecordedTrace, s: TraceStep, hand: Mapping[str, tuple[str, ArrayLike]]
               ) -> dict[str, Any]:
    root = trace.steps[0].label
    op = trace.view.op_by_id.get(id(s.node)) if s.node is not None else None
    out: dict[str, Any] = {
        "label": s.label, "key": trace.key_of(s.tensor), "op": s.op,
        "op_key": op.key if op is not None else None,
        "title": f"step {s.index}: {s.label}" + (f" = {s.op}(...)" if op is not None
                                                 else " (a leaf)"),
        "upstream_name": f"d{root}/d{s.label}", "upstream": matrix_json(s.upstream),
        "sends": [], "leaf": None, "hand": None,
    }
    if op is None:
        out["leaf"] = (f"{s.label} is a leaf: its gradient d{root}/d{s.label} is accumulated "
                       f"into {s.label}.grad (when it requires grad)")
    else:
        for i, (name, local, sent) in enumerate(zip(s.operands, s.local, s.sent)):
            if sent is None:
                continue
            out["sends"].append({
                "operand": name, "operand_key": op.operands[i].key,
                "rule": local.rule if local is not None else "",
                "local_title": {"elementwise": "local derivative d out / d operand (elementwise)",
                                "matmul": "local derivative (the other operand, transposed)"}
                .get(local.kind if local else "", "the backward rule applied to ones"),
                "local": matrix_json(local.value) if local is not None and local.value is not None
                else None,
                "sent": matrix_json(sent),
            })
    if s.label in hand:
        title, value = hand[s.label]
        value = np.asarray(value, dtype=np.float64)
        same = value.shape == s.upstream.shape
        diff = float(np.max(np.abs(value - s.upstream), initial=0.0)) if same else None
        text = (f"max |{out['upstream_name']} - {title}| = {format_number(diff, 3)}"
                + (" (identical bit for bit)" if same and np.array_equal(value, s.upstream)
                   else "") if diff is not None else
                f"shapes differ: {value.shape} vs {s.upstream.shape}")
        out["hand"] = {"title": title, "value": matrix_json(value), "diff": text}
    return out


def _svg(trace: RecordedTrace, clusters: bool) -> tuple[str, str | None]:
    """The graph as inline SVG markup, or ("", the install hint) without ``dot``."""
    graph = draw_view(trace.view, show_data=False, show_grad=False, show_ids=True,
                      rankdir="TB", legend=False, clusters=clusters)
    try:
        svg = graph.pipe(format="svg").decode("utf-8")
    except RuntimeError as e:  # graphviz's ExecutableNotFound, with the install hint
        return "", str(e)
    return svg[svg.index("<svg"):], None


def stepper_html(trace: RecordedTrace, hand: HandArg = None,
                 title: str | None = None, clusters: bool = True) -> str:
    """The page's HTML text (see the module docstring); ``hand`` maps tensor names (or
    Tensors) to ``(title, array)``, e.g. ``{"z4": ("δ4 (hand-derived)", delta4)}``."""
    named: dict[str, tuple[str, ArrayLike]] = {}
    for k, v in (hand or {}).items():
        name = k if isinstance(k, str) else trace.step_of(k).label
        if not (isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str)):
            raise TypeError(f"to_html: hand[{name!r}] must be a (title, array) pair, got "
                            f"{type(v).__name__}")
        named[name] = v
    unknown = sorted(set(named) - {s.label for s in trace.steps})
    if unknown:
        raise ValueError(f"to_html: hand names {unknown} are not tensors of this trace; "
                         f"its tensors: {[s.label for s in trace.steps]}")
    data = {"steps": [_step_json(trace, s, named) for s in trace.steps]}
    svg, hint = _svg(trace, clusters)
    head = title or f"backward pass of {trace.steps[0].label}: {len(trace.steps)} steps"
    body_graph = svg if svg else f'<p class="hint">{html.escape(hint or "")}</p>'
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(head)}</title><style>{_CSS}</style></head><body>\n"
        f"<header><h1>{html.escape(head)}</h1>"
        "<button id=\"prev\" title=\"previous step (left arrow)\">&#9664; previous</button>"
        "<span id=\"where\"></span>"
        "<button id=\"next\" title=\"next step (right arrow)\">next &#9654;</button>"
        " <span>(arrow keys work too; orange: the tensor and op of this step, blue edges: "
        "the gradients it sends, tinted: tensors already done)</span></header>\n"
        f"<main><div id=\"graph\">{body_graph}</div><div id=\"panel\"></div></main>\n"
        f"<script type=\"application/json\" id=\"trace-data\">{payload}</script>\n"
        f"<script>{_JS}</script>\n</body></html>\n"
    )


def write_stepper_html(trace: RecordedTrace, path: str | Path, hand: HandArg = None,
                       title: str | None = None, clusters: bool = True) -> Path:
    """Write `stepper_html` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(stepper_html(trace, hand, title, clusters), encoding="utf-8")
    return path
