"""``opt.step()`` of a compiled training step as generated code.

The optimizer's own per-parameter rule (``_update(p, g, group, state)``) is run once more on
symbols, after the traced step, when its state is in the steady form every later step sees; the
numpy it does becomes one function over the parameters, their gradients and state arrays. It is
used only while nothing it took as fixed has changed: the hyperparameters of every group, the
parameters in each group (by identity: a ``params`` list edited in place is seen), which
parameters have a gradient, the state's entries and shapes, writable parameters. Otherwise, and
for an update that changes a Python number in its state (Adam's step count), a step of its own
(``step`` overridden) or a rule that reads a value, the compiled step calls ``opt.step()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .buffers import Buffers, plan
from .literals import Constants
from .naming import _name_all
from .symbolic import Recorder, Sym, render_part


class _Param:
    """What `_update` sees of a parameter: its array."""

    __slots__ = ("_data",)

    def __init__(self, data: Any) -> None:
        self._data = data


class EmittedUpdate:
    """``opt.step()`` as straight-line code, with the checks that keep it equal to the call."""

    def __init__(self, opt: Any, params: list, fn: Any, source: str, layout: list) -> None:
        self.opt, self.params, self.fn, self.source = opt, params, fn, source
        self.layout = layout  # per parameter: (state keys, their shapes)
        self.groups = [_hyper(g) for g in opt.param_groups]
        self.buffers: list = []  # the ``_B`` slots of its large temporaries (buffers.py)
        self.members = _members(opt)  # each group's parameters, by identity

    @classmethod
    def build(cls, opt: Any, with_grad: set) -> EmittedUpdate | None:
        """The emitted update of ``opt``, or None when it cannot stand in for ``opt.step()``."""
        from ..optim import Optimizer

        if type(opt).step is not Optimizer.step:
            return None
        params = [p for g in opt.param_groups for p in g["params"]]
        if any(id(p) not in with_grad for p in params):
            return None
        try:
            return _emit(cls, opt, params)
        except Exception:  # noqa: BLE001 - the rule read a value or changed its counters
            return None

    def run(self) -> None:
        opt = self.opt
        if not self._unchanged():
            opt.step()
            return
        args: list = []
        for p, (keys, _) in zip(self.params, self.layout):
            state = opt.state[p]
            args += [p._data, p.grad._data, *[state[k] for k in keys]]
        self.fn(*args)
        for p in self.params:
            p._bump_version()

    def _unchanged(self) -> bool:
        opt = self.opt
        if [_hyper(g) for g in opt.param_groups] != self.groups or _members(opt) != self.members:
            return False
        for p, (keys, shapes) in zip(self.params, self.layout):
            state = opt.state.get(p)
            if p.grad is None or not p._data.flags.writeable or state is None \
                    or tuple(state) != keys:
                return False
            for k, shape in zip(keys, shapes):
                if np.shape(state[k]) != shape:
                    return False
        return True

    def driver_lines(self, src: Any) -> None:
        """This update as lines of the step driver (`driver.py`): the checks of `_unchanged`
        written out (no dicts rebuilt), then the generated update and the version bumps, or
        ``opt.step()`` when a check fails."""
        from .driver import bump_lines, members_check

        o = src.consts.ref(self.opt, "_opt")
        ps = [src.consts.ref(p, "_p") for p in self.params]
        conds = [] if id(self.opt) in src.checked else members_check(src, self.opt)
        for gi, hyper in enumerate(self.groups):  # each group and state read once (walrus)
            g = f"{o}_g{gi}"
            conds.append(f"len({g} := {o}.param_groups[{gi}]) == {len(hyper) + 1}")
            conds += [f"{g}[{key!r}] == {src.value(v, '_h')}" for key, v in hyper.items()]
        args = []
        for k, (p, (keys, shapes)) in enumerate(zip(ps, self.layout)):
            st = f"{o}_s{k}"
            conds += [f"{p}._grad is not None", f"{p}._data.flags.writeable",
                      f"len({st} := {o}.state.get({p}) or ()) == {len(keys)}" if keys
                      else f"{o}.state.get({p}) == _NOSTATE"]
            conds += [f"getattr({st}.get({key!r}), 'shape', None) == {shape!r}"
                      for key, shape in zip(keys, shapes)]
            args += [f"{p}._data", f"{p}._grad._data", *[f"{st}[{key!r}]" for key in keys]]
        src.add("if (" + "\n            and ".join(conds or ["True"]) + "):")
        if self.buffers:
            args.append(src.consts.ref([np.empty(shape, dtype) for shape, dtype, _ in
                                        self.buffers], "_UB"))
        src.add(f"{src.consts.ref(self.fn, '_update')}({', '.join(args)})", 2)
        for p in ps:
            bump_lines(src, p, 2)
        src.add("else:")
        src.add(f"{o}.step()", 2)


def _members(opt: Any) -> list:
    """The identities of each group's parameters (a list edited in place changes them)."""
    return [tuple(map(id, g["params"])) for g in opt.param_groups]


def _hyper(group: dict) -> dict:
    return {k: v for k, v in group.items() if k != "params"}


def _emit(cls: Any, opt: Any, params: list) -> EmittedUpdate | None:
    consts = Constants()
    rec = Recorder(consts)
    inputs, layout = [], []
    for i, group in enumerate(opt.param_groups):
        for p in group["params"]:
            state = opt.state.get(p)
            if state is None or any(not isinstance(v, np.ndarray) for v in state.values()):
                return None  # no steady state yet, or Python numbers in it (step counts)
            keys = tuple(state)
            syms = {k: Sym(rec, state[k].copy(), hint=f"{k}{i}") for k in keys}
            data = Sym(rec, p._data.copy(), hint=p.name or "p")
            grad = Sym(rec, np.zeros_like(p._data), hint="g_" + (p.name or "p"))
            sym_state = dict(syms)
            holder = _Param(data)
            opt._update(holder, grad, dict(group), sym_state)
            if holder._data is not data or set(sym_state) != set(syms) \
                    or any(sym_state[k] is not syms[k] for k in syms):
                return None  # the rule rebound an array instead of updating it in place
            inputs += [data, grad, *syms.values()]
            layout.append((keys, tuple(state[k].shape for k in keys)))
    _name_all(inputs, rec.lines)
    bufs = Buffers()  # the step's own buffers for large temporaries (buffers.py)
    lines = plan(rec.lines, [], bufs, {})
    body = ["    " + "".join(render_part(x, consts) for x in line) for line in lines]
    names = [s.name for s in inputs] + ["_B=_NOBUF"] * bool(bufs.slots)
    source = (f"# {type(opt).__name__}.step()\ndef update({', '.join(names)}):\n"
              + "\n".join(body or ["    pass"]) + "\n")
    ns = {**consts.namespace, "_NOBUF": [None] * len(bufs.slots)}
    exec(compile(source, f"<compiled {type(opt).__name__}.step>", "exec"), ns)  # noqa: S102
    up = cls(opt, params, ns["update"], source, layout)
    up.buffers = bufs.slots
    return up
