"""Where each part of a graph is drawn: module clusters and collapsed module boxes.

An op made inside a module's forward carries the module stack in ``node.scope`` (outermost
first); it is drawn inside nested clusters, one per module of that stack. A collapsed module
becomes one box (an op-like node): its ops, the tensors they make and use only among
themselves, its parameters and constants used only inside it are absorbed into the box; the
tensors entering and leaving it stay visible, so edges keep going tensor -> box -> tensor.

The text of each box is made here too: `tensor_lines` for a tensor, `box_lines` for a
collapsed module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from ..tensor import Tensor
from .graph import PARAMETER, ConstEntry, GraphView, OpEntry, TensorEntry, array_lines, shape_text

if TYPE_CHECKING:
    from ..nn.module import Module

#: ``collapse=``: True or "all" (every innermost module), a module's name or class name, a
#: module, or a list of those; None or False collapses nothing
CollapseArg: TypeAlias = (
    "bool | str | Module | list[str | Module] | tuple[str | Module, ...] | set[str] | None")
_DTYPE_NAMES: dict[Any, str] = {}  # dtype -> its name, computed once per dtype (tensor_lines)


class Box:
    """A collapsed module drawn as one node ``m<k>`` inside the clusters of ``path``."""

    __slots__ = ("key", "module", "path", "ops", "absorbed", "inputs", "outputs")

    def __init__(self, key: str, module: Any, path: tuple) -> None:
        self.key, self.module, self.path = key, module, path
        self.ops: list[OpEntry] = []
        self.absorbed: list[TensorEntry | ConstEntry] = []
        self.inputs: list[TensorEntry | ConstEntry] = []
        self.outputs: list[TensorEntry] = []


class Layout:
    """``path[key]``: the module stack whose clusters hold the entry; ``box[key]``: the box
    that absorbed it (ops of a collapsed module and what they use only among themselves)."""

    def __init__(self) -> None:
        self.path: dict[str, tuple] = {}
        self.box: dict[str, Box] = {}
        self.boxes: list[Box] = []

    def rep(self, key: str) -> str:
        """The DOT node that stands for an entry (its box when absorbed)."""
        b = self.box.get(key)
        return b.key if b is not None else key


def module_paths(view: GraphView) -> dict[int, tuple]:
    """id(module) -> the module stack from the outermost module down to it."""
    paths: dict[int, tuple] = {}
    seen_scopes: set = set()
    for op in view.ops:
        scope = op.scope
        if not scope or id(scope) in seen_scopes:
            continue
        seen_scopes.add(id(scope))
        for k, m in enumerate(scope):
            paths.setdefault(id(m), scope[: k + 1])
    return paths


def resolve_collapse(view: GraphView, spec: CollapseArg, paths: dict[int, tuple]) -> set[int]:
    """ids of the modules to collapse.

    ``True`` or ``"all"``: every innermost module (one whose forward called no other module
    that made ops), so a model of layers shows one box per layer. A string: the module of
    that name (from ``named_modules()``), or else every module of that class name. A module
    object, or a list of names and modules, also works.
    """
    if spec is None or spec is False:
        return set()
    modules = {i: p[-1] for i, p in paths.items()}
    if spec is True or spec == "all":
        outer = {id(m) for p in paths.values() for m in p[:-1]}
        return {i for i in modules if i not in outer}
    items = [spec] if isinstance(spec, str) or not isinstance(spec, (list, tuple, set)) else spec
    chosen: set[int] = set()
    for item in items:
        if isinstance(item, str):
            found = {i for i, m in modules.items() if view.module_names.get(i) == item}
            if not found:
                found = {i for i, m in modules.items() if type(m).__name__ == item}
            if not found:
                known = sorted({view.module_label(m) for m in modules.values()})
                raise ValueError(
                    f"draw_graph: collapse={item!r} names no module of this graph; modules in it: "
                    f"{', '.join(known) or 'none (no op was made inside a module)'}"
                )
            chosen |= found
        elif id(item) in modules:
            chosen.add(id(item))
        else:
            raise ValueError(
                f"draw_graph: collapse item {item!r:.60} is not a module that made ops of this "
                "graph (give a module, its name, its class name, a list of those, or True)"
            )
    return chosen


def plan(view: GraphView, collapse: CollapseArg, keep: set[str]) -> Layout:
    """Decide clusters and boxes. ``keep`` holds keys that must stay visible (the roots)."""
    paths = module_paths(view)
    planner = _Planner(view, keep, paths, resolve_collapse(view, collapse, paths))
    planner.place_ops()
    for t in view.tensors:
        planner.place_tensor(t)
    for c in view.consts:
        planner.place_const(c)
    for b in planner.lay.boxes:
        _box_edges(planner.lay, b)
    return planner.lay


class _Planner:
    """The phases of `plan`: ops into boxes or clusters, then tensors and constants (absorbed
    into a box when only its ops use them), then each box's inputs and outputs."""

    def __init__(self, view: GraphView, keep: set[str], paths: dict[int, tuple],
                 collapsed: set[int]) -> None:
        self.view, self.keep, self.paths, self.collapsed = view, keep, paths, collapsed
        self.lay = Layout()
        self.boxes: dict[int, Box] = {}

    def place_ops(self) -> None:
        """Each op goes into the box of the outermost collapsed module of its scope, else
        into the clusters of its whole scope."""
        lay = self.lay
        for op in self.view.ops:
            k = self._first_collapsed(op.scope)
            if k is None:
                lay.path[op.key] = op.scope
                continue
            b = self._box(op.scope[k], op.scope[:k])
            b.ops.append(op)
            lay.box[op.key] = b
            lay.path[op.key] = b.path

    def _first_collapsed(self, path: tuple) -> int | None:
        return next((k for k, m in enumerate(path) if id(m) in self.collapsed), None)

    def _box(self, module: Any, path: tuple) -> Box:
        b = self.boxes.get(id(module))
        if b is None:
            b = self.boxes[id(module)] = Box(f"m{len(self.boxes)}", module, path)
            self.lay.boxes.append(b)
        return b

    def only_in(self, entry: TensorEntry | ConstEntry) -> Box | None:
        """The box whose ops are the only users of ``entry`` (None: used outside, or kept)."""
        users = entry.consumers
        if not users or entry.key in self.keep:
            return None
        b = self.lay.box.get(users[0].key)
        if b is None or any(self.lay.box.get(u.key) is not b for u in users):
            return None
        return b

    def place_tensor(self, t: TensorEntry) -> None:
        """A made tensor goes with its op (into its box when only the box uses it); a leaf
        parameter used only in one box is absorbed, any other leaf goes into the clusters of
        the module owning it (outside collapsed ones), or to the top level."""
        lay = self.lay
        b = self.only_in(t)
        if t.op is not None:
            if b is not None and lay.box.get(t.op.key) is b:
                absorb(lay, b, t)
            else:
                lay.path[t.key] = lay.path[t.op.key]
        elif b is not None and t.kind == PARAMETER:
            absorb(lay, b, t)
        else:
            lay.path[t.key] = self._owner_path(t)

    def _owner_path(self, t: TensorEntry) -> tuple:
        owner = self.view.param_owner.get(id(t.tensor))
        path = self.paths.get(id(owner)) if owner is not None else None
        if not path:
            return ()
        k = self._first_collapsed(path)
        return path if k is None else path[:k]

    def place_const(self, c: ConstEntry) -> None:
        """A constant used only in one box is absorbed; with one user it goes with it."""
        b = self.only_in(c)
        if b is not None:
            absorb(self.lay, b, c)
        elif len(c.consumers) == 1:
            self.lay.path[c.key] = self.lay.path[c.consumers[0].key]
        else:
            self.lay.path[c.key] = ()


def _box_edges(lay: Layout, b: Box) -> None:
    """A box's inputs (operands of its ops from outside, once each, in order) and outputs."""
    seen: set[str] = set()
    for op in b.ops:
        for a in op.operands:
            if a.key not in lay.box and a.key not in seen:
                seen.add(a.key)
                b.inputs.append(a)
        b.outputs.extend(t for t in op.outputs if t.key not in lay.box)


def absorb(lay: Layout, b: Box, entry: TensorEntry | ConstEntry) -> None:
    lay.box[entry.key] = b
    b.absorbed.append(entry)


def box_lines(view: GraphView, b: Box, grad_of: Callable[[Any], Any] | None = None) -> list[str]:
    """The text of a collapsed module: name (class), the module's ``box_note()`` if it has
    one (convolution and pooling layers give kernel and stride), parameter shapes (with the
    norm of their gradient when ``grad_of`` finds one), input/output shapes, number of ops."""
    lines = [view.module_label(b.module)]
    note = getattr(b.module, "box_note", None)  # a layer's own line, e.g. kernel and stride
    if callable(note):
        lines.append(note())
    prefix = view.module_names.get(id(b.module))
    order = {k: n for n, k in enumerate(view.param_names)}  # named_parameters() order
    params = [e for e in b.absorbed if isinstance(e, TensorEntry) and e.kind == PARAMETER]
    params.sort(key=lambda e: order.get(id(e.tensor), len(order)))
    for e in params:
        name = e.name or e.key
        if prefix and name.startswith(prefix + "."):
            name = name[len(prefix) + 1 :]
        line = f"{name} {tuple(e.tensor.shape)}"
        grad = grad_of(e.tensor) if grad_of is not None else None
        if grad is not None:
            line += f"  |grad| {np.linalg.norm(np.asarray(getattr(grad, '_data', grad))):.3g}"
        lines.append(line)
    ins = [str(tuple(e.tensor.shape)) for e in b.inputs if isinstance(e, TensorEntry)]
    outs = [str(tuple(e.tensor.shape)) for e in b.outputs]
    if ins:
        lines.append("in " + ", ".join(ins))
    if outs:
        lines.append("out " + ", ".join(outs))
    lines.append(f"{len(b.ops)} op" + ("s" if len(b.ops) != 1 else ""))
    return lines


def tensor_lines(
    e: TensorEntry, show_data: bool, show_grad: bool, grad: Any, max_elements: int,
    precision: int, show_ids: bool = False, grad_title: str = "grad", note: str | None = None,
) -> list[str]:
    """Name (or, with ``show_ids``, the id ``t3`` of an unnamed tensor), shape and dtype;
    then the values and the gradient (or their summaries), headed ``grad_title``. A ``note``
    starting with ``=`` extends the gradient's heading, any other note is a line of its own."""
    t = e.tensor
    head = f"{e.name}  " if e.name else f"{e.key}  " if show_ids else ""
    dtype = _DTYPE_NAMES.get(t._data.dtype)
    if dtype is None:
        dtype = _DTYPE_NAMES[t._data.dtype] = str(t._data.dtype)
    lines = [f"{head}{shape_text(t._data)} {dtype}"]
    if note is not None and not note.startswith("="):
        lines.append(note)
    elif note is not None:
        grad_title = f"{grad_title} {note}"
    blocks = []
    if show_data:
        blocks.append(("value", t._data))
    if show_grad and grad is not None:
        blocks.append((grad_title, grad._data if isinstance(grad, Tensor) else grad))
    for title, arr in blocks:
        body = array_lines(arr, max_elements, precision)
        if len(body) == 1:
            lines.append(f"{title}{' =' if ' ' in title else ''} {body[0]}")
        else:
            lines.append(title)
            lines.extend(body)
    return lines
