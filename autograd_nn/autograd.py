"""``torch.autograd``-shaped entry points: ``backward`` (into ``.grad``) and ``grad`` (returned).

``autograd_nn.autograd.grad`` is the torch-style function of tensors; ``autograd_nn.grad`` is
the function transform (transforms.py), which differentiates a Python function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from .engine import Grad, run_backward
from .links import connect_backward
from .tensor import Tensor, to_array

if TYPE_CHECKING:
    from .types import TensorLike

Tensors = Tensor | Sequence[Tensor]
#: the gradients given for the outputs: one (for a single output), or one per output (None: the
#: output has one element and its gradient is 1)
GradOutputs: TypeAlias = "TensorLike | Sequence[TensorLike | None] | None"


def backward(tensors: Tensors, grad_tensors: GradOutputs = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate the gradients of one or several outputs into the leaves, in one pass.

    ``grad_tensors`` gives each output's gradient (needed unless it has one element); the
    graph's saved arrays are released unless ``retain_graph``; ``create_graph`` records the
    pass so that the gradients can be differentiated."""
    gs: list[Any]  # each checked by seed_for
    if isinstance(tensors, Tensor):  # y.backward(): one output and the gradient given for it
        outs, gs = [tensors], [grad_tensors]  # (3 calls fewer: -1.1% instructions on W1)
    else:
        outs = _tensors("backward()", tensors)
        gs = _per_output(tensors, grad_tensors, len(outs), "backward()", "grad_tensors")
    seeds = [seed_for(o, g, create_graph, "backward()") for o, g in zip(outs, gs)]
    run_backward(outs, seeds, create_graph if retain_graph is None else retain_graph,
                 create_graph)


def grad(
    outputs: Tensors,
    inputs: Tensors,
    grad_outputs: GradOutputs = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not stored in ``.grad``
    (like ``torch.autograd.grad``). With ``create_graph=True`` they carry a graph of their own;
    an input the outputs do not depend on is an error unless ``allow_unused`` (then None)."""
    outs = _tensors("grad", outputs)
    given = _as_list(inputs)
    ins = [x for x in given if isinstance(x, Tensor) and x.requires_grad]
    if len(ins) != len(given):
        i = next(i for i, x in enumerate(given) if not (isinstance(x, Tensor) and x.requires_grad))
        raise ValueError(f"grad: input {i} is not a Tensor that requires grad")
    gouts = _per_output(outputs, grad_outputs, len(outs), "grad", "grad_outputs")
    seeds = [seed_for(o, g, create_graph, "grad") for o, g in zip(outs, gouts)]
    retain = create_graph if retain_graph is None else retain_graph
    found = run_backward(outs, seeds, retain, create_graph, inputs=ins) or []
    return tuple(_returned(i, x, g, allow_unused) for i, (x, g) in enumerate(zip(ins, found)))


def _as_list(tensors: Tensors) -> list[object]:
    """A list or tuple as a list; anything else as the one item of a list."""
    return list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]


def _tensors(where: str, tensors: Tensors) -> list[Tensor]:
    given = _as_list(tensors)
    for i, o in enumerate(given):
        if not isinstance(o, Tensor):
            raise TypeError(f"{where}: output {i} is a {type(o).__name__}, not a Tensor")
    return [o for o in given if isinstance(o, Tensor)]


def _per_output(outputs: Tensors, given: GradOutputs, n: int, where: str,
                what: str) -> list[Any]:
    """The gradient given for each output (None where none was), each checked by `seed_for`."""
    if isinstance(outputs, Tensor):
        gs: list[Any] = [given]
    elif given is None:
        gs = [None] * n
    elif isinstance(given, (Tensor, np.ndarray)):  # one gradient, as torch reads one tensor
        gs = [given]  # (iterating it would give its rows to the outputs)
    elif isinstance(given, Iterable):
        gs = list(given)
    else:
        raise TypeError(f"{where}: {n} outputs need a sequence of {n} {what}, got a "
                        f"{type(given).__name__}")
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


def seed_for(out: Tensor, grad: TensorLike | None, create_graph: bool, where: str) -> Grad:
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
