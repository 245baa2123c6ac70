"""`Function`: the one way an operation enters the graph, built-in or user-written.

A subclass gives ``forward(ctx, *arrays, **params) -> ndarray`` and ``backward(ctx, grad)``
returning one gradient per forward operand (``None`` where there is none). ``apply`` wraps
tensors, records the node when a graph is wanted, and turns numpy's errors into messages that
name the op and the operand shapes. Gradients may come back in the broadcast shape of the
output: the engine reduces them to each operand's shape (the one place that does it).

Backward rules are written against ``ctx.xp``, an array namespace: numpy in a plain backward,
the differentiable autograd_nn functions under ``create_graph=True``, so that the same rule
gives second derivatives. Under ``create_graph`` a saved array that is an operand's data or the
output's data comes back as that Tensor; any other saved array would be a constant, so a user's
Function that saves a floating intermediate (``x ** 2``) is refused when applied, unless its
backward is marked `once_differentiable` (then differentiating it again raises). A forward must
return one array (several outputs are refused: write one Function per output); one returning
(a view of) its operand's array gets a copy, so in-place checks see the output as its own tensor.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
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

    _user_op: ClassVar[bool] = False  # defined outside autograd_nn: apply checks its contract

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__
        cls._user_op = not cls.__module__.startswith("autograd_nn.")

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
        st = LOCAL.mode
        if st.tracer is not None:  # ag.compile is tracing: it runs the op and records it
            return st.tracer.apply(cls, args, kwargs)
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
            if isinstance(out, (tuple, list)):
                raise TypeError(
                    f"{cls.name}.forward returned a {type(out).__name__}: a Function has one "
                    "output, an ndarray (for several outputs write one Function per output, or "
                    "return them stacked in one array and index the result)"
                )
            raw, out = out, np.asarray(out)
            if ctx.saved_tensors:  # a saved output must stay the output (create_graph maps it)
                ctx.saved_tensors = tuple(out if s is raw else s for s in ctx.saved_tensors)
        if cls._user_op:
            out = _check_user_forward(cls, ctx, arrays, out)
        t = _new(Tensor)
        t._data = out
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


def _check_user_forward(cls: Any, ctx: Any, arrays: list, out: np.ndarray) -> np.ndarray:
    """A user's forward must not return its operand's memory nor save floating intermediates
    (unless its backward is `once_differentiable`). Returns the output (copied if it aliased)."""
    operands = [a for a in arrays if type(a) is _ndarray]
    if any(np.may_share_memory(out, a) for a in operands):
        saved = ctx.saved_tensors
        out, old = out.copy(), out
        if saved:
            ctx.saved_tensors = tuple(out if s is old else s for s in saved)
    if getattr(cls.backward, "once_differentiable", False):
        return out
    for k, s in enumerate(ctx.saved_tensors):
        if (isinstance(s, (np.ndarray, np.floating)) and s.dtype.kind == "f" and s is not out
                and not any(s is a for a in operands)):
            raise TypeError(
                f"{cls.name}.forward saved (argument {k} of save_for_backward, shape "
                f"{np.shape(s)}, dtype {s.dtype}) an array that is neither one of its operands "
                "nor its output: under create_graph it would be a constant, and second "
                "derivatives silently wrong. Save the operands or the output and recompute it "
                "in backward with ctx.xp (keep masks and indices as bool/int arrays or ctx "
                "attributes), or decorate backward with @ag.once_differentiable if it is not "
                "meant to be differentiated again."
            )
    return out


def once_differentiable(backward: Callable) -> Callable:
    """Mark a Function's ``backward`` as not differentiable (it computes in plain numpy).

    First-order passes run it as usual. Under ``create_graph=True`` it runs on plain arrays and
    its gradients are recorded as values that cannot be differentiated again: a second
    derivative through them raises instead of silently being 0 (as PyTorch's decorator).
    Place it under ``@staticmethod``.
    """

    @functools.wraps(backward)
    def wrapper(ctx: Any, grad: Any) -> Any:
        if not isinstance(ctx, GraphCtx):
            return backward(ctx, grad)
        node = ctx._node
        out = backward(node, grad._data if isinstance(grad, Tensor) else grad)
        single = type(out) is not tuple and not isinstance(out, list)
        deps = [grad] + [a for a in node.inputs if isinstance(a, Tensor)]
        wrapped = tuple(
            None if g is None else _NotTwice.apply(np.asarray(g), *deps, op=node.name)
            for g in ((out,) if single else out)
        )
        return wrapped[0] if single else wrapped

    wrapper.once_differentiable = True  # type: ignore[attr-defined]
    return wrapper


class _NotTwice(Function):
    """A gradient computed by a `once_differentiable` backward: its value, tied to what it was
    computed from, with a backward that refuses."""

    name = "once_differentiable"

    @staticmethod
    def forward(ctx: Any, value: Any, *deps: Any, op: str = "") -> Any:
        ctx.op = op
        return value

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        raise RuntimeError(
            f"{ctx.op}.backward is marked @once_differentiable: its gradient cannot be "
            "differentiated again (create_graph=True, hessian, hvp, gradgradcheck)"
        )


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
