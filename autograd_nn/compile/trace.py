"""Tracing: run the user's function eagerly once and record every op it applies.

While a `Tracer` is active (``LOCAL.mode.tracer``), `Function.apply` hands each op to it: the op
runs as usual and is recorded as a `Node` (its Function class, operands, keyword parameters and
the tensor it made). Values are never baked in silently: the few Tensor methods that read a
value or compute outside the ops (`guards.py`) either record what they do (comparisons,
``argmax``, ``detach``, dropout's random mask), guard it (``bool(t)``: the compiled code checks
the condition and traces again when it changes) or refuse with the user's file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import numpy as np

from ..mode import LOCAL
from ..tensor import Tensor


class CompileError(RuntimeError):
    """``ag.compile`` cannot follow what the function does (it says where and why)."""


class Retrace(Exception):
    """Raised by compiled code when a guard fails: the function is traced again."""


@dataclass(eq=False)
class Var:
    """A value of the traced program: an input, a captured tensor, or an op's result."""

    kind: str  # "input", "captured", "node"
    value: Any  # the array it held while tracing
    tensor: Any = None  # the Tensor (None for plain arrays)
    node: Any = None  # the Node that made it (kind "node")
    requires_grad: bool = False
    name: str | None = None


@dataclass(eq=False)
class Node:
    """One recorded op: ``out = cls.apply(*operands, **kwargs)`` or, for an op outside the
    graph (a comparison, argmax, a random mask), ``out = fn(*operands, **kwargs)``."""

    cls: Any
    fn: Any
    operands: list
    kwargs: dict
    out: Var
    needs: tuple | None = None  # needs_input_grad of the recorded node (None: no graph)
    opaque: bool = False  # fn is emitted as a call of itself (a random draw)
    label: str = ""
    guards: list = field(default_factory=list)  # (Var, value) checked after this node
    writes: bool = False  # an in-place write into operands[0] (out is that Var): inplace.py


class Tracer:
    """Records the ops of one run of the user's function (see the module docstring)."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.vars: dict[int, Var] = {}  # id(Tensor) -> Var
        self.arrays: dict[int, Var] = {}  # id(ndarray) -> Var (a tensor's data, an array input)
        self.inputs: list[Var] = []
        self.captured: list[Var] = []
        self.captured_arrays: list[Var] = []  # plain numpy arrays the ops read: capture_arrays
        self.keep: list = []  # what the ids above refer to stays alive while tracing
        self.names: dict[int, str] = {}  # id(Tensor) -> name (module parameters)
        self.loose: dict[int, Any] = {}  # tensors made outside the recorded ops while tracing
        self.made: dict[int, Any] = {}  # constants made inside the function (ag.zeros, Tensor())
        self.effects: list[tuple] = []  # (kind, number of nodes before it, payload): step.py
        self.replay: list[tuple] = []  # effects already performed, not to be run again: retrace.py
        self.modules: dict[int, Any] = {}  # id -> module whose __call__ ran: modules.py

    # ---- registration -----------------------------------------------------------------------
    def add_input(self, x: Any) -> Var:
        if isinstance(x, Tensor):
            if id(x) in self.vars:
                return self.vars[id(x)]
            v = Var("input", x._data, x, requires_grad=x._requires_grad, name=x.name)
        else:
            if id(x) in self.arrays:
                return self.arrays[id(x)]
            v = Var("input", x)
        self._register(v, x)
        self.inputs.append(v)
        return v

    def _register(self, v: Var, x: Any) -> None:
        self.keep.append(x)
        if isinstance(x, Tensor):
            self.vars[id(x)] = v
            self.arrays.setdefault(id(x._data), v)
            self.keep.append(x._data)
        else:
            self.arrays[id(x)] = v

    def var_of(self, x: Any) -> Var | None:
        """The Var a traced Tensor or array stands for, or None (not traced)."""
        if isinstance(x, Tensor):
            return self.vars.get(id(x))
        if isinstance(x, np.ndarray):
            return self.arrays.get(id(x))
        return None

    def holds(self, value: Any, test: Callable[[Any], bool]) -> bool:
        """Whether ``value`` (a tensor, an array, nested lists or tuples of them) holds a tensor
        or an array for which ``test`` is true."""
        stack = [value]
        while stack:
            x = stack.pop()
            if isinstance(x, (tuple, list)):
                stack.extend(x)
            elif isinstance(x, (Tensor, np.ndarray)) and test(x):
                return True
        return False

    def computed_or_given(self, x: Tensor | np.ndarray) -> bool:
        """``x`` is a value this trace computed or was given (not one reached from outside)."""
        v = self.var_of(x)
        return v is not None and v.kind != "captured"

    def operand(self, x: Any) -> Any:
        """An op's operand as recorded: a Var, or a constant kept by reference."""
        v = self.var_of(x)
        if v is not None:
            return v
        if isinstance(x, Tensor):  # a tensor from outside: read at run time, by identity
            if id(x) in self.loose:
                raise CompileError(
                    f"{user_site()}this operand was computed while tracing, outside the ops "
                    "ag.compile records (e.g. by ag.sign or a library function reading "
                    "._data): the compiled code cannot follow it. Compute it with tensor ops, "
                    "or pass it in as an argument")
            v = Var("captured", x._data, x, requires_grad=x._requires_grad,
                    name=x.name or self.names.get(id(x)))
            self._register(v, x)
            self.captured.append(v)
            return v
        return x

    def capture_arrays(self) -> None:
        """Make the plain numpy arrays the ops take as operands (a global or closure array, not
        a traced value) inputs of the region, read at each call as eager mode reads them: so the
        compiled node keeps a private copy of those its backward reads, as `Function.apply`
        does (a write into one between the forward and the backward is not seen), and a
        replay under create_graph reads that copy too. For a plain compiled function only: a
        training step's backward runs in the same call as its forward."""
        for node in self.nodes:
            for k, o in enumerate(node.operands):
                if isinstance(o, np.ndarray):
                    v = self.arrays.get(id(o))
                    if v is None:
                        v = Var("captured", o)
                        self._register(v, o)
                        self.captured_arrays.append(v)
                    node.operands[k] = v

    def parameter(self, x: Any, where: str) -> Any:
        """A keyword parameter: arrays that are traced values become Vars (nested in tuples)."""
        if isinstance(x, (tuple, list)):
            return type(x)(self.parameter(e, where) for e in x)
        v = self.var_of(x) if isinstance(x, (np.ndarray, Tensor)) else None
        if v is None:
            return x
        if np.asarray(x).dtype.kind == "b" and where == "getitem":
            raise CompileError(user_site() + "indexing with a boolean mask computed from the "
                               "inputs gives a shape that depends on their values; ag.compile "
                               "needs static shapes (use where() instead)")
        return v

    def new_var(self, t: Any, node: Node | None = None) -> Var:
        v = Var("node", t._data if isinstance(t, Tensor) else t, t if isinstance(t, Tensor)
                else None, node=node,
                requires_grad=bool(isinstance(t, Tensor) and t._requires_grad))
        self._register(v, t)
        return v

    # ---- the hook Function.apply calls -------------------------------------------------------
    def apply(self, cls: Any, args: tuple, kwargs: dict) -> Tensor:
        for a in args:  # apply converts a list by numpy: this call's values would be kept
            # (a tensor from outside is read anew: `runtime.run_forward_converting`)
            if isinstance(a, (list, tuple)) and self.holds(a, self.computed_or_given):
                raise CompileError(
                    f"{user_site()}{cls.name}: a list or tuple holding tensors computed from "
                    "the inputs as an operand; the compiled code would keep the values of the "
                    "first call. Combine them with ag.stack() first")
        st = LOCAL.mode
        st.tracer = None
        try:
            t = cls.apply(*args, **kwargs)
        finally:
            st.tracer = self
        operands = [self.operand(a) for a in args]
        params = {k: self.parameter(v, cls.name) for k, v in kwargs.items()}
        node = Node(cls, None, operands, params, None,  # type: ignore[arg-type]
                    needs=t.grad_fn.needs_input_grad if t.grad_fn is not None else None,
                    label=cls.name)
        node.out = self.new_var(t, node)
        self.nodes.append(node)
        return t

    def record_outside(self, fn: Any, operands: list, kwargs: dict, result: Any,
                       label: str, opaque: bool = False) -> None:
        """Record an op computed outside the graph (its result needs no gradient)."""
        node = Node(None, fn, [self.operand(o) for o in operands],
                    {k: self.parameter(v, label) for k, v in kwargs.items()}, None,  # type: ignore[arg-type]
                    opaque=opaque, label=label)
        node.out = self.new_var(result, node)
        self.nodes.append(node)

    def guard(self, t: Tensor, value: Any) -> None:
        v = self.vars[id(t)]
        node = v.node if v.node is not None else (self.nodes[-1] if self.nodes else None)
        if node is None:
            raise CompileError(user_site() + "bool() of an input: pass it as a static Python "
                               "value instead")
        node.guards.append((v, value))


def vars_in(x: Any) -> list:
    """The Vars in a (nested) keyword parameter."""
    if isinstance(x, Var):
        return [x]
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, (tuple, list)):
        return [v for e in x for v in vars_in(e)]
    return []


def active() -> Tracer | None:
    return LOCAL.mode.tracer


def user_site() -> str:
    """``file.py:12: `` for the innermost frame outside autograd_nn (the user's line)."""
    import sys
    from pathlib import Path

    pkg = str(Path(__file__).resolve().parent.parent)
    f: FrameType | None = sys._getframe(1)
    while f is not None:
        name = f.f_code.co_filename
        if not str(Path(name).resolve()).startswith(pkg) and "<compiled" not in name:
            return f"{name}:{f.f_lineno}: "
        f = f.f_back
    return ""


def package_site() -> str:
    """`` in BatchNorm1d.forward (autograd_nn/nn/normalization.py:52)`` when the innermost frame
    outside ``compile/`` is autograd_nn's own code (a layer or function read the value, not
    the user's line), else ``""``."""
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    pkg = here.parent
    f: FrameType | None = sys._getframe(1)
    while f is not None:
        path = Path(f.f_code.co_filename).resolve()
        if path.parent != here:
            break
        f = f.f_back
    if f is None or pkg not in path.parents:
        return ""
    owner = f.f_locals.get("self")
    name = f"{type(owner).__name__}.{f.f_code.co_name}" if owner is not None else \
        getattr(f.f_code, "co_qualname", f.f_code.co_name)
    return f" in {name} ({path.relative_to(pkg.parent).as_posix()}:{f.f_lineno})"
