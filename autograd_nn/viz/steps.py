"""The recorded steps of a backward pass: `TraceStep`, `LocalDerivative` and `RecordedTrace`.

Plain data and what is read from it without drawing (lookups, the text table, the notebook
table). `BackwardTrace` (trace.py) adds the pictures and the HTML page on top of
`RecordedTrace`; keeping the data here, below the renderers, lets html.py and resolve.py name
the trace type without importing trace.py, which imports them. This module imports no
renderer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .graph import GraphView, TensorEntry, array_inline

__all__ = ["LocalDerivative", "RecordedTrace", "TraceStep"]


@dataclass(frozen=True)
class LocalDerivative:
    """How one operand's gradient was made from the upstream gradient ``g``.

    ``kind`` is ``"elementwise"`` (sent = g ⊙ value, summed over broadcast axes), ``"matmul"``
    (value is the other operand transposed: sent = g @ value or value @ g) or ``"vjp"``
    (value = the op's backward rule applied to ones). ``rule`` is the formula in words.
    """

    kind: str
    rule: str
    value: np.ndarray | None


@dataclass(frozen=True)
class TraceStep:
    """One tensor processed by the engine: ``upstream`` is d root / d tensor; ``operands``,
    ``local`` and ``sent`` have one entry per operand of ``node`` (None where no gradient
    goes). Leaves have ``node`` None, ``op`` ``"leaf"`` and empty tuples."""

    index: int
    tensor: Tensor
    label: str
    op: str
    node: Function | None
    upstream: np.ndarray
    operands: tuple[str, ...]
    local: tuple[LocalDerivative | None, ...]
    sent: tuple[np.ndarray | None, ...]


class RecordedTrace:
    """The steps of one backward pass, in the engine's order, without the pictures (the base
    of `BackwardTrace`, see the module docstring).

    ``str(trace)`` is a table; ``trace[t]`` (or ``trace.grad_of(t)``) is the gradient of the
    root with respect to tensor ``t``; ``trace[i]`` the i-th step (from 0); ``trace.step_of(t)``
    the step that processed ``t``; ``trace.key_of(t)`` its node id in the pictures.
    """


    def __init__(self, view: GraphView, steps: list[TraceStep]) -> None:
        self.view = view
        self.steps = steps
        self.root = view.roots[0].tensor
        self._by_id = {id(s.tensor): s for s in steps}

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[TraceStep]:
        return iter(self.steps)

    @overload
    def __getitem__(self, key: Tensor | str) -> np.ndarray: ...
    @overload
    def __getitem__(self, key: int | np.integer) -> TraceStep: ...
    @overload
    def __getitem__(self, key: slice) -> list[TraceStep]: ...
    def __getitem__(self, key: Tensor | str | int | np.integer | slice
                    ) -> np.ndarray | TraceStep | list[TraceStep]:
        """``trace[t]`` or ``trace["z4"]``: d root / d that tensor (an ndarray);
        ``trace[i]``: the i-th step (from 0)."""
        if isinstance(key, Tensor):
            return self.grad_of(key)
        if isinstance(key, str):
            return self.step_named(key).upstream
        if isinstance(key, (int, np.integer, slice)) and not isinstance(key, bool):
            return self.steps[key]
        raise TypeError(f"trace[...]: expected a Tensor, a tensor's name or a step index, "
                        f"got {type(key).__name__}")

    def step_named(self, name: str) -> TraceStep:
        """The step of the tensor called ``name`` (its name, or its id such as ``t3``)."""
        found = [s for s in self.steps if s.label == name]
        if len(found) != 1:
            what = "no tensor" if not found else f"{len(found)} tensors"
            raise KeyError(f"trace: {what} of this backward pass is called {name!r}; names: "
                           f"{', '.join(s.label for s in self.steps)}")
        return found[0]

    def __repr__(self) -> str:
        root = self.steps[0].label
        names = ", ".join(s.label for s in self.steps[:8]) + (", ..." if len(self) > 8 else "")
        return (f"<BackwardTrace of {root}: {len(self.steps)} steps ({names}); "
                f"trace['name'] is d{root}/d(name), print(trace) the table, trace.draw() the "
                f"picture, trace.to_html(path) a page to step through>")

    def _repr_html_(self) -> str:
        from ..reprs import html_table

        head = ["step", "tensor", "op", "upstream grad", "-> operand", "local derivative",
                "grad sent"]
        rows = []
        for s in self.steps:
            first = [str(s.index), s.label, s.op, array_inline(s.upstream, 4, 4)]
            sends = [(name, local.rule if local is not None else "", array_inline(sent, 4, 4))
                     for name, local, sent in zip(s.operands, s.local, s.sent)
                     if sent is not None] or [("(leaf)", "", "")]
            rows += [(first if j == 0 else [""] * 4) + list(r) for j, r in enumerate(sends)]
        caption = (f"backward pass of {self.steps[0].label}: {len(self.steps)} steps, in the "
                   "engine's order (upstream grad = d root / d tensor)")
        return html_table(head, rows, caption)

    def step_of(self, t: Tensor) -> TraceStep:
        """The step in which the engine processed ``t``."""
        s = self._by_id.get(id(t))
        if s is None:
            what = f"{t.name!r}" if isinstance(t, Tensor) and t.name else "this tensor"
            raise KeyError(
                f"trace: {what} received no gradient in this backward pass (it is not part of "
                "the root's graph, or does not require grad)"
            )
        return s

    def grad_of(self, t: Tensor) -> np.ndarray:
        """d root / d t as the engine computed it (an ndarray shaped like ``t``)."""
        return self.step_of(t).upstream

    def grad_map(self) -> dict[int, np.ndarray]:
        """id(tensor) -> gradient, for ``draw_graph(..., grads=trace)``."""
        return {id(s.tensor): s.upstream for s in self.steps}

    # ---- text -------------------------------------------------------------------------------
    def format(self, max_elements: int = 4, precision: int = 4) -> str:
        """The table: one row per gradient sent (arrays inline up to ``max_elements``)."""
        def cell(a: Any) -> str:
            return "" if a is None else array_inline(a, max_elements, precision)

        head = ("step", "tensor", "op", "upstream grad", "-> operand", "local derivative",
                "local value", "grad sent")
        rows = []
        for s in self.steps:
            first = (str(s.index), s.label, s.op, cell(s.upstream))
            if s.node is None:
                rows.append(first + ("(leaf)", "", "", ""))
                continue
            sent_rows = [
                (name, local.rule if local else "", cell(local.value) if local else "", cell(sent))
                for name, local, sent in zip(s.operands, s.local, s.sent, strict=True)
                if local is not None or sent is not None
            ]
            for k, r in enumerate(sent_rows or [("", "", "", "")]):
                rows.append((first if k == 0 else ("", "", "", "")) + r)
        widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(head)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        lines.extend("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def key_of(self, t: Tensor) -> str:
        """The node id of ``t`` in this trace's pictures (``t3``), "" if not in the graph."""
        e: TensorEntry | None = self.view.tensor_by_id.get(id(t))
        return e.key if e is not None else ""
