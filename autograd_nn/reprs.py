"""HTML tables for notebooks: the ``_repr_html_`` of traces, gradient checks and gradient
tables (Jupyter shows them as tables; ``print`` still gives the text). Imports nothing of ours."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

_STYLE = ("border-collapse:collapse;font-family:monospace;font-size:12px")
_CELL = "border:1px solid #cfd8dc;padding:2px 6px;text-align:left;white-space:pre"


def html_table(headers: Sequence[str], rows: Iterable[Sequence[object]], caption: str = "",
               notes: Iterable[str] = (), bad: Iterable[int] = ()) -> str:
    """A small HTML table, every cell escaped; rows whose index is in ``bad`` are red."""
    marked = set(bad)
    parts = [f'<table style="{_STYLE}">']
    if caption:
        parts.append(f'<caption style="text-align:left;font-weight:bold">'
                     f"{html.escape(caption)}</caption>")
    parts.append("<tr>" + "".join(f'<th style="{_CELL};background:#eceff1">{html.escape(h)}'
                                  "</th>" for h in headers) + "</tr>")
    for i, row in enumerate(rows):
        colour = ";background:#ffcdd2" if i in marked else ""
        parts.append("<tr>" + "".join(f'<td style="{_CELL}{colour}">{html.escape(str(c))}</td>'
                                      for c in row) + "</tr>")
    parts.append("</table>")
    parts += [f'<div style="font-size:12px">{html.escape(n)}</div>' for n in notes]
    return "".join(parts)
