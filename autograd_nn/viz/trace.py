"""`trace_backward`: run the backward pass and record what every step of it did.

The engine's own pass runs (``engine.run_backward`` with a tracer); nothing is re-derived.
For every tensor, in the order the engine processed it, a `TraceStep` keeps the upstream
gradient (d root / d tensor, complete at that point), and for each operand of the op that
made the tensor the *local derivative* used and the gradient sent to it.

The local derivative is described by a rule and, where it is an array, its value:

- elementwise ops (add, multiply, sigmoid, exp, power, ...): ``g ⊙ d`` with ``d`` the
  elementwise derivative d out / d operand, e.g. ``σ(z)·(1 - σ(z))`` for sigmoid. Its value is
  obtained by running the op's own backward rule on an upstream gradient of ones (exact for
  elementwise ops); the gradient sent is ``g ⊙ d``, summed over broadcast axes.
- matmul of two matrices, ``C = A @ B``: the local derivative of A is ``Bᵀ`` (sent ``g @ Bᵀ``),
  of B it is ``Aᵀ`` (sent ``Aᵀ @ g``); the value is that transposed operand.
- anything else (reductions, shape ops, softmax, your own Functions): the rule in words, e.g.
  ``broadcast g to (4, 1)`` for a sum, and as value the op's backward rule applied to ones
  (the vector-Jacobian product with a ones upstream gradient: for a sum all ones, for a
  mean 1/N, for a max the indicator of the maximum).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import engine
from ..autograd import seed_for
from ..function import Function
from ..registry import op_of
from ..tensor import Tensor
from .dot import draw_view
from .graph import GraphView, ParamsArg, array_inline, build_view, op_label
from .html import write_stepper_html
from .resolve import resolve_notes
from .steps import LocalDerivative, RecordedTrace, TraceStep

if TYPE_CHECKING:
    from pathlib import Path

    import graphviz  # no stubs: a Digraph is Any to mypy

    from ..types import TensorLike
    from .html import HandArg

__all__ = ["BackwardTrace", "LocalDerivative", "TraceStep", "trace_backward"]


def _derivative_text(node: Function) -> str | tuple[str, ...]:
    """The op's registered trace label: the elementwise derivative of each operand ({0}, {1}:
    the operands' labels), or its rule in words ({shape}: the operand's shape, {count}: a
    mean's N); "" for a user's own Function."""
    op = op_of(node)
    return op.derivative if op is not None else ""


def trace_backward(
    root: Tensor,
    grad: TensorLike | None = None,
    retain_graph: bool = False,
    params: ParamsArg = None,
    accumulate: bool = True,
) -> BackwardTrace:
    """Run ``root.backward(grad, retain_graph)`` and return the `BackwardTrace` of its steps.

    Leaves' ``.grad`` accumulate as with ``backward()`` unless ``accumulate=False`` (then
    nothing outside the trace changes except, without ``retain_graph``, the graph's saved
    arrays being released). ``params`` (a Module or dict name -> Tensor) names tensors.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"trace_backward: root must be a Tensor, got {type(root).__name__}")
    seed = seed_for(root, grad, False, "trace_backward")
    view = build_view([root], params, "trace_backward")
    steps: list[TraceStep] = []

    def tracer(t: Tensor, g: Any, node: Any, sent: tuple) -> None:
        steps.append(_record(view, len(steps) + 1, t, g, node, sent))

    engine.run_backward([root], [seed], retain_graph, False, inputs=None if accumulate else [],
                 tracer=tracer)
    return BackwardTrace(view, steps)


def _label(view: GraphView, x: object) -> str:
    if isinstance(x, Tensor):
        e = view.tensor_by_id.get(id(x))
        return e.label if e is not None else (x.name or "?")
    if isinstance(x, np.ndarray):
        return f"array{tuple(x.shape)}"
    return f"{x:g}" if isinstance(x, float) else repr(x)


def _record(view: GraphView, index: int, t: Tensor, g: Any, node: Any, sent: tuple) -> TraceStep:
    label = _label(view, t)
    upstream = np.array(g, copy=True)
    if node is None:
        return TraceStep(index, t, label, "leaf", None, upstream, (), (), ())
    names = tuple(_label(view, a) for a in node.inputs)
    local = _local_derivatives(node, names, upstream)
    sent_copy = tuple(None if s is None else np.array(s, copy=True) for s in sent)
    return TraceStep(index, t, label, op_label(node), node, upstream, names, local, sent_copy)


def _local_derivatives(node: Any, names: tuple[str, ...], g: np.ndarray) -> tuple:
    """One LocalDerivative per operand that received a gradient (None for the others)."""
    name = node.name
    derivative = _derivative_text(node)
    needs = node.needs_input_grad
    arrays = [a._data if isinstance(a, Tensor) else np.asarray(a) for a in node.inputs]
    ones: list = []

    def on_ones(i: int) -> np.ndarray | None:
        if not ones:
            try:
                out = type(node).backward(node, np.ones_like(g))
                out = out if isinstance(out, (tuple, list)) else (out,)
                ones.extend(out)
            except Exception:  # a rule that cannot run on ones: describe it only
                ones.extend([None] * len(needs))
        v = ones[i] if i < len(ones) else None
        return None if v is None else np.array(getattr(v, "_data", v), copy=True)

    result: list[LocalDerivative | None] = []
    for i, need in enumerate(needs):
        if not need:
            result.append(None)
            continue
        if name == "matmul" and len(arrays) == 2 and arrays[0].ndim == 2 and arrays[1].ndim == 2:
            other = arrays[1 - i].T.copy()
            rule = f"g @ {names[1]}ᵀ" if i == 0 else f"{names[0]}ᵀ @ g"
            result.append(LocalDerivative("matmul", rule, other))
        elif isinstance(derivative, tuple) and i < len(derivative):
            d = derivative[i].format(*names)
            rule = "g" if d == "1" else "-g" if d == "-1" else f"g ⊙ {d}"
            result.append(LocalDerivative("elementwise", rule, on_ones(i)))
        else:
            template = derivative if isinstance(derivative, str) and derivative else (
                f"{name}.backward(g)")
            count = getattr(node, "count", None)
            rule = template.format(*names, shape=tuple(arrays[i].shape), count=count, i=i)
            result.append(LocalDerivative("vjp", rule, on_ones(i)))
    return tuple(result)


class BackwardTrace(RecordedTrace):
    """The steps of one backward pass, in the engine's order.

    ``str(trace)`` is a table; ``trace[t]`` (or ``trace.grad_of(t)``) is the gradient of the
    root with respect to tensor ``t``; ``trace[i]`` the i-th step (from 0); ``trace.step_of(t)``
    the step that processed ``t``; ``trace.draw()`` a picture with the gradients on the edges,
    ``trace.draw(step=k)`` the state after step k, ``trace.draw_steps()`` one picture per step.

    The data, lookups and tables are `RecordedTrace`'s (steps.py); this class adds what needs
    the renderers (dot.py, html.py), so the modules below it never import this one. A
    subclass rather than a registration point: the methods stay on the one class users get
    from `trace_backward`, and neither a hook filled at start-up nor an import inside a
    method is needed.
    """

    def to_html(self, path: str | Path, hand: HandArg = None, title: str | None = None,
                clusters: bool = True) -> Path:
        """Write one self-contained HTML page (no network access; opens from ``file://``)
        that steps through this backward pass: previous/next buttons and the arrow keys, the
        current tensor and op highlighted in the graph, its upstream gradient, each operand's
        local derivative and the gradient sent to it; ``hand`` (tensor name or Tensor ->
        ``(title, array)``) shows a matching hand-derived value, e.g. R1's δk. The graph needs
        Graphviz's ``dot``; without it the page says how to install it and shows the numbers.
        Returns the path."""
        return write_stepper_html(self, path, hand, title, clusters)

    # ---- pictures ---------------------------------------------------------------------------
    def draw(self, step: int | None = None, edge_elements: int = 4,
             **options: Any) -> graphviz.Digraph:
        """The graph with every gradient computed up to ``step`` (1-based; all by default)
        in its tensor's box (headed ``grad = dJ/dz4``) and on the edge it travelled, drawn
        blue with the arrow pointing the way the gradient flows (op -> operand); the step's
        tensor and op painted orange; unnamed tensors labelled with their ids from the table.
        ``options`` go to the renderer: show_data, show_grad, max_elements, precision,
        rankdir, collapse, hide_constants, legend, title, notes, clusters (see
        `draw_graph`)."""
        n = len(self.steps)
        if step is None:
            done, title = self.steps, (f"backward pass of {self.steps[0].label}: {n} steps, "
                                       "gradients on the edges")
            current: set[str] = set()
        else:
            if isinstance(step, bool) or not isinstance(step, (int, np.integer)) \
                    or not 1 <= step <= n:
                raise IndexError(f"trace.draw: step must be an int in 1..{n}, got {step!r}")
            done = self.steps[:step]
            s = self.steps[step - 1]
            title = (f"backward step {step}/{n}: {s.label} ({s.op}), upstream "
                     f"d{self.steps[0].label}/d{s.label} = "
                     + array_inline(s.upstream, edge_elements, 3))
            current = {self.key_of(s.tensor)}
            if s.node is not None:
                current.add(self.view.op_by_id[id(s.node)].key)
        grads = {id(s.tensor): s.upstream for s in done}
        labels: dict[tuple[str, str], str] = {}
        ran: set[str] = set()
        for s in done:
            if s.node is None:
                continue
            op = self.view.op_by_id[id(s.node)]
            ran.add(op.key)
            for a, g in zip(op.operands, s.sent):
                if g is not None:
                    # shape and values on two lines: narrow labels, placed apart by dot
                    labels[(a.key, op.key)] = array_inline(g, edge_elements, 3).replace(
                        ") ", ")\n", 1)
        unknown = set(options) - {"show_data", "show_grad", "max_elements", "precision",
                                  "rankdir", "collapse", "hide_constants", "legend", "title",
                                  "notes", "clusters"}
        if unknown:
            raise TypeError(f"trace.draw: unexpected options {sorted(unknown)}")
        options.setdefault("show_grad", True)
        options.setdefault("title", title)
        options["notes"] = resolve_notes(self.view, options.get("notes"))
        return draw_view(
            self.view, grad_of=lambda t: grads.get(id(t)), edge_labels=labels,
            backward_ops=ran, current=current, grad_fallback=False, show_ids=True,
            grad_root=self.view.roots[0], **options,
        )

    def draw_steps(self, **options: Any) -> list[graphviz.Digraph]:
        """One picture per step (``draw(step=k)`` for k = 1..len(trace))."""
        return [self.draw(step=k, **options) for k in range(1, len(self.steps) + 1)]
