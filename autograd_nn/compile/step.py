"""Whole training steps: ``loss.backward()``, ``opt.step()`` and ``zero_grad()`` inside the
compiled function.

While tracing, these calls run as usual and are recorded as *effects* in order. The compiled
step then runs: the effects recorded before the backward (a ``zero_grad``), the generated
forward and backward of the loss, the delivery of each parameter's gradient to ``.grad`` (as the
engine delivers it: hooks, then accumulation), and the effects after it (``opt.step()``, which
updates in place and bumps version counters exactly as in eager mode, and ``zero_grad``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd as autograd_module
from .. import engine, passes
from ..mode import LOCAL
from ..tensor import Tensor
from .retrace import replaying, same_effects
from .runtime import clear_grad as _clear_grad
from .trace import CompileError, Retrace, active, user_site


def _suspended(call: Any) -> Any:
    st = LOCAL.mode
    tr, st.tracer = st.tracer, None
    try:
        return call()
    finally:
        st.tracer = tr


def _run_backward(original: Any) -> Any:
    def run_backward(roots: Any, seeds: Any, retain_graph: bool = False,
                     create_graph: bool = False, inputs: Any = None, tracer: Any = None) -> Any:
        tr = active()
        if tr is None:
            return original(roots, seeds, retain_graph, create_graph, inputs, tracer)
        known = [tr.var_of(r) for r in roots]
        ones = all(isinstance(s, np.ndarray) and s.size == 1 and s.item() == 1 for s in seeds)
        if len(roots) != 1 or known[0] is None or inputs is not None or create_graph \
                or tracer is not None or not ones:
            raise CompileError(f"{user_site()}inside a compiled function only loss.backward() "
                               "of a one-element loss is supported (not autograd.grad, "
                               "create_graph or a gradient argument)")
        tr.effects.append(("backward", len(tr.nodes), known[0]))
        return _suspended(lambda: original(roots, seeds, retain_graph, create_graph, inputs,
                                           tracer))

    return run_backward


def _effect(kind: str, original: Any) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        tr = active()
        if tr is None:
            return original(self, *args, **kwargs)
        if args or kwargs.get("closure") is not None:
            if kind == "step":
                raise CompileError(f"{user_site()}opt.step(closure) inside a compiled function")
        tr.effects.append((kind, len(tr.nodes), (self, original, args, kwargs)))
        if replaying(tr, self, original):  # already done by the call whose guard failed
            return None
        return _suspended(lambda: original(self, *args, **kwargs))

    return method


def _grad_property(original: property) -> property:
    def set_grad(self: Tensor, value: Any) -> None:
        tr = active()
        if tr is not None and tr.var_of(self) is not None:
            if value is not None:
                raise CompileError(f"{user_site()}assigning a gradient inside a compiled "
                                   "function (only t.grad = None is followed)")
            tr.effects.append(("grad_none", len(tr.nodes), (self, _clear_grad, (), {})))
            replaying(tr, self, _clear_grad)  # clearing it again changes nothing
        original.fset(self, value)  # type: ignore[misc]

    return property(original.fget, set_grad, None, original.__doc__)


def patches() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, replacement) for every call a training step may make."""
    from ..nn.module import Module
    from ..optim import Optimizer

    out: list = [(engine, "run_backward", _run_backward(engine.run_backward)),
                 (autograd_module, "run_backward", _run_backward(autograd_module.run_backward))]
    for cls in [Optimizer, *_subclasses(Optimizer), Module]:
        for kind in ("step", "zero_grad"):
            if kind in vars(cls):
                out.append((cls, kind, _effect(kind, vars(cls)[kind])))
    out.append((Tensor, "grad", _grad_property(vars(Tensor)["grad"])))
    from .inplace import patches as inplace_patches

    return out + inplace_patches()


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    stack: list[type] = [cls]
    sub: type
    while stack:
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


class StepPlan:
    """How a traced training step runs: effects around the compiled forward and backward."""

    def __init__(self, tracer: Any, result: Any, region: list) -> None:
        backs = [e for e in tracer.effects if e[0] == "backward"]
        if len(backs) != 1:
            raise CompileError("compile: a training step must call backward() once "
                               f"(it called it {len(backs)} times)")
        _, at, root = backs[0]
        later = [n for n in tracer.nodes[at:] if not (n.label == "detach" and
                                                      n.operands[0] is root)]
        if later:
            raise CompileError(f"compile: the step computes {later[0].label} after backward(); "
                               "only opt.step() and zero_grad() may follow it")
        if result is not root.tensor and tracer.var_of(result) not in [n.out for n in
                                                                        tracer.nodes[at:]]:
            raise CompileError("compile: a training step must return its loss")
        for v in region:
            if v.requires_grad and v.tensor is not None and v.tensor.grad_fn is not None:
                raise CompileError("compile: a training step's tensors that require grad must "
                                   "be leaves (parameters or inputs)")
        self.root = root
        k = tracer.effects.index(backs[0])
        early = [e for e in tracer.effects[:k] if e[0] == "step" and e[1] > 0]
        if early:
            raise CompileError("compile: opt.step() between the ops of the forward pass")
        # before any op (unconditional: run first); between ops (zero_grad, t.grad = None,
        # maybe behind a guard: run once the forward's guards have passed)
        self.first = [e[2] for e in tracer.effects[:k] if e[1] == 0]
        self.middle = [e[2] for e in tracer.effects[:k] if e[1] > 0]
        self.after = [e[2] for e in tracer.effects[k + 1:]]
        self.updates: list = []

    def emit_updates(self, program: Any) -> None:
        """Replace each ``opt.step()`` after the backward by its generated code where it can
        stand in for the call (`update.py`)."""
        from .update import EmittedUpdate

        with_grad = {id(v.tensor) for v, h in zip(program.region, program.has_grad)
                     if h and v.tensor is not None}
        after = []
        for effect in self.after:
            obj, method, args, kwargs = effect
            up = None
            if getattr(method, "__name__", "") == "step" and not args and not kwargs:
                up = EmittedUpdate.build(obj, with_grad)
            if up is not None:
                self.updates.append(up)
                effect = (up, EmittedUpdate.run, (), {})
            after.append(effect)
        self.after = after

    def run(self, program: Any, region: list, done: list | None = None) -> Tensor:
        """One compiled step. ``done``: the first effects, already performed by a call whose
        guard failed (not run again). A failing guard raises `Retrace` with ``.done`` set."""
        if not done:
            for obj, method, args, kwargs in self.first:
                method(obj, *args, **kwargs)
        elif not same_effects(done, self.first):
            raise Retrace("effects")
        arrays = [t._data if isinstance(t, Tensor) else t for t in region]
        try:
            out, saved = program.forward(*arrays)
        except Retrace as e:
            e.done = self.first  # type: ignore[attr-defined]
            raise
        for i in program.written:  # changed in place by the forward (inplace.py)
            region[i]._bump_version()
        for obj, method, args, kwargs in self.middle:
            method(obj, *args, **kwargs)
        grads = program.backward(*saved)  # its seed, ones, is folded into the code
        store = passes.GradientStore((), ())  # the engine's copy-on-write rule for .grad
        for t, g in zip(region, grads):
            if g is not None:
                deliver(t, g, store)
        for obj, method, args, kwargs in self.after:
            method(obj, *args, **kwargs)
        return Tensor._from_op(out, None)


def deliver(t: Tensor, g: np.ndarray, store: passes.GradientStore) -> None:
    """What the engine does with a leaf's gradient: its hooks, then ``.grad`` accumulation."""
    if t._hooks:
        hooked = engine.run_hooks(t, g, passes.PlainPass(anomaly=False))
        assert isinstance(hooked, np.ndarray)  # a plain pass's hooks give back arrays
        g = hooked
    store.deliver(t, g)
