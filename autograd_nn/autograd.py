"""``torch.autograd``-shaped entry points: ``grad`` (returns gradients) and ``backward``."""

from __future__ import annotations

from typing import Any

from .engine import grad, run_backward
from .tensor import Tensor, seed_for


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate the gradients of several outputs into the leaves in one pass."""
    outs = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if isinstance(tensors, Tensor):
        gs = [grad_tensors]
    elif grad_tensors is None:
        gs = [None] * len(outs)
    else:
        gs = list(grad_tensors)
    seeds = [seed_for(o, g, create_graph, "backward()") for o, g in zip(outs, gs)]
    retain = create_graph if retain_graph is None else retain_graph
    run_backward(outs, seeds, retain, create_graph)


__all__ = ["backward", "grad"]
