"""The steady-state call of a compiled training step as one generated function.

`StepPlan.run` is general: it runs each recorded effect, hands each gradient to the engine's
store and checks every emitted update's hyperparameters by rebuilding dicts. For a step traced
with tensors only as arguments, `build_driver` writes that same sequence out as straight-line
Python for the trace's steady state: the checks that the call matches the trace (argument
shapes, dtypes, ``requires_grad``, distinct arguments, no hooks on the tensors that get a
gradient, the effects
before the backward, the generated forward and backward, the delivery to ``.grad`` (as
`passes.GradientStore.deliver` does it), the updates with their version bumps and the effects
after (each emitted update checks, as straight-line code, that its hyperparameters, parameters
and state are as generated, and calls ``opt.step()`` otherwise). A failed check of the call
returns `MISS` before anything changed, and the general path runs.
With the rewrites of rewrite.py it took the compiled W1 step from 1.80x to 0.77x of
hand-written numpy (one benchmark run each; the glue it replaces was ~15 us of 44). Its checks
written cheaply (each array read once, dtypes by identity first, distinctness only where the
signatures leave it open, groups and state read once, tensors made inline) took W1's step
from 214k to 203k instructions and W2s's from 555k to 541k (callgrind, with the rewrites of
2026-12-02; instruction counts, since timings on the shared machine move by +-15%).
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

import numpy as np

from .. import passes
from ..mode import LOCAL
from ..tensor import Tensor
from ..versions import MUTATIONS
from .literals import Constants, literal
from .trace import Retrace

MISS = object()  # the driver does not apply to this call: take the general path


def _slow_deliver(t: Tensor, g: np.ndarray, delivered: tuple) -> None:
    """The engine's delivery where the driver's shortcut does not apply (an existing .grad)."""
    store = passes.GradientStore((), ())
    store.handed_out.update(map(id, delivered))
    store.deliver(t, g)


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.guards: list[str] = []
        self.checked: set[int] = set()  # optimizers whose parameters the call checks first
        self.consts = Constants()

    def add(self, line: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + line)

    def value(self, x: Any, hint: str) -> str:
        text = literal(x)
        return text if text is not None else self.consts.ref(x, hint)

    def miss_if(self, cond: str) -> None:
        self.add(f"if {cond}:")
        self.add("return MISS", 2)


def build_driver(plan: Any, program: Any, entry_inputs: list, captured: list,
                 args: tuple) -> tuple[Any, str] | None:
    """The driver of a traced step (``fn(args) -> loss Tensor or MISS``) and its source, or
    None when the trace's call is not one it covers (a non-tensor or repeated argument)."""
    if not args or any(type(a) is not Tensor for a in args) or len({*map(id, args)}) != len(args):
        return None
    src = _Source()
    names = [f"a{i}" for i in range(len(args))]
    arg_of = {id(a): n for a, n in zip(args, names)}
    src.add("def step(args):", 0)
    src.miss_if(f"len(args) != {len(args)}")
    src.add(f"{', '.join(names)}, = args")
    src.add("st = _LOCAL.mode")
    src.miss_if(f"st.tracer is not None or st.anomaly or st.grad_enabled is not "
                f"{LOCAL.mode.grad_enabled}")
    src.miss_if(" or ".join(f"type({n}) is not Tensor" for n in names))
    region_names = [arg_of[id(v.tensor)] for v in entry_inputs]
    region_names += [src.consts.ref(v.tensor, "_cap") for v in captured]
    checked = [*args, *[v.tensor for v in captured]]
    datas = _signature_checks(src, checked, names + region_names[len(entry_inputs):])
    _distinct_check(src, args, names)
    receivers = [n for n, h in zip(region_names, program.has_grad) if h]
    if receivers:
        src.miss_if(" or ".join(f"{n}._hooks" for n in receivers))
    at = len(src.lines)
    for obj, method, a, kw in plan.first:
        _effect(src, obj, method, a, kw, arg_of)
    bp = _buffer_lines(src, program.buffers)
    # a guard that fails raises Retrace: the caller does not repeat the effects above
    data_of = dict(zip(names + region_names[len(entry_inputs):], datas))
    src.add(f"out, saved = _forward({', '.join([data_of[n] for n in region_names] + bp)})")
    _bump_written(src, program, region_names)
    for obj, method, a, kw in plan.middle:  # zero_grad() between ops: once the guards passed
        _effect(src, obj, method, a, kw, arg_of)
    src.lines[at:at] = src.guards  # the checks inlined effects need, before any effect
    src.add(f"grads = _backward(*saved{''.join(', ' + b for b in bp)})")
    _delivery(src, program, region_names)
    for obj, method, a, kw in plan.after:
        if any(obj is u for u in plan.updates):
            obj.driver_lines(src)
        else:
            _effect(src, obj, method, a, kw, arg_of)
    new_tensor_lines(src, "t", "out", 1)
    src.add("return t")
    if program.buffers or any(u.buffers for u in plan.updates):  # one call at a time
        src.lines[:1] = ["def _step(args):"]
        src.lines += ["def step(args):", "    if not _LOCK.acquire(False):", "        return MISS",
                      "    try:", "        return _step(args)", "    finally:",
                      "        _LOCK.release()"]
    source = "\n".join(src.lines) + "\n"
    ns = {**src.consts.namespace, "MISS": MISS, "Tensor": Tensor, "_LOCAL": LOCAL,
          "_forward": program.forward, "_backward": program.backward, "Retrace": Retrace,
          "_from_op": Tensor._from_op, "_slow_deliver": _slow_deliver,
          "_CLOCK": MUTATIONS, "_LOCK": threading.Lock(), "_rc": sys.getrefcount,
          "_wrc": weakref.getweakrefcount, "_empty": np.empty,
          "_new": object.__new__, "_NOSTATE": {}}
    exec(compile(source, "<compiled step driver>", "exec"), ns)  # noqa: S102
    return ns["step"], source


def _signature_checks(src: _Source, tensors: list, names: list) -> list[str]:
    """The checks that each tensor has the traced shape, dtype and ``requires_grad``; the
    names of the locals holding their arrays. A dtype is compared by identity first (numpy's
    builtin dtypes are singletons), then by ``!=``: 0.1 us a tensor on W1."""
    datas = []
    for i, (t, n) in enumerate(zip(tensors, names)):
        d, dn = t._data, f"d{i}"
        dt = src.consts.ref(d.dtype, "_dt")
        src.add(f"{dn} = {n}._data")
        src.miss_if(f"{dn}.shape != {d.shape!r} or ({dn}.dtype is not {dt} and {dn}.dtype != "
                    f"{dt}) or {n}._requires_grad is not {t._requires_grad}")
        datas.append(dn)
    return datas


def _distinct_check(src: _Source, args: tuple, names: list) -> None:
    """The check that the arguments are distinct tensors, where the signature checks do not
    already imply it: two arguments traced with different shapes, dtypes or ``requires_grad``
    cannot be one tensor (on W1 no pair is left: 0.5 us)."""
    groups: dict = {}
    for a, n in zip(args, names):
        groups.setdefault((a._data.shape, a._data.dtype, a._requires_grad), []).append(n)
    for same in groups.values():
        if len(same) > 1:
            src.miss_if(f"len({{{', '.join(f'id({n})' for n in same)}}}) != {len(same)}")


def new_tensor_lines(src: Any, var: str, data: str, depth: int) -> None:
    """``var = Tensor._from_op(data, None)`` written out (the same three stores; a call less:
    0.15 us a tensor, four a W1 step). tests/test_compile_fast.py checks it against
    ``_from_op``."""
    src.add(f"{var} = _new(Tensor)", depth)
    src.add(f"{var}._data = {data}", depth)
    src.add(f"{var}._requires_grad = False", depth)
    src.add(f"{var}.grad_fn = None", depth)


def _bump_written(src: _Source, program: Any, region_names: list) -> None:
    """The version bumps of the tensors the forward changed in place (inplace.py)."""
    for i in program.written:
        bump_lines(src, region_names[i], 1)


def _effect(src: _Source, obj: Any, method: Any, args: tuple, kwargs: dict,
            arg_of: dict) -> None:
    """A recorded effect (``opt.zero_grad()``, ``t.grad = None``) called as it was traced, on
    the argument it was called on when that was an argument of the step. ``t.grad = None``
    and an optimizer's ``zero_grad()`` are written out: 0.6 us of W2s's 44 us."""
    from ..optim import Optimizer
    from .runtime import clear_grad

    target = arg_of.get(id(obj)) or src.consts.ref(obj, "_obj")
    if method is clear_grad:
        src.add(f"{target}._grad = None")
        return
    if method is Optimizer.zero_grad and not args and kwargs in ({}, {"set_to_none": True}):
        members = members_check(src, obj)
        src.checked.add(id(obj))  # its updates need not check the parameters again
        src.guards += ["    if not (" + "\n            and ".join(members) + "):",
                       "        return MISS"]
        for p in (p for g in obj.param_groups for p in g["params"]):
            src.add(f"{src.consts.ref(p, '_p')}._grad = None")
        return
    call = [target, *[src.value(a, "_arg") for a in args],
            *[f"{k}={src.value(v, '_arg')}" for k, v in kwargs.items()]]
    src.add(f"{src.consts.ref(method, '_effect')}({', '.join(call)})")


def _buffer_lines(src: _Source, slots: list) -> list[str]:
    """The step's buffers (`buffers.py`): its own are made once; a gradient's is the array
    delivered as that gradient by the previous call when nothing holds it any more (its only
    references are the list and this check's two: no tensor, view or weak reference)."""
    if not slots:
        return []
    bp = src.consts.ref([np.empty(shape, dtype) if kind == "own" else None
                         for shape, dtype, kind in slots], "_BP")
    free = _FREE_COUNT
    for j, (shape, dtype, kind) in enumerate(slots):
        if kind != "own":
            src.add(f"b = {bp}[{j}]")
            src.add(f"if b is None or _rc(b) != {free} or _wrc(b):")
            src.add(f"{bp}[{j}] = _empty({shape!r}, {src.consts.ref(dtype, '_dt')})", 2)
    return [bp]


def _free_count() -> int:
    """What ``sys.getrefcount`` shows, in the driver's own code pattern, for an array that only
    the buffer list holds; 0 (never recycle) where a held array would not show more (an
    interpreter that borrows references)."""
    ns = {"_rc": sys.getrefcount}
    exec("def probe(L):\n    b = L[0]\n    return _rc(b)\n", ns)  # noqa: S102
    free = ns["probe"]([np.empty(1)])
    kept = np.empty(1)
    return free if ns["probe"]([kept]) > free else 0


_FREE_COUNT = _free_count()


def members_check(src: Any, opt: Any) -> list[str]:
    """Conditions: ``opt``'s groups hold the parameters they held when the step was traced
    (each list read once, into a local: 0.3 us on W2s)."""
    o = src.consts.ref(opt, "_opt")
    conds = [f"len({o}_pg := {o}.param_groups) == {len(opt.param_groups)}"]
    for gi, group in enumerate(opt.param_groups):
        g = f"{o}_ps{gi}"
        conds.append(f"len({g} := {o}_pg[{gi}]['params']) == {len(group['params'])}")
        conds += [f"{g}[{j}] is {src.consts.ref(p, '_p')}" for j, p in enumerate(group["params"])]
    return conds


def bump_lines(src: Any, p: str, depth: int) -> None:
    """``p._bump_version()`` written out (0.3 us a parameter on W2s)."""
    src.add(f"v = {p}._versions", depth)
    src.add("if v is None:", depth)
    src.add(f"{p}._bump_version()", depth + 1)
    src.add("else:", depth)
    src.add("v.version += 1", depth + 1)
    src.add("_CLOCK.now += 1", depth + 1)
    src.add("v.changed_at = _CLOCK.now", depth + 1)


def _delivery(src: _Source, program: Any, region_names: list) -> None:
    """Each gradient into ``.grad``: a fresh array becomes the new ``.grad`` (the engine's
    copy-on-write rule: a view, or an array already handed to another tensor, is copied)."""
    given: list[str] = []
    src.add(f"{', '.join(f'g{i}' if h else '_' for i, h in enumerate(program.has_grad))}, = grads")
    for i, (n, has) in enumerate(zip(region_names, program.has_grad)):
        if not has:
            continue
        g = f"g{i}"
        fresh = f"{g}.base is None" + "".join(f" and {g} is not {p}" for p in given)
        src.add(f"if {n}._grad is None and {fresh}:")
        new_tensor_lines(src, "t", g, 2)
        src.add(f"{n}._grad = t", 2)
        src.add("else:")
        src.add(f"_slow_deliver({n}, {g}, ({''.join(p + ', ' for p in given)}))", 2)
        given.append(g)
