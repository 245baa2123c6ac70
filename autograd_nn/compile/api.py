"""``ag.compile(fn)``: trace once per signature, then run straight-line numpy code.

The compiled region is one node of the eager graph (`CompiledOp`, a `Function`), so hooks on its
inputs, optimizers, ``gradcheck`` and ``draw_graph`` work around it as around any op.
"""

from __future__ import annotations

import functools
import inspect
from collections import OrderedDict
from typing import Any

import numpy as np

from ..function import Function
from ..mode import LOCAL
from ..registry import PLAIN
from ..tensor import Tensor
from .aliasing import share_versions, view_source
from .codegen import Program, generate
from .driver import MISS, build_driver
from .guards import watching
from .higher import Replay, recorded_backward
from .modules import ModuleAttributes, module_of
from .pinning import bindings, named_globals_and_cells, reached_otherwise, still_bound
from .retrace import check_replayed, random_sources, restore_random_state, save_random_state
from .step import StepPlan
from .trace import CompileError, Retrace, Tracer


class CompiledOp(Function):
    """The compiled region as one op: forward and backward are the generated functions. Under
    ``create_graph=True`` its backward replays the traced ops eagerly (higher.py)."""

    name = "compiled"

    @staticmethod
    def forward(ctx: Any, *arrays: Any, program: Program, replay: Replay,
                written: tuple = ()) -> Any:
        replay.before_forward(ctx, arrays)
        out, saved = program.forward(*arrays)
        for t in written:  # the forward changed them in place (inplace.py)
            t._bump_version()
        ctx.program = program
        ctx.n_saved = len(saved)  # then private copies of the plain arrays given (higher.py)
        ctx.save_for_backward(*saved, *[arrays[i] for i in replay.array_slots])
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        if ctx.xp is not PLAIN:
            return recorded_backward(ctx, g)
        return ctx.program.backward(*ctx.saved_tensors[:ctx.n_saved], g)


class _Entry:
    """One trace: its program, the inputs' positions and the captured tensors it checks."""

    def __init__(self, program: Program, tracer: Tracer, flat: list, graph: Tensor,
                 plan: StepPlan | None) -> None:
        self.program = program
        self.graph = graph
        self.plan = plan
        ids = [id(x) for x in flat]
        self.slots = [ids.index(id(v.tensor if v.tensor is not None else v.value))
                      for v in tracer.inputs]
        self.captured = [v.tensor for v in tracer.captured] + \
            [v.value for v in tracer.captured_arrays]  # plain arrays last (capture_arrays)
        self.n_tensors = len(tracer.captured)
        self.pinned: list[tuple[int, Any]] = []  # pinning.py (a Tensor or ndarray)
        self.bound: list[tuple[Any, str | None, Any]] = []  # pinning.bindings: names to check
        self.driver: Any = None  # the step's steady state as one function (driver.py)
        self.driver_source = ""
        self.expect = [(t._data.shape, t._data.dtype, t._requires_grad)
                       for t in self.captured[:self.n_tensors]]
        self.array_expect = [(a.shape, a.dtype) for a in self.captured[self.n_tensors:]]
        self.modules = ModuleAttributes(list(tracer.modules.values()))
        guarded = any(n.guards for n in tracer.nodes)
        self.rngs = random_sources(tracer.nodes) if guarded else []
        self.view_of = view_source(tracer.var_of(graph), tracer.inputs + tracer.captured) \
            if plan is None and isinstance(graph, Tensor) else None
        out = tracer.var_of(graph)
        self.replay = Replay(tracer.nodes, out, program.region) \
            if plan is None and out is not None else None

    def run_driver(self, args: tuple) -> tuple:
        """(the driver's loss or MISS, the effects it performed when a guard failed); MISS
        without running it when an attribute of a module the trace ran changed."""
        if self.modules.watched and not self.modules.unchanged():  # no call when none
            return MISS, None
        for i, t in self.pinned:  # a driver's arguments are its tensors, in order
            if i >= len(args) or args[i] is not t:
                return MISS, None
        # a global or closure name rebound (W1's step: one cell, about 0.1 us of its ~24 us)
        if self.bound and not still_bound(self.bound):
            return MISS, None
        saved = save_random_state(self.rngs) if self.rngs else []
        try:
            return self.driver(args), None
        except Retrace:  # the effects before the forward ran: not to be repeated
            restore_random_state(saved)
            return MISS, self.plan.first if self.plan is not None else None

    def add_driver(self, built: tuple | None) -> None:
        if built is not None:
            self.driver, self.driver_source = built

    def fits(self, flat: list) -> bool:
        for i, t in self.pinned:  # an argument that was also a tensor reached otherwise
            if flat[i] is not t:
                return False
        if self.bound and not still_bound(self.bound):  # a global or closure name rebound
            return False
        for t, e in zip(self.captured, self.expect):
            d = t._data
            if d.shape != e[0] or d.dtype != e[1] or t._requires_grad != e[2]:
                return False
        for a, (shape, dtype) in zip(self.captured[self.n_tensors:], self.array_expect):
            if a.shape != shape or a.dtype != dtype:  # a.shape = ..., a.resize(): trace again
                return False
        return self.modules.unchanged()

    def run(self, flat: list, done: list | None = None) -> Tensor:
        """One compiled call (``done``: see `StepPlan.run`); a guard that fails raises `Retrace`
        after the random generators' states are put back (retrace.py)."""
        if self.rngs:
            saved = save_random_state(self.rngs)
            try:
                return self._run(flat, done)
            except Retrace:
                restore_random_state(saved)
                raise
        return self._run(flat, done)

    def _run(self, flat: list, done: list | None) -> Tensor:
        if self.plan is not None:
            return self.plan.run(self.program, [flat[i] for i in self.slots] + self.captured,
                                 done)
        region = [flat[i] for i in self.slots] + self.captured
        written = tuple(region[i] for i in self.program.written)
        out = CompiledOp.apply(*region, program=self.program, replay=self.replay,
                               written=written)
        if self.view_of is not None:  # the output is a view of an input: as in eager mode
            share_versions(out, region[self.view_of])
        return out


class CompiledFunction:
    """What `compile` returns: call it like the function. ``source`` is the generated code of
    the latest trace, ``graph`` the output tensor of that trace (draw it with ``draw_graph``),
    ``trace_count`` how many times the function was traced."""

    def __init__(self, fn: Any, max_traces: int = 8) -> None:
        self.fn = fn
        self.max_traces = max_traces
        self.trace_count = 0
        self._cache: OrderedDict = OrderedDict()
        self._latest: _Entry | None = None
        self._fast: Any = None  # the entry that ran last, if it has a driver: tried first
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fast, done = self._fast, None
        if fast is not None and not kwargs:
            out, done = fast.run_driver(args)  # checks the call itself (and anomaly mode)
            if out is not MISS:  # MISS: it does not apply
                return out
        mode = LOCAL.mode
        if mode.tracer is not None or mode.anomaly:  # inside another trace: its ops join that
            return self.fn(*args, **kwargs)  # trace; ag.detect_anomaly(): every op is checked
        key, flat = signature(args, kwargs)
        entries = self._cache.get(key)
        if entries:
            self._cache.move_to_end(key)
            for entry in entries:
                if entry.fits(flat):
                    try:
                        self._fast = entry if entry.driver is not None else None
                        return entry.run(flat, done)
                    except Retrace as e:  # a guard failed: try the next trace, or trace again
                        done = getattr(e, "done", done)
        result, entry = self._trace(args, kwargs, flat, done)
        self._fast = entry if entry.driver is not None else None
        self._cache.setdefault(key, []).insert(0, entry)
        while sum(map(len, self._cache.values())) > self.max_traces:
            oldest = next(iter(self._cache))
            self._cache[oldest].pop()
            if not self._cache[oldest]:
                del self._cache[oldest]
        return result

    @property
    def source(self) -> str:
        """The generated Python of the latest trace."""
        if self._latest is None:
            raise RuntimeError("compile: call the function once first (it traces on first call)")
        latest = self._latest
        updates = latest.plan.updates if latest.plan is not None else []
        driver = [f"# the compiled call (a training step's steady state)\n{latest.driver_source}"]
        return "\n".join([latest.program.source, *[u.source for u in updates],
                          *driver * bool(latest.driver_source)])

    @property
    def graph(self) -> Tensor:
        """The output of the latest trace, with the eager graph it was recorded from."""
        if self._latest is None:
            raise RuntimeError("compile: call the function once first (it traces on first call)")
        return self._latest.graph

    @property
    def program(self) -> Program:
        """The latest trace's generated functions: ``forward(*arrays) -> (output, saved)``,
        ``backward(*saved, grad)``, with ``region`` naming their inputs."""
        if self._latest is None:
            raise RuntimeError("compile: call the function once first (it traces on first call)")
        return self._latest.program

    @property
    def fallbacks(self) -> list[str]:
        """Ops of the latest trace emitted as calls of their rules (not inlined numpy)."""
        return [] if self._latest is None else list(self._latest.program.fallbacks)

    def _tracer(self, flat: list, done: list | None) -> Tracer:
        """A tracer with the inputs registered, the effects already ``done`` to replay and the
        module that ``fn`` is (or is a method of) among the modules it ran."""
        tr = Tracer()
        tr.replay = list(done or [])
        own = module_of(self.fn)
        if own is not None:
            tr.modules[id(own)] = own
        for x in flat:
            tr.add_input(x)
        return tr

    def _trace(self, args: tuple, kwargs: dict, flat: list, done: list | None = None) -> tuple:
        tr = self._tracer(flat, done)
        _name_inputs(tr, self.fn, args, kwargs)
        st = LOCAL.mode
        prev, st.tracer = st.tracer, tr
        try:
            with watching():
                result = self.fn(*args, **kwargs)
        finally:
            st.tracer = prev
        self.trace_count += 1
        check_replayed(tr)
        out = tr.var_of(result) if isinstance(result, Tensor) else None
        plan = StepPlan(tr, result, tr.inputs + tr.captured) if tr.effects else None
        if plan is None:
            tr.capture_arrays()
            _name_arrays(tr, self.fn)
        if plan is not None:
            out = plan.root
        if out is None:
            raise CompileError(f"compile: {getattr(self.fn, '__name__', 'fn')} must return a "
                               "Tensor computed from its inputs")
        for v in tr.vars.values():
            t = v.tensor
            if v.kind == "node" and t is not result and (t._hooks or t._retains_grad):
                raise CompileError("compile: a hook or retain_grad() on a tensor inside the "
                                   "compiled function would not run on later calls; register it "
                                   "on an input or the output")
        for v in tr.vars.values():
            if v.tensor is not None and v.tensor.name and v.kind == "node":
                v.name = v.tensor.name
        _name_module_tensors(tr)
        title = getattr(self.fn, "__qualname__", "fn")
        program = generate(tr.nodes, out, tr.inputs + tr.captured + tr.captured_arrays, title,
                           step=plan is not None)
        if plan is not None:
            plan.emit_updates(program)
        entry = _Entry(program, tr, flat, result, plan)
        reached = reached_otherwise(self.fn, list(tr.modules.values()))
        entry.pinned = [(i, x) for i, x in enumerate(flat)
                        if isinstance(x, (Tensor, np.ndarray)) and id(x) in reached]
        entry.bound = bindings(self.fn)
        if plan is not None and not kwargs:
            entry.add_driver(build_driver(plan, program, tr.inputs, tr.captured, args))
        self._latest = entry
        return result, entry


def _name_inputs(tr: Tracer, fn: Any, args: tuple, kwargs: dict) -> None:
    """Inputs are named after the function's parameters, parameters after their module names."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return
    for pname, value in bound.arguments.items():
        if hasattr(value, "named_parameters"):
            for n, p in value.named_parameters():
                tr.names[id(p)] = n.replace(".", "_")
        v = tr.var_of(value) if isinstance(value, (Tensor, np.ndarray)) else None
        if v is not None and v.name is None:
            v.name = pname


def _name_arrays(tr: Tracer, fn: Any) -> None:
    """Captured plain arrays are named after the global or closure variable holding them."""
    for name, value in named_globals_and_cells(fn):
        v = tr.arrays.get(id(value)) if isinstance(value, np.ndarray) else None
        if v is not None and v.kind == "captured" and v.name is None:
            v.name = name


def _name_module_tensors(tr: Tracer) -> None:
    """Tensors reached through the modules the trace ran are named as in their state_dict
    (``running_mean``, ``0_weight``), the outermost module's names first."""
    for m in tr.modules.values():
        for n, t in [*m.named_parameters(), *m.named_buffers()]:
            v = tr.vars.get(id(t))
            if v is not None and v.name is None:
                v.name = n.replace(".", "_")


def signature(args: tuple, kwargs: dict) -> tuple:
    """(the cache key, the tensors and arrays among the arguments in order)."""
    key: list = [LOCAL.mode.grad_enabled]
    flat: list = []
    seen: set = set()
    for a in args:
        if type(a) is Tensor and id(a) not in seen:  # the common case
            d = a._data
            key.append((d.shape, d.dtype, a._requires_grad))
            flat.append(a)
            seen.add(id(a))
        else:
            _sig(a, key, flat)
            seen.update(map(id, flat))
    for k in sorted(kwargs):
        key.append(k)
        _sig(kwargs[k], key, flat)
    return tuple(key), flat


def _sig(a: Any, key: list, flat: list) -> None:
    if isinstance(a, Tensor) or isinstance(a, np.ndarray):
        alias = [i for i, x in enumerate(flat) if x is a]
        d = a._data if isinstance(a, Tensor) else a
        if alias:
            key.append(("alias", alias[0]))
        else:
            key.append((d.shape, d.dtype, isinstance(a, Tensor) and a._requires_grad))
            flat.append(a)
    elif hasattr(a, "named_parameters") and hasattr(a, "modules"):
        key.append(("module", id(a), tuple(m.training for m in a.modules()),
                    tuple(map(id, a.parameters()))))
    elif hasattr(a, "param_groups") and hasattr(a, "step"):
        key.append(("optimizer", id(a)))
    elif isinstance(a, (tuple, list)):
        key.append((type(a).__name__, len(a)))
        for e in a:
            _sig(e, key, flat)
    elif isinstance(a, dict):
        key.append(("dict", tuple(a)))
        for e in a.values():
            _sig(e, key, flat)
    else:
        try:
            hash(a)
        except TypeError:
            raise CompileError(f"compile: an argument of type {type(a).__name__} is neither a "
                               "Tensor/array nor a hashable static value") from None
        key.append(static_key(a))


def static_key(a: Any) -> tuple:
    """A static argument in the cache key: by value, except that floats are keyed by their
    repr, so that -0.0 and 0.0 differ (they are ==) and a NaN matches itself (it is not ==)."""
    if isinstance(a, (float, complex, np.floating, np.complexfloating)):
        return (type(a), repr(a))
    return (type(a), a)


def compile(fn: Any = None, *, max_traces: int = 8) -> Any:  # noqa: A001 - PyTorch's name
    """Compile ``fn`` (a function of tensors returning a tensor): the first call per signature
    (shapes, dtypes, ``requires_grad``, static arguments, module modes) traces it eagerly;
    later calls run the generated numpy code as one op of the graph. Usable as a decorator."""
    if fn is None:
        return lambda f: CompiledFunction(f, max_traces)
    return CompiledFunction(fn, max_traces)
