"""Pictures of recorded graphs and a replay of the backward pass.

- `draw_graph(root, params=None, ...)`: the graph as a ``graphviz.Digraph`` (values, grads,
  module clusters, collapsed modules, highlighted nodes); nothing is written.
- `print_graph(root, params=None)`: the same graph as indented text, no Graphviz needed
  (`format_graph` returns that text).
- `trace_backward(root)`: runs backward and records what every step did (a table, and
  pictures with the gradients on the edges).
- `render(graph, path)`: SVG/PNG/PDF through Graphviz's ``dot``, with an install hint if missing.

The naming rule, the same for all of them: a tensor is called by the name given explicitly,
first a ``params`` dict (``{"W1": W1}``) or list of ``(name, tensor)`` pairs, then the
tensor's own ``.name``, then (``params`` a Module) its attribute path from
``named_parameters()`` (``hidden1.weight``), else by its id in the graph (``t0`` is the root,
then in the order the walk finds them; the same ids in every picture, text and trace of one
root).
"""

from .dot import draw_graph
from .render import render
from .text import format_graph, print_graph
from .trace import BackwardTrace, LocalDerivative, TraceStep, trace_backward

__all__ = [
    "BackwardTrace", "LocalDerivative", "TraceStep", "draw_graph", "format_graph", "print_graph",
    "render", "trace_backward",
]
