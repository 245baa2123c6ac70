"""Pictures of recorded graphs and a replay of the backward pass.

- `draw_graph(root, params=None, ...)`: the graph as a ``graphviz.Digraph`` (values, grads,
  module clusters, collapsed modules, highlighted nodes); nothing is written.
- `print_graph(root, params=None)`: the same graph as indented text, no Graphviz needed.
- `trace_backward(root)`: runs backward and records what every step did (a table, and
  pictures with the gradients on the edges).
- `render(graph, path)`: SVG/PNG/PDF through Graphviz's ``dot``, with an install hint if missing.
"""

from .dot import draw_graph
from .render import render
from .text import print_graph
from .trace import BackwardTrace, LocalDerivative, TraceStep, trace_backward

__all__ = [
    "BackwardTrace", "LocalDerivative", "TraceStep", "draw_graph", "print_graph", "render",
    "trace_backward",
]
