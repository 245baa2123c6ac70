"""Higher derivatives through a compiled node: its traced ops re-run eagerly, differentiated by
the engine's own ``create_graph`` pass.

The generated backward is numpy code: its gradients cannot be differentiated again. Under
``create_graph=True`` (``hessian``, ``hvp``, ``gradgradcheck``, ``autograd.grad`` of a
gradient) the compiled node's backward instead *replays* the ops of its trace that its output
depends on, as eager ops, on the node's own inputs (so the graph it makes joins the graph
around the node), and runs the engine's recorded pass over that region only: each op's own
rule, interpreted with the differentiable namespace, as eager mode does. No rule is written
twice, and the result is eager mode's, op for op.

What the replay needs of the call it differentiates, it takes from that call: the states of
the random generators before its forward (a dropout mask is drawn again from a copy of that
state: the same mask, and the user's generator does not move), private copies of plain numpy
arrays it was given, and the inputs themselves, which must not have changed in place since
(that raises, as eager mode raises for a saved array that changed). When the output reads a
tensor the function changes in place (a buffer), the forward also keeps a copy of it as it was
before the call, and the whole trace is replayed, its writes into that copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import count_consumers, node_backward
from ..mode import LOCAL, enable_grad
from ..passes import RecordedPass
from ..tensor import Tensor
from .retrace import random_sources, save_random_state
from .trace import Node, Var, vars_in


class Replay:
    """The traced ops the compiled node's output depends on, to re-run eagerly."""

    def __init__(self, nodes: list[Node], out: Var, region: list[Var]) -> None:
        cone = _cone(nodes, out)
        written = {id(n.out) for n in nodes if n.writes}
        reads_written = any(id(o) in written for n in cone
                            for o in [*n.operands, *vars_in(n.kwargs)])
        # when the output reads a tensor the function changes in place, the whole trace is
        # replayed, its writes too, on copies of those tensors as they were before the call
        self.nodes = list(nodes) if reads_written else cone
        self.out = out
        self.region = region
        self.rngs = random_sources(self.nodes)
        self.array_slots = [i for i, v in enumerate(region) if v.tensor is None]
        self.written_slots = [i for i, v in enumerate(region) if id(v) in written] \
            if reads_written else []
        self.aliased = _aliased_writes(nodes, region)

    def before_forward(self, ctx: Any, arrays: tuple) -> None:
        """What a later replay needs of this call, taken before its forward runs."""
        if self.rngs:
            ctx.random = save_random_state(self.rngs)
        if self.written_slots:
            ctx.before_writes = [arrays[i].copy() for i in self.written_slots]

    def run(self, inputs: tuple, random: list) -> Tensor:
        """The output, recomputed by eager ops on ``inputs`` (the compiled node's operands)."""
        clones = _generator_copies(random)
        env: dict[int, Any] = {id(v): x for v, x in zip(self.region, inputs)}
        for node in self.nodes:
            env[id(node.out)] = _run_node(node, env, clones)
        out = env[id(self.out)]
        return out if isinstance(out, Tensor) else Tensor._from_op(np.asarray(out), None)


def recorded_backward(ctx: Any, g: Tensor) -> tuple:
    """The compiled node's backward under ``create_graph=True`` (``ctx``: the engine's
    GraphCtx): the gradients, as Tensors with a graph, of each of its operands."""
    node = ctx._node
    replay: Replay = node.kwargs["replay"]
    if replay.aliased:
        raise RuntimeError(
            f"compiled: the function writes in place into {replay.aliased}, which shares memory "
            "with another tensor it reads, so the re-run that computes its higher derivatives "
            "(create_graph=True) cannot see what each op read. Call the function uncompiled "
            "for higher derivatives, or write into a tensor that is not a view of another.")
    inputs = list(node.inputs)
    extra = node.saved_tensors[node.n_saved:]  # private copies of the plain arrays given
    for i, copy in zip(replay.array_slots, extra):
        inputs[i] = copy
    for i, before in zip(replay.written_slots, getattr(node, "before_writes", [])):
        inputs[i] = Tensor._from_op(before.copy(), None)  # the replay writes into it
    _check_unchanged(node, inputs)
    out = replay.run(tuple(inputs), getattr(node, "random", []))
    return region_backward(out, g, inputs, node.needs_input_grad)


def region_backward(root: Tensor, seed: Tensor, inputs: list, needs: tuple) -> tuple:
    """The engine's recorded pass from ``root`` down to ``inputs`` (not below them): their
    gradients (None where not needed, or not reached)."""
    mode = RecordedPass(LOCAL.mode.anomaly)
    stop = {x for x, need in zip(inputs, needs) if need}
    consumers = count_consumers([root], stop)
    store = mode.store([root], [seed])
    found: dict[int, Tensor] = {}
    with enable_grad():  # a recorded pass: the rules' ops make the gradients' graph
        ready = [root] if root not in consumers else []
        while ready:
            t = ready.pop()
            gt = store.sums.pop(t)
            if t in stop:
                found[id(t)] = gt
            elif t.grad_fn is not None:
                node_backward(t.grad_fn, t, gt, mode, store, consumers, ready)
    return tuple(found.get(id(x)) if need else None for x, need in zip(inputs, needs))


def _aliased_writes(nodes: list[Node], region: list[Var]) -> str:
    """A description of a region tensor the function writes into that shares memory with
    another region tensor ('' when none): the replay's copies could not keep them aliased."""
    for n in nodes:
        if not n.writes:
            continue
        for v in region:
            if v is not n.out and isinstance(v.value, np.ndarray) and \
                    np.may_share_memory(v.value, n.out.value):
                shape = np.shape(n.out.value)
                return f"a tensor of shape {shape}" + (f" ({n.out.name!r})" if n.out.name else "")
    return ""


def _check_unchanged(node: Any, inputs: list) -> None:
    """The replay reads the inputs as they are now: they must be as the compiled call saw them."""
    for i, t in enumerate(inputs):
        v = t._versions if isinstance(t, Tensor) else None
        if v is not None and v.changed_at > node.recorded_at:
            label = f" {t.name!r}" if t.name else ""
            raise RuntimeError(
                f"compiled: its operand {i}{label} (shape {t.shape}, dtype {t.dtype}) was "
                f"modified in place (now at version {v.version}) after the compiled call, so "
                "its higher derivatives (create_graph=True) cannot be computed from it. Make "
                "the change out of place, or only after the backward.")


def _run_node(node: Node, env: dict, clones: dict) -> Any:
    """One traced op, eagerly: its Function applied (operands that got no gradient when it
    was traced passed as arrays, as constants), or its function outside the graph."""
    if node.cls is not None:
        needs = node.needs or (False,) * len(node.operands)
        args = [_value(o, env, keep) for o, keep in zip(node.operands, needs)]
        return node.cls.apply(*args, **_arrays(node.kwargs, env))
    args = [_value(o, env, False) for o in node.operands]
    if node.opaque:  # a random draw: from a copy of the generator's state before the call
        args = [_generator_for(a, clones) for a in args]
    result = node.fn(*args, **_arrays(node.kwargs, env))
    return Tensor._from_op(np.asarray(result), None)


def _value(o: Any, env: dict, keep_tensor: bool) -> Any:
    if not isinstance(o, Var):
        return o
    x = env[id(o)]
    return x if keep_tensor or not isinstance(x, Tensor) else x._data


def _arrays(x: Any, env: dict) -> Any:
    """Keyword parameters with traced values as arrays (as the generated code passes them)."""
    if isinstance(x, Var):
        return _value(x, env, False)
    if isinstance(x, dict):
        return {k: _arrays(v, env) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_arrays(e, env) for e in x)
    return x


def _cone(nodes: list[Node], out: Var) -> list[Node]:
    """The nodes ``out`` depends on (through operands and keyword parameters), in order."""
    wanted = {id(out)}
    keep = []
    for node in reversed(nodes):
        if node.opaque or (id(node.out) in wanted and not node.writes):  # every random draw,
            # in order: a later one in the cone draws after the earlier ones
            keep.append(node)
            wanted.update(id(o) for o in [*node.operands, *vars_in(node.kwargs)]
                          if isinstance(o, Var))
    return keep[::-1]


def _generator_copies(random: list) -> dict[int, np.random.Generator]:
    """id(bit generator) -> a Generator on a copy of its state before the compiled call."""
    clones = {}
    for bg, state in random:
        copy = type(bg)()
        copy.state = state
        clones[id(bg)] = np.random.Generator(copy)
    return clones


def _generator_for(rng: Any, clones: dict) -> Any:
    """The copy standing for ``rng`` (None: numpy's global generator); an int seed as it is."""
    if rng is None:
        bg = np.random.get_bit_generator()  # type: ignore[attr-defined]
    elif isinstance(rng, np.random.Generator):
        bg = rng.bit_generator
    else:
        return rng
    return clones.get(id(bg), rng)
