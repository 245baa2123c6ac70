"""`Function`: the one way an operation enters the graph, built-in or user-written.

A subclass gives ``forward(ctx, *arrays, **params) -> ndarray`` and ``backward(ctx, grad)``
returning one gradient per forward operand (``None`` where there is none). ``apply`` wraps
tensors, records the node when a graph is wanted, and turns numpy's errors into messages that
name the op and the operand shapes. Gradients may come back in the broadcast shape of the
output: the engine reduces them to each operand's shape (the one place that does it).

Backward rules are written against ``ctx.xp``, an array namespace: numpy in a plain backward,
the differentiable autograd_nn functions under ``create_graph=True``, so that the same rule
gives second derivatives. Under ``create_graph`` a saved array that is an operand's data or the
output's data comes back as that Tensor; any other saved array is a constant (right for masks
and indices; a saved intermediate that depends on the inputs would lose its derivative, so
rules save operands and outputs only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .errors import same_kind
from .mode import CLOCK, LOCAL

if TYPE_CHECKING:
    from .tensor import Tensor

_BAD_KINDS = "OSUVMmc"
_new = object.__new__
_ndarray = np.ndarray  # object, str, bytes, void, datetime, timedelta, complex


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

    # The stores every recorded op makes are slots; the rest default here (an op's own
    # attributes, e.g. ``ctx.axes``, go to the instance __dict__).
    __slots__ = ("inputs", "needs_input_grad", "saved_tensors", "_tick", "__dict__")

    name: ClassVar[str] = ""
    xp: ClassVar[Any] = None  # numpy's namespace, set once the ops are defined
    is_view: ClassVar[bool] = False  # output may share operand 0's memory (and version counter)
    kwargs: dict = {}  # the op's keyword parameters (read-only)
    scope: tuple = ()  # the modules whose forward made this op, outermost first
    _anomaly: Any = None

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
        arrays = []
        mask = 0  # bit i set: operand i requires grad
        bit = 1
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if a._requires_grad:
                    mask |= bit
            else:
                arrays.append(a if type(a) is float or type(a) is int else as_operand(cls.name, a))
            bit <<= 1
        ctx = _new(cls)
        ctx.saved_tensors = ()
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except (ValueError, IndexError, TypeError) as e:
            raise _op_error(cls.name, e, arrays) from e
        if type(out) is not _ndarray:  # numpy gives scalars for 0-d results
            raw, out = out, np.asarray(out)
            if ctx.saved_tensors:  # a saved output must stay the output (create_graph maps it)
                ctx.saved_tensors = tuple(out if s is raw else s for s in ctx.saved_tensors)
        t = _new(Tensor)
        t._data = out
        st = LOCAL.mode
        if st.anomaly:
            from .anomaly import check_forward

            check_forward(ctx, out, arrays)
        kind = out.dtype.kind
        if mask and st.grad_enabled and kind == "f":
            ctx.inputs = args
            n = len(args)
            ctx.needs_input_grad = _NEEDS.get(mask << 4 | n) or _needs(mask, n)
            ctx._tick = CLOCK[0]
            if kwargs:
                ctx.kwargs = kwargs
            if st.scope:
                ctx.scope = st.scope
            t._requires_grad = True
            t.grad_fn = ctx
        else:
            if kind in _BAD_KINDS:
                raise TypeError(f"{cls.name}: forward returned data of dtype {out.dtype}; tensors "
                                "hold bool, integer or floating data")
            t._requires_grad = False
            t.grad_fn = None
        if cls.is_view and isinstance(args[0], Tensor) and np.may_share_memory(out, arrays[0]):
            t._vc = args[0]._version_counter()
        return t

    def __repr__(self) -> str:
        return f"<{self.name}>"


_NEEDS: dict = {}  # mask << 4 | n -> the n bools the mask encodes; shared: ops allocate none


def _needs(mask: int, n: int) -> tuple:
    t = tuple(bool(mask >> i & 1) for i in range(n))
    if n < 16:
        _NEEDS[mask << 4 | n] = t
    return t


def as_operand(op: str, a: Any) -> Any:
    """A non-Tensor operand as numpy will see it: arrays and Python numbers pass unchanged."""
    if isinstance(a, np.ndarray):
        if a.dtype.kind in _BAD_KINDS:
            raise TypeError(f"{op}: unsupported operand dtype {a.dtype}; use real numeric data")
        return a
    if isinstance(a, (bool, int, float, np.number, np.bool_)):
        if isinstance(a, np.generic) and a.dtype.kind in _BAD_KINDS:
            raise TypeError(f"{op}: unsupported operand {a!r}; use real numeric data")
        return a
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


def describe_operands(arrays: Any) -> str:
    parts = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            parts.append(f"{tuple(a.shape)} {a.dtype}")
        else:
            parts.append(repr(a))
    return ", ".join(parts)


def _op_error(op: str, e: Exception, arrays: Any) -> Exception:
    """numpy's error, prefixed with the op's name and the operands, of the same kind."""
    text = str(e)
    if not text.startswith(f"{op}:"):
        text = f"{op}: {text}"
    return same_kind(e, f"{text} (operands: {describe_operands(arrays)})")


class GraphCtx:
    """What a backward rule sees under ``create_graph=True``: saved operands and output as
    Tensors, ``xp`` the differentiable namespace; everything else is read from the node."""

    xp: ClassVar[Any] = None  # set to the tensor namespace once the ops are defined

    def __init__(self, node: Function, out: Tensor) -> None:
        self._node = node
        tensors = [a for a in node.inputs if isinstance(a, Tensor)]
        self.saved_tensors = tuple(_lift(s, tensors, out) for s in node.saved_tensors)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._node, attr)


def _lift(s: Any, tensors: list, out: Tensor) -> Any:
    if isinstance(s, np.ndarray):
        if s is out._data:
            return out
        for t in tensors:
            if s is t._data:
                return t
    return s


from .tensor import Tensor, holds_graph  # noqa: E402  (Tensor's methods call the ops, which subclass Function)
