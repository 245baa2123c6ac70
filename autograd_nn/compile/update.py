"""``opt.step()`` of a compiled training step as generated code.

The optimizer's own per-parameter rule (``_update(p, g, group, state)``) is run once more on
symbols, after the traced step, when its state is in the steady form every later step sees; the
numpy it does becomes one function over the parameters, their gradients and state arrays. A
count in the state (Adam's and RMSprop's ``step``, a Python int) is a Python number of the
update (`pynum.py`): its arithmetic (``t + 1``, ``beta2 ** t``, ``math.sqrt``) becomes Python
lines, the update returns the new counts and the caller stores them in ``opt.state``; such an
optimizer's learning rate is read from its group each call (checked to be a valid number of the
traced type) rather than taken as fixed. On W2s trained with Adam this took the compiled step
from 1.10-1.13M to 0.91-0.95M instructions (callgrind, four runs side by side with main,
2026-12-02; RMSprop 0.92-0.97M to 0.79-0.81M).

It is used only while nothing it took as fixed has changed: the other hyperparameters of every
group, the parameters in each group (by identity: a ``params`` list edited in place is seen),
which parameters have a gradient, the state's entries, shapes and count types, writable
parameters. Otherwise, and for a step of its own (``step`` overridden) or a rule that reads a
value (a branch on its step count), the compiled step calls ``opt.step()``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .buffers import Buffers, plan, with_dels
from .literals import Constants
from .naming import _name_all, _syms_in
from .pynum import PyNum, number
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
        self.layout = layout  # per parameter: (state keys, their shapes or `int` for a count)
        self.rates: dict[int, type] = {}  # groups whose lr is read each call: its type
        self.counts: list = []  # (parameter, key) of each count the update returns
        self.groups: list = []
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
        args += [opt.param_groups[gi]["lr"] for gi in self.rates]
        new = self.fn(*args)
        for (p, key), v in zip(self.counts, new or ()):
            opt.state[p][key] = v
        for p in self.params:
            p._bump_version()

    def _unchanged(self) -> bool:
        opt = self.opt
        if [_hyper(g, gi in self.rates) for gi, g in enumerate(opt.param_groups)] \
                != self.groups or _members(opt) != self.members:
            return False
        if not all(_rate_ok(opt.param_groups[gi]["lr"], kind) for gi, kind in self.rates.items()):
            return False
        for p, (keys, specs) in zip(self.params, self.layout):
            state = opt.state.get(p)
            if p.grad is None or not p._data.flags.writeable or state is None \
                    or tuple(state) != keys:
                return False
            for k, spec in zip(keys, specs):
                if not (_count_ok(state[k]) if spec is int else np.shape(state[k]) == spec):
                    return False
        return True

    def driver_lines(self, src: Any) -> None:
        """This update as lines of the step driver (`driver.py`): the checks of `_unchanged`
        written out (no dicts rebuilt), then the generated update, its counts stored and the
        version bumps, or ``opt.step()`` when a check fails."""
        from .driver import bump_lines, members_check

        o = src.consts.ref(self.opt, "_opt")
        ps = [src.consts.ref(p, "_p") for p in self.params]
        conds = [] if id(self.opt) in src.checked else members_check(src, self.opt)
        rates = self._group_checks(src, o, conds)
        args, counts = [], []
        for k, (p, (keys, specs)) in enumerate(zip(ps, self.layout)):
            st = f"{o}_s{k}"
            conds += [f"{p}._grad is not None", f"{p}._data.flags.writeable",
                      f"len({st} := {o}.state.get({p}) or ()) == {len(keys)}" if keys
                      else f"{o}.state.get({p}) == _NOSTATE"]
            conds += [_state_check(st, key, spec) for key, spec in zip(keys, specs)]
            args += [f"{p}._data", f"{p}._grad._data", *[f"{st}[{key!r}]" for key in keys]]
            counts += [f"{st}[{key!r}]" for key, spec in zip(keys, specs) if spec is int]
        src.add("if (" + "\n            and ".join(conds or ["True"]) + "):")
        if self.buffers:
            rates.append(src.consts.ref([np.empty(shape, dtype) for shape, dtype, _ in
                                         self.buffers], "_UB"))
        call = f"{src.consts.ref(self.fn, '_update')}({', '.join(args + rates)})"
        src.add(f"{', '.join(counts)}, = {call}" if counts else call, 2)
        for p in ps:
            bump_lines(src, p, 2)
        src.add("else:")
        src.add(f"{o}.step()", 2)

    def _group_checks(self, src: Any, o: str, conds: list) -> list[str]:
        """Conditions on each group's hyperparameters (each group read once, by a walrus):
        equal to the generated code's, or, for a learning rate read each call, of its type
        and valid; the names of those learning rates."""
        rates = []
        for gi, hyper in enumerate(self.groups):
            g = f"{o}_g{gi}"
            conds.append(f"len({g} := {o}.param_groups[{gi}]) == "
                         f"{len(hyper) + 1 + (gi in self.rates)}")
            conds += [f"{g}[{key!r}] == {src.value(v, '_h')}" for key, v in hyper.items()]
            if gi in self.rates:
                lr = f"{o}_lr{gi}"
                low = "0.0 < " if self.rates[gi] is float else "0 < "
                high = " <= 1.7976931348623157e308" if self.rates[gi] is float else ""
                conds.append(f"type({lr} := {g}['lr']) is {self.rates[gi].__name__} "
                             f"and {low}{lr}{high}")
                rates.append(lr)
        return rates


def _state_check(st: str, key: str, spec: Any) -> str:
    """The driver's condition on one state entry: a count a non-negative int (as
    `optim_checks.checked_state` requires), an array of the generated shape."""
    if spec is int:
        return f"type({st}.get({key!r})) is int and {st}[{key!r}] >= 0"
    return f"getattr({st}.get({key!r}), 'shape', None) == {spec!r}"


def _count_ok(v: Any) -> bool:
    return type(v) is int and v >= 0


def _rate_ok(lr: Any, kind: type) -> bool:
    """Is ``lr`` of the generated code's type and a valid learning rate (finite, > 0)?"""
    same_type = type(lr) is kind
    return same_type and 0 < lr < math.inf


def _members(opt: Any) -> list:
    """The identities of each group's parameters (a list edited in place changes them)."""
    return [tuple(map(id, g["params"])) for g in opt.param_groups]


def _hyper(group: dict, rate_read: bool = False) -> dict:
    skip = ("params", "lr") if rate_read else ("params",)
    return {k: v for k, v in group.items() if k not in skip}


def _inputs_of(rec: Recorder, state: dict, gi: int) -> dict | None:
    """A parameter's state entries as symbols: arrays, and counts (Python ints) as numbers of
    the update (`pynum.py`); None for anything else."""
    syms: dict = {}
    for k, v in state.items():
        if isinstance(v, np.ndarray):
            syms[k] = Sym(rec, v.copy(), hint=f"{k}{gi}")
        elif type(v) is int:
            syms[k] = number(rec, v, f"{k}{gi}")
        else:
            return None
    return syms


def _run_rule(opt: Any, rec: Recorder, p: Any, group: dict, syms: dict) -> tuple | None:
    """The rule on symbols: the inputs (parameter, gradient, state) and the counts it
    returns, or None when it rebound an array or made a count of something else."""
    data = Sym(rec, p._data.copy(), hint=p.name or "p")
    grad = Sym(rec, np.zeros_like(p._data), hint="g_" + (p.name or "p"))
    sym_state = dict(syms)
    holder = _Param(data)
    opt._update(holder, grad, group, sym_state)
    if holder._data is not data or set(sym_state) != set(syms):
        return None
    outs = []
    for k, s in syms.items():
        new = sym_state[k]
        if type(s) is PyNum and type(new) is PyNum and new.rec is rec:
            outs.append((k, new))
        elif new is not s:
            return None  # the rule rebound an array instead of updating it in place
    return [data, grad, *syms.values()], outs


def _without_unread_zeros(lines: list) -> list:
    """The lines without ``t = np.zeros_like(p)`` whose ``t`` nothing reads (the default of a
    ``state.setdefault`` whose entry exists: it has no effect)."""
    def assigns(line: tuple) -> bool:
        return len(line) > 2 and isinstance(line[0], Sym) and type(line[1]) is str \
            and line[1] == " = "

    read = {id(s) for line in lines for s in _syms_in(line[2:] if assigns(line) else line)}
    return [line for line in lines if not (
        assigns(line) and id(line[0]) not in read and type(line[2]) is str
        and line[2] == "np.zeros_like(")]


def _emit(cls: Any, opt: Any, params: list) -> EmittedUpdate | None:
    consts = Constants()
    rec = Recorder(consts)
    states = [opt.state.get(p) for p in params]
    if any(s is None for s in states):
        return None  # no steady state yet (a stateless rule, plain SGD, keeps {})
    # an optimizer with a count in its state computes Python numbers each call anyway: its
    # learning rate is read each call too (a schedule keeps the generated update)
    counted = any(type(v) is int for s in states for v in s.values())
    inputs, layout, counts, rates, rate_syms = [], [], [], {}, []
    for gi, group in enumerate(opt.param_groups):
        group = dict(group)
        if counted and type(group["lr"]) in (int, float):
            rates[gi] = type(group["lr"])
            group["lr"] = number(rec, group["lr"], f"lr{gi}")
            rate_syms.append(group["lr"])
        for p in group["params"]:
            state = opt.state[p]
            syms = _inputs_of(rec, state, gi)
            ran = None if syms is None else _run_rule(opt, rec, p, group, syms)
            if ran is None:
                return None
            inputs += ran[0]
            counts += [(p, k, s) for k, s in ran[1]]
            layout.append((tuple(state), tuple(int if type(state[k]) is int else state[k].shape
                                               for k in state)))
    _name_all(inputs + rate_syms, rec.lines)
    bufs = Buffers()  # the step's own buffers for large temporaries (buffers.py)
    lines = plan(_without_unread_zeros(rec.lines), [], bufs, {})
    # each temporary array dropped after its last use, as eager mode's expressions drop them:
    # its memory is reused by the next one instead of fresh pages (W2s's 784x16 Adam update
    # took 440 us a call with every temporary alive to the end, against 98 us for opt.step())
    numbers = [s for line in rec.lines for s in line if type(s) is PyNum]
    lines = with_dels(lines, [*inputs, *rate_syms, *numbers], min_lines=0)
    body = ["    " + "".join(render_part(x, consts) for x in line) for line in lines]
    if counts:
        body.append("    return " + "".join(render_part(s, consts) + ", " for *_, s in counts)
                    .rstrip())
    names = [s.name for s in inputs + rate_syms] + ["_B=_NOBUF"] * bool(bufs.slots)
    source = (f"# {type(opt).__name__}.step()\ndef update({', '.join(names)}):\n"
              + "\n".join(body or ["    pass"]) + "\n")
    ns = {**consts.namespace, "_NOBUF": [None] * len(bufs.slots)}
    exec(compile(source, f"<compiled {type(opt).__name__}.step>", "exec"), ns)  # noqa: S102
    up = cls(opt, params, ns["update"], source, layout)
    up.buffers, up.rates, up.counts = bufs.slots, rates, [(p, k) for p, k, _ in counts]
    up.groups = [_hyper(g, gi in rates) for gi, g in enumerate(opt.param_groups)]
    return up
