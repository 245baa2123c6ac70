"""What draw_graph's arguments name in a graph: the gradients to show (``grads``), the nodes
to paint (``highlight``) and the tensors to annotate (``notes``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from ..function import Function
from ..tensor import Tensor
from .graph import GraphView

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .steps import RecordedTrace


class FailedNodes(Protocol):
    """A gradcheck result (`GradcheckResult`), as ``highlight=`` reads it."""

    @property
    def failed_nodes(self) -> Sequence[Function] | None: ...

#: ``notes=``: Tensor (or tensor name) -> a line of text for its box
NotesArg: TypeAlias = "Mapping[Tensor, str] | Mapping[str, str] | None"
#: ``grads=``: the gradients to show: a `BackwardTrace` (a `RecordedTrace`) or a dict
#: Tensor -> gradient
GradsArg: TypeAlias = "RecordedTrace | Mapping[Tensor, ArrayLike] | None"
#: ``highlight=``: a gradcheck result (its ``failed_nodes``), or Function nodes / Tensors
HighlightArg: TypeAlias = "FailedNodes | Tensor | Function | Iterable[Tensor | Function] | None"


def resolve_notes(view: GraphView, notes: NotesArg) -> dict[str, str]:
    """Keys of the tensors that ``notes`` (Tensor or name -> text) annotates."""
    if notes is None:
        return {}
    if not isinstance(notes, Mapping):
        raise TypeError(f"draw_graph: notes must be a dict Tensor or name -> text, "
                        f"got {type(notes).__name__}")
    by_name: dict[str, list[str]] = {}
    for e in view.tensors:
        by_name.setdefault(e.label, []).append(e.key)
    out = {}
    for k, text in notes.items():
        if not isinstance(text, str):
            raise TypeError(f"draw_graph: notes[{k!r:.40}] must be a str, got "
                            f"{type(text).__name__}")
        entry = view.entry_of(k) if isinstance(k, Tensor) else None
        keys = [entry.key] if entry is not None else by_name.get(k, []) if isinstance(
            k, str) else []
        if len(keys) != 1:
            what = "no tensor" if not keys else f"{len(keys)} tensors"
            raise ValueError(f"draw_graph: notes key {k!r:.40} names {what} of this graph")
        out[keys[0]] = text
    return out


def grad_lookup(grads: Any) -> Callable[[Tensor], Any]:  # a GradsArg, checked here
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


def resolve_highlight(view: GraphView, highlight: Any  # a HighlightArg, checked here
                      ) -> tuple[set[str], bool]:
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
