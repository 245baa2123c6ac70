"""Find the op whose derivative is wrong: re-check every node of a failing graph on its own.

Each node reachable from the outputs is rebuilt as ``type(node).apply(*operands, **kwargs)``
on fresh float64 leaves (copies of its operands' arrays) and checked like a function of its
own; the nodes whose own backward disagrees with finite differences are the culprits. For
`gradgradcheck` every node is checked to first and to second order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor
from .check import Options, run_check
from .problem import Problem
from .result import GradcheckResult, fmt_num

NONDIFF = "it is non-differentiable"

# Local checks above this many Jacobian entries use one random projection instead.
FULL_LIMIT = 20_000


def graph_nodes(outputs: tuple) -> list:
    """The Function nodes reachable from ``outputs``, operands' nodes first (no recursion)."""
    order: list = []
    seen: set = set()
    stack = [(o.grad_fn, False) for o in reversed(outputs)
             if isinstance(o, Tensor) and o.grad_fn is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for a in reversed(node.inputs):
            if isinstance(a, Tensor) and a.grad_fn is not None and id(a.grad_fn) not in seen:
                stack.append((a.grad_fn, False))
    return order


def describe_node(node: Any) -> str:
    """``'name' (operands ...; in Module > Module; created at <user line>)``."""
    ops = []
    for a in node.inputs:
        if isinstance(a, (Tensor, np.ndarray)):
            ops.append(f"{tuple(a.shape)} {a.dtype}")
        else:
            ops.append(repr(a))
    parts = [f"operands {', '.join(ops)}"]
    if node.kwargs:
        parts.append(", ".join(f"{k}={v!r}" for k, v in node.kwargs.items()))
    if node.scope:
        parts.append("in " + " > ".join(type(m).__name__ for m in node.scope))
    record = getattr(node, "_anomaly", None)
    if record:
        parts.append(f"created at {record[0]}")
    return f"{node.name!r} ({'; '.join(parts)})"


def _operands(node: Any) -> list:
    """Fresh float64 leaves for the operands that need grad; constants for the others."""
    out = []
    for a, need in zip(node.inputs, node.needs_input_grad):
        if isinstance(a, Tensor):
            out.append(Tensor(a.data, dtype=np.float64, requires_grad=True) if need
                       else a.detach())
        elif isinstance(a, np.ndarray) and a.dtype.kind == "f":
            out.append(Tensor._from_op(a, None))  # a constant, not an input to differentiate
        else:
            out.append(a)
    return out


def _summary(result: GradcheckResult, order: int) -> str:
    p = result.failed_pairs[0]
    what = "its backward" if order == 1 else "its backward's own derivative (second order)"
    if p.n_failed and p.worst_input_element is None:
        return f"{what} fails for {p.input}: {p.note}"
    kinks = p.nondiff
    if result.nondiff_policy == "fail" and kinks and p.n_failed <= len(kinks):
        return (f"{NONDIFF} at {kinks[0].input} index {kinks[0].input_element} "
                "(nondiff='fail')")
    where = "" if p.worst_input_element is None else (
        f", worst at {p.input} index {p.worst_input_element} (output index "
        f"{p.worst_output_element}): analytical {fmt_num(p.analytical)}, numerical "
        f"{fmt_num(p.numerical)}")
    return (f"{what} disagrees with finite differences for {p.input}: {p.n_failed} of "
            f"{p.n_checked} entries{where}")


def check_node(node: Any, opts: Options, order: int) -> str | None:
    """Why ``node``'s own derivative is wrong, or None if it passes (or cannot be re-run)."""
    op, kwargs = type(node), dict(node.kwargs)

    def fn(*xs: Any) -> Tensor:
        return op.apply(*xs, **kwargs)

    try:
        problem = Problem(fn, _operands(node), f"op {node.name!r}", warn=False,
                          names=[f"operand {i}" for i in range(len(node.inputs))])
        probe = problem.call(problem.arguments())
    except Exception:
        return None  # its forward cannot be replayed on its own; nothing to blame it for
    if len(probe) != 1 or not isinstance(probe[0], Tensor) or probe[0].dtype != np.float64:
        return None  # not float64 on float64 operands (e.g. astype): FD would be noise
    entries = probe[0].size * sum(problem.base[i].size for i in problem.diff)
    sub = replace(opts, fast_mode=entries > FULL_LIMIT, locate=False, allow_unused=None)
    result = run_check(problem, sub, order=1)
    if result.cannot_vouch:
        return None  # e.g. a random op (dropout): its own check cannot blame it either
    if not result.passed:
        return _summary(result, 1)
    if order == 2:
        try:
            second = vjp_problem(problem, probe, None, opts.seed, f"op {node.name!r}")
        except ValueError:
            return None
        big = entries * 4 > FULL_LIMIT
        result = run_check(second, replace(sub, fast_mode=big), order=2)
        if not result.passed and not result.cannot_vouch:
            return _summary(result, 2)
    return None


def localise(result: GradcheckResult, opts: Options, order: int) -> None:
    """Fill ``result.failed_nodes`` and its report lines from the graph of ``result.outputs``."""
    result.localised = True
    for node in graph_nodes(result.outputs):
        reason = check_node(node, opts, order)
        if reason:
            result.failed_nodes.append(node)
            lead = "op" if reason.startswith(NONDIFF) else "the wrong derivative is in op"
            result.node_reports.append(f"{lead} {describe_node(node)}: {reason}")


# ---- second order ---------------------------------------------------------------------
def _grad_outputs(grad_outputs: Any, outs: tuple, diff_out: list, seed: int,
                  where: str) -> list[np.ndarray]:
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        return [np.asarray(rng.standard_normal(outs[k].shape), dtype=np.float64)
                for k in diff_out]
    given = (
        [grad_outputs] if isinstance(grad_outputs, (Tensor, np.ndarray)) else list(grad_outputs)
    )
    if len(given) == len(outs) and len(outs) != len(diff_out):
        given = [given[k] for k in diff_out]
    if len(given) != len(diff_out):
        raise ValueError(f"{where}: {len(given)} grad_outputs for {len(diff_out)} outputs")
    arrays = []
    for k, g in zip(diff_out, given):
        arr = np.array(g.data if isinstance(g, Tensor) else g, dtype=np.float64)
        if arr.shape != outs[k].shape:
            raise ValueError(f"{where}: grad_output for output {k} has shape {arr.shape}, "
                             f"the output has shape {outs[k].shape}")
        arrays.append(arr)
    return arrays


def vjp_problem(first: Problem, outs: tuple, grad_outputs: Any, seed: int,
                where: str) -> Problem:
    """The function ``(inputs, grad_outputs) -> grads of the inputs`` (``create_graph=True``)
    whose Jacobian holds f's second derivatives."""
    diff_out = [k for k in first.checked_outputs
                if isinstance(outs[k], Tensor) and outs[k].requires_grad]
    if not diff_out:
        raise ValueError(f"{where}: no output of f depends on the inputs through the graph, so "
                         "there is no first derivative to differentiate")
    gos = _grad_outputs(grad_outputs, outs, diff_out, seed, where)
    n_args, diff = len(first.args), list(first.diff)

    def vjp(*args: Any) -> tuple:  # every argument of f (live ones too), then grad_outputs
        res = first.invoke(list(args[:n_args]))
        res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        wrt = [args[i] for i in diff]
        gs = autograd.grad([res[k] for k in diff_out], wrt, grad_outputs=list(args[n_args:]),
                         create_graph=True, allow_unused=True)
        return tuple(Tensor(np.zeros(x.shape)) if g is None else g for x, g in zip(wrt, gs))

    names = [first.names.get(i, f"input {i}") for i in range(n_args)]
    names += [f"grad_output {k}" for k in diff_out]
    return Problem(vjp, list(first.args) + gos, where, warn=False, names=names,
                   output_names=[f"grad({first.names[i]})" for i in diff], live=first.live)
