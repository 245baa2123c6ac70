"""``torch.autograd``-shaped entry points: ``backward`` (into ``.grad``) and ``grad`` (returned).

``autograd_nn.autograd.grad`` is the torch-style function of tensors; ``autograd_nn.grad`` is
the function transform (transforms.py), which differentiates a Python function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine import Grad, run_backward
from .links import connect_backward
from .tensor import Tensor, to_array

Tensors = Tensor | Sequence[Tensor]


def backward(tensors: Tensors, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate the gradients of one or several outputs into the leaves, in one pass.

    ``grad_tensors`` gives each output's gradient (needed unless it has one element); the
    graph's saved arrays are released unless ``retain_graph``; ``create_graph`` records the
    pass so that the gradients can be differentiated."""
    outs = _tensors("backward()", tensors)
    gs = _per_output(tensors, grad_tensors, len(outs), "backward()", "grad_tensors")
    seeds = [seed_for(o, g, create_graph, "backward()") for o, g in zip(outs, gs)]
    run_backward(outs, seeds, create_graph if retain_graph is None else retain_graph,
                 create_graph)


def grad(
    outputs: Tensors,
    inputs: Tensors,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not stored in ``.grad``
    (like ``torch.autograd.grad``). With ``create_graph=True`` they carry a graph of their own;
    an input the outputs do not depend on is an error unless ``allow_unused`` (then None)."""
    outs = _tensors("grad", outputs)
    ins: list[Tensor] = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]  # type: ignore[list-item]
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise ValueError(f"grad: input {i} is not a Tensor that requires grad")
    gouts = _per_output(outputs, grad_outputs, len(outs), "grad", "grad_outputs")
    seeds = [seed_for(o, g, create_graph, "grad") for o, g in zip(outs, gouts)]
    retain = create_graph if retain_graph is None else retain_graph
    found = run_backward(outs, seeds, retain, create_graph, inputs=ins) or []
    return tuple(_returned(i, x, g, allow_unused) for i, (x, g) in enumerate(zip(ins, found)))


def _tensors(where: str, tensors: Tensors) -> list[Tensor]:
    outs: list[Any] = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{where}: output {i} is a {type(o).__name__}, not a Tensor")
    return outs


def _per_output(outputs: Tensors, given: Any, n: int, where: str, what: str) -> list[Any]:
    """The gradient given for each output (None where none was)."""
    if isinstance(outputs, Tensor):
        gs = [given]
    elif given is None:
        gs = [None] * n
    else:
        gs = list(given)
    if len(gs) != n:
        raise ValueError(f"{where}: {n} outputs but {len(gs)} {what}")
    return gs


def _returned(i: int, x: Tensor, g: Grad | None, allow_unused: bool) -> Tensor | None:
    if g is None:
        if not allow_unused:
            raise ValueError(
                f"grad: input {i} (shape {x.shape}) is not part of the outputs' graph; "
                "pass allow_unused=True to get None for it"
            )
        return None
    if isinstance(g, Tensor):
        return g
    return Tensor._from_op(np.array(g) if g.base is not None else g, None)


def seed_for(out: Tensor, grad: Any, create_graph: bool, where: str) -> Any:
    """The starting gradient for a backward pass from ``out``, checked against it."""
    if not out._requires_grad:
        raise RuntimeError(f"{where}: the output does not require grad, so it has no graph")
    if grad is None:
        if out._data.size != 1:
            raise RuntimeError(
                f"{where}: the output has shape {out.shape}, not a single element, so a gradient "
                f"of that shape is needed: pass grad=ones_like(output) (or a weighting of shape "
                f"{out.shape}), or reduce the output to a scalar first (e.g. .sum())"
            )
        data = out._data
        seed = np.array(1, data.dtype).reshape(data.shape)  # one element; numpy's ones_like is slow
        return Tensor._from_op(seed, None) if create_graph else seed
    if isinstance(grad, Tensor):
        g = grad
    elif isinstance(grad, np.ndarray):
        g = Tensor._from_op(grad, None)
    else:  # Python numbers and lists take the output's dtype
        g = Tensor._from_op(to_array(grad, out.dtype), None)
    if g.dtype.kind != "f" or g.dtype != out.dtype:
        raise TypeError(
            f"{where}: the gradient has dtype {g.dtype} but the output has dtype {out.dtype}; "
            "they must match"
        )
    if g.shape != out.shape:
        raise ValueError(
            f"{where}: the gradient has shape {g.shape} but the output has shape {out.shape}; "
            "they must match"
        )
    return g if create_graph else g._data




connect_backward(backward)

__all__ = ["backward", "grad", "seed_for"]
