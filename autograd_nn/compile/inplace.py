"""In-place changes inside a compiled function: followed where they change state that needs no
gradient (a buffer, such as batch norm's running statistics and ``num_batches_tracked``),
refused elsewhere.

While tracing, ``t += v``, ``t.add_(v)`` (and ``sub_``, ``mul_``, ``div_``), ``copy_``,
``fill_``, ``zero_`` and ``t[i] = v`` run as usual and, when ``t`` is a tensor from outside
the function that does not require grad (an input, or a tensor reached through a module, a
closure or a global), are recorded as a *write*: a line of the generated forward that changes
the same array in place (``np.add(running_mean, t7, out=running_mean)``), in the order the
function made it, so what the function reads afterwards sees the new value, as in eager mode.
The compiled call bumps the tensor's version counter after its forward, as the eager write
does; when a guard fails after a write, the written arrays are put back before the function is
traced again (codegen.py), so the retrace changes them once.

Refused, naming the user's line: writes into a tensor that requires grad, into a result of the
function's own ops, into a tensor an earlier op saved for its backward (eager mode would raise
at ``backward()``), and writes of values computed from the inputs into a tensor made inside
the function (the compiled code would keep writing into the one array it saw while tracing).
A write of constants into a tensor made inside the function is part of that constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.arithmetic import multiply
from ..ops.shape import plain_index
from ..tensor import Tensor
from .trace import CompileError, Node, Tracer, active, user_site


def _ufunc_writer(ufunc: np.ufunc) -> Any:
    def write(target: Any, value: Any) -> Any:
        ufunc(target, value, out=target)
        return target

    write.__name__ = f"{ufunc.__name__}_into"
    return write


def _copy_into(target: Any, value: Any) -> Any:
    target[...] = value
    return target


def _set_items(target: Any, value: Any, index: Any = None) -> Any:
    target[index] = value
    return target


_WRITERS: dict = {}


def _writer(ufunc: np.ufunc) -> Any:
    if ufunc not in _WRITERS:
        _WRITERS[ufunc] = _ufunc_writer(ufunc)
    return _WRITERS[ufunc]


def _target(tr: Tracer, t: Tensor, value: Any, what: str) -> Any:
    """The Var a write into ``t`` is recorded on, or None when it is not recorded (a constant
    written into a tensor made inside the function); raises where the write is refused."""
    v = tr.var_of(t)
    site = user_site()
    if v is None and (id(t) in tr.loose or id(t) in tr.made):
        # an array or a tensor not made inside from Python data may hold other values at the
        # next call (what the trace computed or was given is among them)
        if tr.holds(value, lambda x: id(x) not in tr.made):
            raise CompileError(
                f"{site}{what} writes values computed from the inputs, or held by an array or a "
                "tensor from outside the function, into a tensor made inside the compiled "
                "function; ag.compile cannot follow it (it would keep the first call's values). "
                "Write it out of place (y = x + v) instead")
        return None
    if v is not None and v.kind == "node":
        raise CompileError(f"{site}{what} on a tensor computed by the compiled function: "
                           "ag.compile does not follow in-place changes of its results; "
                           "write it out of place (y = y + v)")
    if t._requires_grad:
        raise CompileError(f"{site}{what} on a tensor that requires grad inside a compiled "
                           "function: ag.compile follows in-place changes only of tensors that "
                           "need no gradient, such as buffers (optimizers' own updates in "
                           "opt.step() are followed)")
    _check_not_saved(tr, t, site, what)
    return tr.operand(t)


def _check_not_saved(tr: Tracer, t: Tensor, site: str, what: str) -> None:
    """Eager mode would raise at backward() for a saved array changed in place: refuse now."""
    for node in tr.nodes:
        out = node.out.tensor if node.out is not None else None
        fn = getattr(out, "grad_fn", None)
        for s in getattr(fn, "saved_tensors", None) or ():
            if isinstance(s, np.ndarray) and np.may_share_memory(s, t._data):
                raise CompileError(
                    f"{site}{what} changes a tensor that {node.label} saved for its backward "
                    "earlier in the compiled function; eager mode would raise at backward(). "
                    "Make the change after the ops that read it, or out of place")


def _record(tr: Tracer, target: Any, fn: Any, value: Any, kwargs: dict, label: str) -> None:
    node = Node(None, fn, [target, tr.operand(value)],
                {k: tr.parameter(v, label) for k, v in kwargs.items()}, target, label=label,
                writes=True)
    tr.nodes.append(node)


def _following_ufunc(original: Any) -> Any:
    """``Tensor._write`` (``+=``, ``add_``, ``sub_``, ``mul_``, ``div_``) while tracing."""
    def method(self: Tensor, op: str, ufunc: np.ufunc, other: Any) -> Any:
        tr = active()
        if tr is None:
            return original(self, op, ufunc, other)
        target = _target(tr, self, other, f"in-place {op}")
        out = original(self, op, ufunc, other)
        if target is not None:
            _record(tr, target, _writer(ufunc), other, {}, op)
        return out

    return method


def _following_add(original: Any) -> Any:
    """``add_(other, alpha)``: the scaling of a tensor or an array by alpha as a recorded op,
    so that what ``other`` holds is read on every call (as a plain array product it was frozen
    at trace time); a literal (numbers, lists of them) or a tensor made inside the function
    from Python data is scaled as in eager mode: a constant (which may then be written into a
    tensor made inside the function)."""
    def add_(self: Tensor, other: Any, alpha: float = 1.0) -> Any:
        tr = active()
        if tr is None or alpha == 1.0:
            return original(self, other, alpha)
        self._check_inplace("add_", other)  # as eager: before other is replaced
        if _literal(other) or isinstance(other, Tensor) and id(other) in tr.made:
            # scaled as eager scales it: a constant made inside the function
            other = np.asarray(other._data if isinstance(other, Tensor) else other) * alpha
            tr.made[id(other)] = other
        else:
            other = multiply(other, alpha)  # no graph: refused above in grad mode
        return original(self, other, 1.0)

    return add_


def _literal(x: Any) -> bool:
    """A Python or numpy number, or (nested) lists and tuples of them."""
    if isinstance(x, (list, tuple)):
        return all(_literal(e) for e in x)
    return isinstance(x, (int, float, np.generic))


def _following_copy(original: Any) -> Any:
    def copy_(self: Tensor, src: Any) -> Any:
        tr = active()
        if tr is None:
            return original(self, src)
        target = _target(tr, self, src, "copy_")
        out = original(self, src)
        if target is not None:
            _record(tr, target, _copy_into, src, {}, "copy_")
        return out

    return copy_


def _following_setitem(original: Any) -> Any:
    def setitem(self: Tensor, index: Any, value: Any) -> None:
        tr = active()
        if tr is None:
            return original(self, index, value)
        target = _target(tr, self, (value, index), "item assignment")
        original(self, index, value)
        if target is not None:  # the index as numpy sees it (tensors as their arrays)
            _record(tr, target, _set_items, value, {"index": plain_index(index)}, "setitem")
        return None

    return setitem


def patches() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, replacement) for the in-place methods, while tracing."""
    return [(Tensor, "_write", _following_ufunc(Tensor._write)),
            (Tensor, "add_", _following_add(Tensor.add_)),
            (Tensor, "copy_", _following_copy(Tensor.copy_)),
            (Tensor, "__setitem__", _following_setitem(Tensor.__setitem__))]
