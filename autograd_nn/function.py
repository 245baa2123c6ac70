"""`Function`: the one way an operation enters the graph, built-in or user-written.

A subclass gives ``forward(ctx, *arrays, **params) -> ndarray`` and ``backward(ctx, grad)``
returning one gradient per forward operand (``None`` where there is none). ``apply`` unwraps
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

This module imports no `Tensor`: tensor.py imports the ops, which import this, and hands its
class over once through links.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType, SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeAlias

import numpy as np

from .anomaly import check_forward
from .errors import same_kind
from .links import LINKS
from .mode import LOCAL
from .registry import PLAIN
from .versions import MUTATIONS

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from .passes import GraphCtx
    from .tensor import Tensor
    from .types import TensorLike

# one global, not object.__new__ looked up on every op (an unspecialised lookup on Python 3.11):
# -1.2% instructions on W3's forward + backward (callgrind, 10,000-op chain)
new_object = object.__new__
_BAD_KINDS = "OSUVMmc"  # object, str, bytes, void, datetime, timedelta, complex
NO_KWARGS: Mapping[str, object] = MappingProxyType({})  # the kwargs of a node given none

#: what a backward rule may return for one operand: a gradient (any shape that broadcasts to the
#: operand's, any real dtype: the engine fits it), a number, or None (no gradient)
RuleGrad: TypeAlias = "np.ndarray | Tensor | np.generic | float | None"
#: an operand as a forward receives it: an array or a number (`unwrap_operand`)
Operand: TypeAlias = "np.ndarray | np.generic | float"
#: a backward rule: ``backward(ctx, grad)`` with ctx the node (plain pass) or a GraphCtx
Rule: TypeAlias = ("Callable[[Function | GraphCtx, np.ndarray | Tensor], "
                   "RuleGrad | tuple[RuleGrad, ...] | list[RuleGrad]]")


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
    is_view: ClassVar[bool] = False  # output may share operand 0's memory (`ViewFunction`)
    # The operands as given to apply: a Tensor where needs_input_grad is True (the engine reads
    # its ``_data`` and ``grad_fn``), otherwise a Tensor or a constant of any kind (a number, an
    # array, an index), or engine.RELEASED_OPERAND after release; a type cannot tie the two
    # tuples together, hence Any.
    inputs: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]  # per operand: does it require grad
    saved_tensors: tuple[Any, ...] | None  # what forward saved (any kind: rules unpack it)
    recorded_at: int  # the mutation clock when the node was recorded (versions.py)
    kwargs: Mapping[str, object]  # the op's keyword parameters (read-only)
    scope: tuple[object, ...]  # the nn.Modules whose forward made this op, outermost first
    # anomaly mode's record: (creation site, [(saved index, checksum)])
    _anomaly: tuple[str, list[tuple[int, int]]] | None = None
    _user_op: ClassVar[bool] = False  # defined outside autograd_nn: apply checks its contract

    def __init_subclass__(cls, **kw: object) -> None:
        super().__init_subclass__(**kw)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__
        cls._user_op = not cls.__module__.startswith("autograd_nn.")

    def save_for_backward(self, *arrays: object) -> None:
        """Keep arrays for backward (released after it unless ``retain_graph=True``)."""
        self.saved_tensors = arrays

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError(f"{ctx.name} defines no forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Function | GraphCtx, grad: np.ndarray | Tensor
                 ) -> RuleGrad | tuple[RuleGrad, ...] | list[RuleGrad]:
        raise NotImplementedError(
            f"{ctx.name} defines no backward(ctx, grad): give one returning a gradient per operand"
        )

    @classmethod
    def apply(cls, *args: TensorLike, **kwargs: object) -> Tensor:
        """Run ``forward`` on the operands' arrays and return the result as a Tensor."""
        mode = LOCAL.mode
        if mode.tracer is not None:  # ag.compile is tracing: it runs the op and records it
            return mode.tracer.apply(cls, args, kwargs)
        tensor = LINKS.tensor
        arrays: list[Operand] = []
        needs: list[bool] = []
        user_array = False
        for a in args:  # one loop, not two comprehensions: each is a call on Python 3.11
            if isinstance(a, tensor):
                arrays.append(a._data)
                needs.append(a._requires_grad)
            elif type(a) is float:  # a constant as it is, no call: x * 1.0001 -5% instructions
                arrays.append(a)
                needs.append(False)
            else:
                arrays.append(unwrap_operand(cls.name, a))
                needs.append(False)
                user_array = user_array or isinstance(a, np.ndarray)
        ctx = new_object(cls)
        ctx.saved_tensors = ()
        try:
            # no **{} (a new dict) when there are no kwargs: -0.4% instructions on W3
            out = cls.forward(ctx, *arrays, **kwargs) if kwargs else cls.forward(ctx, *arrays)
        except (ValueError, IndexError, TypeError) as e:
            raise _op_error(cls.name, e, arrays) from e
        if type(out) is not np.ndarray or cls._user_op or mode.anomaly:  # the rare cases
            out = ctx._checked_output(out, arrays, mode.anomaly)
        t = new_object(tensor)
        t._data = out
        if True in needs and mode.grad_enabled and out.dtype.kind == "f":
            ctx.inputs, ctx.recorded_at = args, MUTATIONS.now
            ctx.needs_input_grad = tuple(needs)
            # one shared empty mapping, no empty dict per node: W3's gc runs 68 -> 42 a step
            ctx.kwargs, ctx.scope = kwargs or NO_KWARGS, mode.scope
            t._requires_grad, t.grad_fn = True, ctx
            if user_array:
                ctx.saved_tensors = _private_copies(ctx.saved_tensors, args)
        elif out.dtype.kind in _BAD_KINDS:
            raise TypeError(f"{cls.name}: forward returned data of dtype {out.dtype}; tensors "
                            "hold bool, integer or floating data")
        else:
            t._requires_grad, t.grad_fn = False, None
        return t

    def _checked_output(self, raw: object, arrays: list[Operand], anomaly: bool) -> np.ndarray:
        """`_as_output`, then anomaly mode's check of the output (`check_forward`)."""
        out = self._as_output(raw, arrays) if type(raw) is not np.ndarray or self._user_op \
            else raw
        if anomaly:
            check_forward(self, out, arrays)
        return out

    def _as_output(self, raw: object, arrays: list[Operand]) -> np.ndarray:
        """A forward's numpy scalar as a 0-d array (a saved output must stay the output:
        create_graph maps it to the result Tensor); a user's forward checked against the
        contract (`_check_user_forward`)."""
        if type(raw) is np.ndarray:
            return _check_user_forward(type(self), self, arrays, raw)
        if isinstance(raw, (tuple, list)):
            raise TypeError(
                f"{self.name}.forward returned a {type(raw).__name__}: a Function has one "
                "output, an ndarray (for several outputs write one Function per output, or "
                "return them stacked in one array and index the result)"
            )
        out = np.asarray(raw)
        if self.saved_tensors:
            self.saved_tensors = tuple(out if s is raw else s for s in self.saved_tensors)
        return _check_user_forward(type(self), self, arrays, out) if self._user_op else out

    def __repr__(self) -> str:
        return f"<{self.name}>"


class ViewFunction(Function):
    """An op whose output may be a view of operand 0's memory (reshape, transpose, basic
    indexing): the output then shares the operand's version counter, so an in-place change
    through either one is seen by every node that saved the other. (Its own ``apply``, so the
    other ops' apply asks nothing of it.)"""

    is_view = True

    @classmethod
    def apply(cls, *args: TensorLike, **kwargs: object) -> Tensor:
        t = super().apply(*args, **kwargs)
        src = args[0]
        if LOCAL.mode.tracer is None and isinstance(src, LINKS.tensor):
            out, data = t._data, src._data
            # may_share_memory (0.5 µs) is asked only when out does not own its memory
            if (out.base is not None or out is data) and np.may_share_memory(out, data):
                t._versions = src._version_counter()
        return t


def _private_copies(saved: tuple[object, ...], args: tuple[object, ...]) -> tuple[object, ...]:
    """Saved arrays with the caller's own ndarray operands replaced by copies: no version
    counter watches a plain ndarray, so a later write into it (a reused batch buffer) would
    change the gradient silently. Only saved operands are copied, once per recorded op."""
    own = [a for a in args if isinstance(a, np.ndarray)]
    if not saved:
        return saved
    return tuple(next((a.copy() for a in own if s is a), s) for s in saved)


def _check_user_forward(cls: type[Function], ctx: Function, arrays: list[Operand],
                        out: np.ndarray) -> np.ndarray:
    """A user's forward must not return its operand's memory nor save floating intermediates
    (unless its backward is `once_differentiable`). Returns the output (copied if it aliased)."""
    operands = [a for a in arrays if type(a) is np.ndarray]
    saved = ctx.saved_tensors or ()
    if any(np.may_share_memory(out, a) for a in operands):
        out, old = out.copy(), out
        saved = ctx.saved_tensors = tuple(out if s is old else s for s in saved)
    if getattr(cls.backward, "once_differentiable", False):
        return out
    for k, s in enumerate(saved):
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


def once_differentiable(backward: Rule) -> Rule:
    """Mark a Function's ``backward`` as not differentiable (it computes in plain numpy).

    First-order passes run it as usual. Under ``create_graph=True`` it runs on plain arrays and
    its gradients are recorded as values that cannot be differentiated again: a second
    derivative through them raises instead of silently being 0 (as PyTorch's decorator).
    Place it under ``@staticmethod``.
    """

    @functools.wraps(backward)
    def wrapper(ctx: Function | GraphCtx, grad: np.ndarray | Tensor
                ) -> RuleGrad | tuple[RuleGrad, ...] | list[RuleGrad]:
        if isinstance(ctx, Function):  # a plain pass: the node itself is the ctx
            return backward(ctx, grad)
        node = ctx._node  # create_graph: the engine's GraphCtx around the node
        out = backward(node, data_of(grad))
        grads = out if isinstance(out, (tuple, list)) else (out,)
        deps = [grad] + [a for a in node.inputs if is_tensor(a)]
        wrapped = tuple(
            None if g is None else _NotTwice.apply(np.asarray(g), *deps, op=node.name)
            for g in grads
        )
        return wrapped if isinstance(out, (tuple, list)) else wrapped[0]

    wrapper.once_differentiable = True  # type: ignore[attr-defined]
    return wrapper


class _NotTwice(Function):
    """A gradient computed by a `once_differentiable` backward: its value, tied to what it was
    computed from, with a backward that refuses."""

    name = "once_differentiable"

    @staticmethod
    def forward(ctx: Any, value: np.ndarray, *deps: object, op: str = "") -> np.ndarray:
        ctx.op = op
        return value

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray | Tensor) -> NoReturn:  # ctx.op: an op's own
        raise RuntimeError(
            f"{ctx.op}.backward is marked @once_differentiable: its gradient cannot be "
            "differentiated again (create_graph=True, hessian, hvp, gradgradcheck)"
        )


# ---- operands ---------------------------------------------------------------------------------
def is_tensor(a: object) -> bool:
    return isinstance(a, LINKS.tensor)


def data_of(a: Any) -> Any:
    """A Tensor's array; anything else unchanged."""
    return a._data if isinstance(a, LINKS.tensor) else a


def as_tensor(a: TensorLike) -> Tensor:
    """``a`` if it is a Tensor, else a new leaf holding a copy of it (``Tensor(a)``)."""
    return a if isinstance(a, LINKS.tensor) else LINKS.tensor(a)


def constant(a: ArrayLike) -> Tensor:
    """A Tensor outside the graph holding ``a`` (an array, not copied, or a number)."""
    return LINKS.tensor._from_op(np.asarray(a), None)


def holds_graph(seq: Iterable[object]) -> bool:
    """True when a (nested) list or tuple holds a tensor that requires grad."""
    stack = [seq]
    while stack:
        for e in stack.pop():
            if isinstance(e, LINKS.tensor) and e._requires_grad:
                return True
            if isinstance(e, (list, tuple)):
                stack.append(e)
    return False


def unwrap_operand(op: str, a: TensorLike) -> Operand:
    """An operand as its forward sees it: a Tensor's array; Python numbers and checked arrays
    unchanged; anything else converted by numpy, refused when it is not numeric."""
    if type(a) is float or type(a) is int:  # first: a learning rate, a constant
        return a
    if isinstance(a, LINKS.tensor):
        return a._data
    if isinstance(a, np.ndarray):
        if a.dtype.kind in _BAD_KINDS:
            raise TypeError(f"{op}: unsupported operand dtype {a.dtype}; use real numeric data")
        return a
    if isinstance(a, (bool, np.number, np.bool_)):
        if isinstance(a, np.generic) and a.dtype.kind in _BAD_KINDS:
            raise TypeError(f"{op}: unsupported operand {a!r}; use real numeric data")
        return a
    return _converted_operand(op, a)


def _converted_operand(op: str, a: ArrayLike) -> np.ndarray:
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


def describe_operands(arrays: Sequence[object]) -> str:
    return ", ".join(f"{tuple(a.shape)} {a.dtype}" if isinstance(a, np.ndarray) else repr(a)
                     for a in arrays)


def _op_error(op: str, e: Exception, arrays: Sequence[object]) -> Exception:
    """numpy's error, prefixed with the op's name and the operands, of the same kind."""
    text = str(e)
    if not text.startswith(f"{op}:"):
        text = f"{op}: {text}"
    return same_kind(e, f"{text} (operands: {describe_operands(arrays)})")
