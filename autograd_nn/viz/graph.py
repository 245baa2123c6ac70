"""A read-only view of a recorded graph, shared by the renderers and the backward trace.

`build_view` walks from the output(s) iteratively (an explicit stack, so a 100,000-op chain is
fine) and records every tensor, operation and constant operand once, with stable ids
(``t0, t1, ...`` for tensors, ``op0, ...`` for operations, ``c0, ...`` for constants) in the
order they are discovered. Nothing in the graph is modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np

from ..function import Function
from ..tensor import Tensor

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


class NamedParameters(Protocol):
    """What ``params=`` reads from a Module (any object with ``named_parameters()``; its
    ``named_modules()`` too, when it has one)."""

    def named_parameters(self) -> Iterable[tuple[str, Tensor]]: ...


#: ``params=``: a Module or any object with ``named_parameters()`` (parameter and module
#: names), a dict name -> Tensor, or (name, Tensor) pairs
ParamsArg: TypeAlias = (
    "NamedParameters | Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None")

# The role of a tensor, which decides its style.
OUTPUT, PARAMETER, LEAF, INTERMEDIATE, CONSTANT = (
    "output", "parameter", "leaf", "intermediate", "constant",
)


class TensorEntry:
    """A tensor of the graph: ``key`` is its DOT id, ``op`` the entry of the op that made it."""

    __slots__ = ("key", "tensor", "name", "kind", "op", "consumers")

    def __init__(self, key: str, tensor: Tensor, name: str | None, kind: str) -> None:
        self.key, self.tensor, self.name, self.kind = key, tensor, name, kind
        self.op: OpEntry | None = None
        self.consumers: list[OpEntry] = []

    @property
    def label(self) -> str:
        """The tensor's name, or its id when it has none."""
        return self.name or self.key


class ConstEntry:
    """A non-Tensor operand (a Python number or an ndarray)."""

    __slots__ = ("key", "value", "consumers")
    kind = CONSTANT
    name = None

    def __init__(self, key: str, value: Any) -> None:
        self.key, self.value = key, value
        self.consumers: list[OpEntry] = []

    @property
    def label(self) -> str:
        return short_value(self.value)


class OpEntry:
    """An operation node: ``operands`` holds the entries of its inputs in operand order."""

    __slots__ = ("key", "node", "operands", "outputs")

    def __init__(self, key: str, node: Function) -> None:
        self.key, self.node = key, node
        self.operands: list[TensorEntry | ConstEntry] = []
        self.outputs: list[TensorEntry] = []  # one for every built-in op

    @property
    def scope(self) -> tuple:
        return getattr(self.node, "scope", ()) or ()


class GraphView:
    """Everything reachable from the roots, each object once, in discovery order."""

    def __init__(self) -> None:
        self.roots: list[TensorEntry] = []
        self.tensors: list[TensorEntry] = []
        self.ops: list[OpEntry] = []
        self.consts: list[ConstEntry] = []
        self.tensor_by_id: dict[int, TensorEntry] = {}
        self.op_by_id: dict[int, OpEntry] = {}
        self.param_names: dict[int, str] = {}  # id(tensor) -> parameter name
        self.module_names: dict[int, str] = {}  # id(module) -> name from named_modules()
        self.param_owner: dict[int, Any] = {}  # id(tensor) -> the module that owns it

    def entry_of(self, x: Any) -> TensorEntry | OpEntry | None:
        """The entry of a Tensor or a Function node of this graph (None if not in it)."""
        if isinstance(x, Tensor):
            return self.tensor_by_id.get(id(x))
        if isinstance(x, Function):
            return self.op_by_id.get(id(x))
        return None

    def module_label(self, module: Any) -> str:
        """``hidden (Linear)`` from named_modules(), or the class name when the name is unknown."""
        cls = type(module).__name__
        name = self.module_names.get(id(module))
        return f"{name} ({cls})" if name else cls


def as_roots(root: object, where: str) -> list[Tensor]:
    """The output tensor(s) given to a renderer, checked."""
    if isinstance(root, Tensor):
        return [root]
    if isinstance(root, (list, tuple)) and root and all(isinstance(r, Tensor) for r in root):
        return list(root)
    raise TypeError(
        f"{where}: root must be a Tensor or a non-empty list of Tensors, "
        f"got {type(root).__name__}"
    )


def read_params(params: ParamsArg, where: str
                ) -> tuple[dict[int, str], dict[int, str], dict[int, Any]]:
    """Parameter names, module names and parameter owners from a Module or a name->Tensor map.

    A Module (anything with ``named_parameters()``) also gives module names through
    ``named_modules()``; a dict or an iterable of ``(name, tensor)`` pairs gives names only.
    """
    if params is None:
        return {}, {}, {}
    if hasattr(params, "named_parameters"):
        pairs = list(params.named_parameters())
        modules = list(params.named_modules()) if hasattr(params, "named_modules") else []
    elif isinstance(params, Mapping):
        pairs, modules = list(params.items()), []
    elif isinstance(params, Iterable) and not isinstance(params, (str, Tensor)):
        pairs, modules = list(params), []
    else:
        raise TypeError(
            f"{where}: params must be a Module, a dict of name -> Tensor or (name, Tensor) "
            f"pairs, got {type(params).__name__}"
        )
    names: dict[int, str] = {}
    for item in pairs:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor)):
            raise TypeError(f"{where}: params must map names to Tensors, got an item {item!r:.60}")
        names.setdefault(id(item[1]), str(item[0]))
    module_names = {id(m): str(n) for n, m in modules}
    by_name = {str(n): m for n, m in modules}
    owners: dict[int, Any] = {}
    for item in pairs:
        prefix = str(item[0]).rpartition(".")[0]
        if prefix in by_name:
            owners.setdefault(id(item[1]), by_name[prefix])
    return names, module_names, owners


def _is_parameter_class(t: Tensor) -> bool:
    return any(c.__name__ == "Parameter" for c in type(t).__mro__)


def build_view(roots: Sequence[Tensor], params: ParamsArg = None,
               where: str = "draw_graph") -> GraphView:
    """Walk the graph below ``roots`` without recursion, visiting every object once."""
    walk = _Walk(roots, params, where)
    stack: list[TensorEntry] = []
    for r in roots:
        if id(r) not in walk.view.tensor_by_id:
            e = walk.tensor_entry(r)
            walk.view.roots.append(e)
            stack.append(e)
    while stack:
        stack.extend(walk.visit(stack.pop()))
    return walk.view


class _Walk:
    """`build_view`'s walk: one entry per tensor, node and array operand (a number operand
    gets one per use), named and classified as they are first met."""

    def __init__(self, roots: Sequence[Tensor], params: ParamsArg, where: str) -> None:
        self.view = view = GraphView()
        view.param_names, view.module_names, view.param_owner = read_params(params, where)
        self.explicit = params is not None and not hasattr(params, "named_parameters")
        self.root_ids = {id(r) for r in roots}
        self.const_by_id: dict[int, ConstEntry] = {}

    def tensor_entry(self, t: Tensor) -> TensorEntry:
        names = self.view.param_names
        # the naming rule (see the package docstring): explicit names first
        name = (names.get(id(t)) or t.name) if self.explicit else (t.name or names.get(id(t)))
        e = TensorEntry(f"t{len(self.view.tensors)}", t, name, self._kind(t))
        self.view.tensors.append(e)
        self.view.tensor_by_id[id(t)] = e
        return e

    def _kind(self, t: Tensor) -> str:
        if id(t) in self.root_ids:
            return OUTPUT
        if t.grad_fn is not None:
            return INTERMEDIATE
        if not t._requires_grad:
            return CONSTANT
        if id(t) in self.view.param_names or _is_parameter_class(t):
            return PARAMETER
        return LEAF

    def visit(self, e: TensorEntry) -> list[TensorEntry]:
        """Connect ``e`` to the node that made it; the tensors met for the first time."""
        fn = e.tensor.grad_fn
        if fn is None:
            return []
        view = self.view
        op = view.op_by_id.get(id(fn))
        if op is not None:  # two tensors sharing one node (not made by the built-in ops)
            e.op = op
            op.outputs.append(e)
            return []
        op = OpEntry(f"op{len(view.ops)}", fn)
        view.ops.append(op)
        view.op_by_id[id(fn)] = op
        op.outputs.append(e)
        e.op = op
        new: list[TensorEntry] = []
        for a in fn.inputs:
            ae = self.operand_entry(a, new)
            ae.consumers.append(op)
            op.operands.append(ae)
        return new

    def operand_entry(self, a: Any, new: list[TensorEntry]) -> TensorEntry | ConstEntry:
        """The entry of an operand (a tensor met for the first time also goes to ``new``)."""
        if isinstance(a, Tensor):
            ae = self.view.tensor_by_id.get(id(a))
            if ae is None:
                ae = self.tensor_entry(a)
                new.append(ae)
            return ae
        if isinstance(a, np.ndarray):  # a data array may feed several ops: one node
            c = self.const_by_id.get(id(a))
            if c is None:
                c = self.const_by_id[id(a)] = self._const(a)
            return c
        return self._const(a)  # a number: one node per use

    def _const(self, value: Any) -> ConstEntry:
        c = ConstEntry(f"c{len(self.view.consts)}", value)
        self.view.consts.append(c)
        return c


# ---- text shared by the renderers -------------------------------------------------------------

def short_value(v: object, limit: int = 24) -> str:
    """A compact one-line description of an operand or keyword value."""
    if isinstance(v, np.ndarray):
        if v.size <= 4 and v.ndim <= 1:
            text = np.array2string(v, precision=4, separator=", ")
        else:
            text = f"array{tuple(v.shape)} {v.dtype}"
    elif isinstance(v, np.dtype):
        text = str(v)
    elif isinstance(v, slice):
        parts = ["" if p is None else str(p) for p in (v.start, v.stop, v.step)]
        text = ":".join(parts[:2] if v.step is None else parts)
    elif isinstance(v, tuple) and v and any(isinstance(i, (slice, np.ndarray)) for i in v):
        text = "[" + ", ".join(short_value(i, limit) for i in v) + "]"
        limit *= 3
    elif isinstance(v, (float, np.floating)):
        text = f"{float(v):.6g}"
    else:
        text = repr(v)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def op_label(node: Function, constants: Sequence[str | None] | None = None) -> str:
    """``sum(axis=0)``: the op's name and its keyword parameters (None and False left out);
    with ``constants`` (one text per operand, None for the tensors drawn as nodes) also the
    constant operands folded in, e.g. ``power(·, 2)``."""
    parts = []
    if constants is not None and any(c is not None for c in constants):
        parts = ["·" if c is None else c for c in constants]
    for k, v in (getattr(node, "kwargs", None) or {}).items():
        if v is None or v is False:
            continue
        parts.append(f"{k}={short_value(v)}")
    name = node.name or type(node).__name__
    return f"{name}({', '.join(parts)})" if parts else name


def format_number(x: float | np.number | np.bool_, precision: int) -> str:
    """A number in ``precision`` significant digits: ``0.0123``, ``-1.2e-04``, ``3.5e+05``,
    ``0`` (never ``0.`` or ``-0.`` for a small non-zero value); exponent form below 1e-3 and
    from 10**precision up."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    v = float(x)
    if v == 0.0 or not np.isfinite(v):
        return "0" if v == 0.0 else str(v)
    p = max(1, int(precision))
    if 1e-3 <= abs(v) < 10.0 ** p:
        return f"{v:.{p}g}"
    mantissa, exponent = f"{v:.{p - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


def summary(arr: np.ndarray, precision: int = 4) -> str:
    """``min -1.2 mean 0.03 max 2.1`` (or ``empty``) for an array too big to show."""
    if arr.size == 0:
        return "empty"
    if arr.dtype.kind == "b":
        return f"{int(np.count_nonzero(arr))} of {arr.size} true"
    p = max(2, precision - 1)
    return (
        f"min {format_number(arr.min(), p)}  mean {format_number(arr.mean(), p)}  "
        f"max {format_number(arr.max(), p)}"
    )


def array_lines(arr: ArrayLike, max_elements: int, precision: int = 4) -> list[str]:
    """An array as text lines: all its values (each in ``precision`` significant digits, see
    `format_number`, in aligned columns) when ``size <= max_elements``, else a summary."""
    arr = np.asarray(arr)
    if arr.size == 1 and arr.ndim == 0:
        return [format_number(arr.item(), precision)]
    if arr.size > max_elements:
        return [summary(arr, precision)]
    if arr.dtype.kind not in "fc" or arr.size == 0:
        return np.array2string(arr, max_line_width=88).splitlines()
    width = max(len(format_number(v, precision)) for v in arr.ravel())
    text = np.array2string(
        arr, max_line_width=88,
        formatter={"float_kind": lambda v: format_number(v, precision).rjust(width)})
    return text.splitlines()


def array_inline(arr: ArrayLike, max_elements: int, precision: int = 4) -> str:
    """An array on one line: values (flattened, after the shape) when small, else a summary."""
    arr = np.asarray(arr)
    if arr.ndim == 0:
        return format_number(arr.item(), precision)
    if arr.size > max_elements:
        return f"{tuple(arr.shape)} {summary(arr, precision)}"
    vals = " ".join(format_number(v, precision) for v in arr.ravel())
    return f"{tuple(arr.shape)} [{vals}]"


def shape_text(arr: ArrayLike) -> str:
    shape = np.shape(arr)
    return "()" if shape == () else str(tuple(shape))
