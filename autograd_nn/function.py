"""`Function`: the one way an operation enters the graph, built-in or user-written.

A subclass gives ``forward(ctx, *arrays, **params) -> ndarray`` and ``backward(ctx, grad)``
returning one gradient per forward operand (``None`` where there is none). ``apply`` unwraps
tensors, records the node when a graph is wanted, and turns numpy's errors into messages that
name the op and the operand shapes. Gradients may come back in the broadcast shape of the
output: the engine reduces them to each operand's shape (the one place that does it).

Backward rules are written against ``ctx.xp``, an array namespace: numpy in a plain backward,
the differentiable autograd_nn functions under ``create_graph=True``, so that the same rule
gives second derivatives. Under ``create_graph`` a saved array that is an operand's data or the
output's data comes back as that Tensor; any other saved array is a constant (right for masks
and indices; a saved intermediate that depends on the inputs would lose its derivative, so
rules save operands and outputs only).

This module imports no `Tensor`: tensor.py imports the ops, which import this, and hands its
class over once through links.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .anomaly import check_forward
from .errors import same_kind
from .links import LINKS
from .mode import LOCAL
from .registry import PLAIN
from .versions import MUTATIONS

if TYPE_CHECKING:
    from .tensor import Tensor

_BAD_KINDS = "OSUVMmc"  # object, str, bytes, void, datetime, timedelta, complex


class Function:
    """Base class of every operation: a node of the graph and the ``ctx`` its rules receive.

    Subclass it to add an op with a hand-written derivative::

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2

        y = Cube.apply(t)
    """

    # What every recorded op stores is a slot; an op's own attributes (``ctx.axes``) go to the
    # instance __dict__.
    __slots__ = ("inputs", "needs_input_grad", "saved_tensors", "recorded_at", "kwargs", "scope",
                 "__dict__")

    name: ClassVar[str] = ""
    xp: ClassVar[SimpleNamespace] = PLAIN  # the array namespace of a plain backward
    is_view: ClassVar[bool] = False  # output may share operand 0's memory (and version counter)
    inputs: tuple[Any, ...]  # the operands as given to apply (Tensors and constants)
    needs_input_grad: tuple[bool, ...]  # per operand: does it require grad
    saved_tensors: tuple[Any, ...] | None  # None once backward released them
    recorded_at: int  # the mutation clock when the node was recorded (versions.py)
    kwargs: dict[str, Any]  # the op's keyword parameters (read-only)
    scope: tuple[Any, ...]  # the modules whose forward made this op, outermost first
    _anomaly: Any = None  # anomaly mode's record: (creation site, saved arrays' checksums)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward (released after it unless ``retain_graph=True``)."""
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{ctx.name} defines no forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        raise NotImplementedError(
            f"{ctx.name} defines no backward(ctx, grad): give one returning a gradient per operand"
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run ``forward`` on the operands' arrays and return the result as a Tensor."""
        tensor = LINKS.tensor
        arrays, needs = [], []
        for a in args:  # one loop, not two comprehensions: each is a call on Python 3.11
            if isinstance(a, tensor):
                arrays.append(a._data)
                needs.append(a._requires_grad)
            else:
                arrays.append(unwrap_operand(cls.name, a))
                needs.append(False)
        ctx = object.__new__(cls)
        ctx.saved_tensors = ()
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except (ValueError, IndexError, TypeError) as e:
            raise _op_error(cls.name, e, arrays) from e
        if type(out) is not np.ndarray:  # numpy gives scalars for 0-d results
            out = ctx._as_output(out)
        mode = LOCAL.mode
        if mode.anomaly:
            check_forward(ctx, out, arrays)
        t = object.__new__(tensor)
        t._data = out
        if True in needs and mode.grad_enabled and out.dtype.kind == "f":
            ctx.inputs, ctx.needs_input_grad, ctx.recorded_at = args, tuple(needs), MUTATIONS.now
            ctx.kwargs, ctx.scope = kwargs, mode.scope
            t._requires_grad, t.grad_fn = True, ctx
        elif out.dtype.kind in _BAD_KINDS:
            raise TypeError(f"{cls.name}: forward returned data of dtype {out.dtype}; tensors "
                            "hold bool, integer or floating data")
        else:
            t._requires_grad, t.grad_fn = False, None
        if cls.is_view and isinstance(args[0], tensor) and np.may_share_memory(out, arrays[0]):
            t._versions = args[0]._version_counter()
        return t

    def _as_output(self, raw: Any) -> np.ndarray:
        """A forward's numpy scalar as a 0-d array; a saved output must stay the output
        (create_graph maps it to the result Tensor)."""
        out = np.asarray(raw)
        if self.saved_tensors:
            self.saved_tensors = tuple(out if s is raw else s for s in self.saved_tensors)
        return out

    def __repr__(self) -> str:
        return f"<{self.name}>"


# ---- operands ---------------------------------------------------------------------------------
def is_tensor(a: object) -> bool:
    return isinstance(a, LINKS.tensor)


def data_of(a: Any) -> Any:
    """A Tensor's array; anything else unchanged."""
    return a._data if isinstance(a, LINKS.tensor) else a


def as_tensor(a: Any) -> Tensor:
    """``a`` if it is a Tensor, else a new leaf holding a copy of it (``Tensor(a)``)."""
    return a if isinstance(a, LINKS.tensor) else LINKS.tensor(a)


def constant(a: Any) -> Tensor:
    """A Tensor outside the graph holding ``a`` (an array, not copied, or a number)."""
    return LINKS.tensor._from_op(np.asarray(a), None)


def holds_graph(seq: Iterable[Any]) -> bool:
    """True when a (nested) list or tuple holds a tensor that requires grad."""
    stack = [seq]
    while stack:
        for e in stack.pop():
            if isinstance(e, LINKS.tensor) and e._requires_grad:
                return True
            if isinstance(e, (list, tuple)):
                stack.append(e)
    return False


def unwrap_operand(op: str, a: Any) -> Any:
    """An operand as its forward sees it: a Tensor's array; Python numbers and checked arrays
    unchanged; anything else converted by numpy, refused when it is not numeric."""
    if isinstance(a, LINKS.tensor):
        return a._data
    if type(a) is float or type(a) is int:
        return a
    if isinstance(a, np.ndarray):
        if a.dtype.kind in _BAD_KINDS:
            raise TypeError(f"{op}: unsupported operand dtype {a.dtype}; use real numeric data")
        return a
    if isinstance(a, (bool, np.number, np.bool_)):
        if isinstance(a, np.generic) and a.dtype.kind in _BAD_KINDS:
            raise TypeError(f"{op}: unsupported operand {a!r}; use real numeric data")
        return a
    return _converted_operand(op, a)


def _converted_operand(op: str, a: Any) -> np.ndarray:
    if isinstance(a, (list, tuple)) and holds_graph(a):
        raise TypeError(f"{op}: a list of Tensors that require grad is not an operand (numpy "
                        "would drop their graph); combine them with stack()")
    try:
        arr = np.asarray(a)
    except Exception as e:  # pragma: no cover - numpy's message is kept
        raise TypeError(f"{op}: cannot use {type(a).__name__} as an operand: {e}") from e
    if arr.dtype.kind in _BAD_KINDS:
        raise TypeError(
            f"{op}: unsupported operand of type {type(a).__name__} (dtype {arr.dtype}); "
            "use numbers, numpy arrays or Tensors"
        )
    return arr


def describe_operands(arrays: Sequence[Any]) -> str:
    return ", ".join(f"{tuple(a.shape)} {a.dtype}" if isinstance(a, np.ndarray) else repr(a)
                     for a in arrays)


def _op_error(op: str, e: Exception, arrays: Sequence[Any]) -> Exception:
    """numpy's error, prefixed with the op's name and the operands, of the same kind."""
    text = str(e)
    if not text.startswith(f"{op}:"):
        text = f"{op}: {text}"
    return same_kind(e, f"{text} (operands: {describe_operands(arrays)})")
