"""`Tensor`: a numpy array that remembers the operation that made it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .mode import CLOCK, STATE

_ALLOWED_KINDS = "biuf"
_HOOK_KEYS = itertools.count()
_new = object.__new__


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        arr = np.array(data._data, dtype=dtype)
    elif isinstance(data, np.ndarray):
        arr = np.array(data, dtype=dtype)
    else:
        if isinstance(data, (list, tuple)) and _holds_graph(data):
            raise TypeError(
                "Tensor: the list holds tensors that require grad; combine them with stack() "
                "or concatenate() to keep their graph"
            )
        try:
            arr = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"Tensor: cannot make a numeric array from {type(data).__name__}: {e}"
            ) from e
        if dtype is None and arr.dtype.kind in "iu":
            arr = arr.astype(np.float64)  # Python numbers and lists: float64, numpy's float
    if arr.dtype.kind not in _ALLOWED_KINDS:
        raise TypeError(
            f"Tensor: unsupported dtype {arr.dtype}; tensors hold bool, integer or floating data"
        )
    return arr


def _holds_graph(seq: Any) -> bool:
    stack = [seq]
    while stack:
        for e in stack.pop():
            if isinstance(e, Tensor) and e._requires_grad:
                return True
            if isinstance(e, (list, tuple)):
                stack.append(e)
    return False


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook away."""

    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class Tensor:
    """An n-dimensional array with an optional gradient and the graph that produced it.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data``. Python numbers and lists
    become float64; numpy arrays keep their dtype. Only floating tensors can require grad.
    """

    # Hot attributes are slots; rarely set ones default at class level and live in the
    # instance __dict__ only once assigned, so making a tensor costs three stores.
    __slots__ = ("_data", "_requires_grad", "grad_fn", "__dict__", "__weakref__")
    __hash__ = object.__hash__  # identity: == is elementwise
    grad: Tensor | None = None
    name: str | None = None
    _retains_grad = False
    _hooks: dict | None = None
    _vc: list | None = None  # [version, clock at last change], shared with views of the data

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self._data = _to_array(data, dtype)
        self._requires_grad = False
        self.grad_fn = None
        if name is not None:
            self.name = name
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _from_op(cls, data: np.ndarray, grad_fn: Any) -> Tensor:
        """Wrap an array without copying (the engine's constructor)."""
        t = _new(Tensor)
        t._data = data
        t._requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        return t

    # ---- attributes -------------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = _to_array(value, None) if not isinstance(value, np.ndarray) else value
        if self._requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"data of dtype {self._data.dtype} cannot require grad")

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be changed on leaf tensors; use .detach() to get a leaf"
            )
        if value and self._data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require grad, got dtype {self._data.dtype}; "
                "convert first, e.g. Tensor(x, dtype=np.float64, requires_grad=True)"
            )
        self._requires_grad = value

    @property
    def is_leaf(self) -> bool:
        """True unless the tensor was made by a recorded op."""
        return self.grad_fn is None

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def T(self) -> Tensor:
        return transpose(self)

    @property
    def version(self) -> int:
        """How many in-place changes were made to this tensor's data through the API."""
        return 0 if self._vc is None else self._vc[0]

    def _version_counter(self) -> list:
        if self._vc is None:
            self._vc = [0, 0]
        return self._vc

    def _bump_version(self) -> None:
        """Record an in-place change of ``data`` (optimizers and in-place ops call this)."""
        CLOCK[0] += 1
        vc = self._version_counter()
        vc[0] += 1
        vc[1] = CLOCK[0]

    # ---- conversion -------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared)."""
        return self._data

    def item(self) -> Any:
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __bool__(self) -> bool:
        return bool(self._data)

    def __float__(self) -> float:
        return float(self._data)

    def __int__(self) -> int:
        return int(self._data)

    def __format__(self, spec: str) -> str:
        if spec and self._data.size == 1:
            return format(self._data.item(), spec)
        return format(str(self), spec)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = f", dtype={self._data.dtype}"
        if self.name:
            extra += f", name={self.name!r}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- graph ------------------------------------------------------------------------------
    def detach(self) -> Tensor:
        """A leaf sharing this tensor's data, cut from the graph."""
        t = Tensor._from_op(self._data, None)
        t._vc = self._version_counter()
        return t

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = self.grad_fn is not None

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self._requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = {}
        key = next(_HOOK_KEYS)
        self._hooks[key] = hook
        return RemovableHandle(self._hooks, key)

    def backward(self, grad: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (reverse mode).

        ``grad`` is the gradient of some scalar with respect to ``self`` (needed unless ``self``
        has one element). The graph's saved arrays are released unless ``retain_graph``;
        ``create_graph`` records the backward pass so the gradients can be differentiated.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: nothing recorded it. Create "
                "the inputs with requires_grad=True (and not under no_grad()) first."
            )
        seed = seed_for(self, grad, create_graph, "backward()")
        retain = create_graph if retain_graph is None else retain_graph
        engine.run_backward([self], [seed], retain, create_graph)

    # ---- in-place changes -------------------------------------------------------------------
    def _check_inplace(self, op: str, other: Any = None) -> None:
        other_rg = isinstance(other, Tensor) and other._requires_grad
        if STATE.grad_enabled and (self._requires_grad or other_rg):
            raise RuntimeError(
                f"in-place {op} on a tensor that requires grad (or with an operand that does) "
                "would corrupt the graph. Update parameters inside `with no_grad():`, or write "
                "the operation out of place (x = x + y)."
            )

    def _inplace(self, op: str, ufunc: Any, other: Any) -> Tensor:
        self._check_inplace(op, other)
        value = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, value, out=self._data)
        except (TypeError, ValueError) as e:
            raise type(e)(f"in-place {op} on shape {self.shape} {self.dtype}: {e}") from e
        self._bump_version()
        return self

    def _augmented(self, op: str, ufunc: Any, other: Any, fallback: Callable) -> Tensor:
        other_rg = isinstance(other, Tensor) and other._requires_grad
        if STATE.grad_enabled and (self._requires_grad or other_rg):
            if self.grad_fn is None and self._requires_grad:
                self._check_inplace(op, other)
            return fallback(self, other)  # inside a graph, x += y means x = x + y
        return self._inplace(op, ufunc, other)

    def __iadd__(self, other: Any) -> Tensor:
        return self._augmented("+=", np.add, other, add)

    def __isub__(self, other: Any) -> Tensor:
        return self._augmented("-=", np.subtract, other, subtract)

    def __imul__(self, other: Any) -> Tensor:
        return self._augmented("*=", np.multiply, other, multiply)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._augmented("/=", np.divide, other, divide)

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        """In place ``self += alpha * other``."""
        if alpha != 1.0:
            other = (other._data if isinstance(other, Tensor) else np.asarray(other)) * alpha
        return self._inplace("add_", np.add, other)

    def sub_(self, other: Any) -> Tensor:
        return self._inplace("sub_", np.subtract, other)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace("mul_", np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        return self._inplace("div_", np.divide, other)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape) into this tensor's data."""
        self._check_inplace("copy_", src)
        value = src._data if isinstance(src, Tensor) else src
        try:
            np.copyto(self._data, value)
        except (TypeError, ValueError) as e:
            raise type(e)(f"copy_ into shape {self.shape} {self.dtype}: {e}") from e
        self._bump_version()
        return self

    def fill_(self, value: float) -> Tensor:
        return self.copy_(value)

    def zero_(self) -> Tensor:
        return self.copy_(0)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("item assignment", value)
        value = value._data if isinstance(value, Tensor) else value
        try:
            self._data[_plain_index(index)] = value
        except (TypeError, ValueError, IndexError) as e:
            raise type(e)(f"item assignment on shape {self.shape}: {e}") from e
        self._bump_version()

    # ---- operators --------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return Div.apply(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return Pow.apply(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return Pow.apply(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return Abs.apply(self)

    def __getitem__(self, index: Any) -> Tensor:
        return getitem(self, index)

    def __lt__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return _compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.not_equal, self, other)

    def __and__(self, other: Any) -> Tensor:
        return _compare(np.bitwise_and, self, other)

    def __rand__(self, other: Any) -> Tensor:
        return _compare(np.bitwise_and, other, self)

    def __or__(self, other: Any) -> Tensor:
        return _compare(np.bitwise_or, self, other)

    def __ror__(self, other: Any) -> Tensor:
        return _compare(np.bitwise_or, other, self)

    def __xor__(self, other: Any) -> Tensor:
        return _compare(np.bitwise_xor, self, other)

    def __invert__(self) -> Tensor:
        return _constant(np.invert(self._data))

    # ---- numpy interoperability -------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return array_function(func, args, kwargs)

    # ---- methods with numpy's names ---------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False, dtype: Any = None,
            out: Any = None) -> Tensor:
        _no_out("sum", dtype, out)
        return sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False, dtype: Any = None,
             out: Any = None) -> Tensor:
        _no_out("mean", dtype, out)
        return mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False, out: Any = None) -> Tensor:
        _no_out("max", None, out)
        return max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False, out: Any = None) -> Tensor:
        _no_out("min", None, out)
        return min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False, dtype: Any = None,
             out: Any = None) -> Tensor:
        _no_out("prod", dtype, out)
        return prod(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False, dtype: Any = None,
            out: Any = None) -> Tensor:
        _no_out("var", dtype, out)
        return var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False, dtype: Any = None,
            out: Any = None) -> Tensor:
        _no_out("std", dtype, out)
        return std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return logsumexp(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return softmax(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return log_softmax(self, axis=axis)

    def argmax(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _constant(np.argmax(self._data, axis=axis, keepdims=keepdims))

    def argmin(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _constant(np.argmin(self._data, axis=axis, keepdims=keepdims))

    def exp(self) -> Tensor:
        return Exp.apply(self)

    def log(self) -> Tensor:
        return Log.apply(self)

    def sqrt(self) -> Tensor:
        return Sqrt.apply(self)

    def abs(self) -> Tensor:
        return Abs.apply(self)

    def sin(self) -> Tensor:
        return Sin.apply(self)

    def cos(self) -> Tensor:
        return Cos.apply(self)

    def tanh(self) -> Tensor:
        return Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return Relu.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return leaky_relu(self, negative_slope)

    def softplus(self) -> Tensor:
        return Softplus.apply(self)

    def clip(self, a_min: Any = None, a_max: Any = None) -> Tensor:
        return clip(self, a_min, a_max)

    def reshape(self, *shape: Any) -> Tensor:
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return transpose(self, axes or None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return swapaxes(self, axis1, axis2)

    def squeeze(self, axis: Any = None) -> Tensor:
        return squeeze(self, axis)

    def flatten(self) -> Tensor:
        return flatten(self)

    def ravel(self) -> Tensor:
        return flatten(self)

    def astype(self, dtype: Any) -> Tensor:
        return astype(self, dtype)


def _constant(a: Any) -> Tensor:
    return Tensor._from_op(np.asarray(a), None)


def _no_out(op: str, dtype: Any, out: Any) -> None:
    if out is not None or dtype is not None:
        raise TypeError(f"{op}: the out= and dtype= arguments are not supported on Tensors")


def _plain_index(index: Any) -> Any:
    """An index with Tensors replaced by their arrays (indices never carry gradients)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list) and any(isinstance(i, Tensor) for i in index):
        return [i._data if isinstance(i, Tensor) else i for i in index]
    return index


def _compare(ufunc: Any, a: Any, b: Any) -> Tensor:
    """Comparisons and logical operators give tensors outside the graph."""
    x = a._data if isinstance(a, Tensor) else a
    y = b._data if isinstance(b, Tensor) else b
    try:
        return Tensor._from_op(np.asarray(ufunc(x, y)), None)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{ufunc.__name__}: {e}") from e


def seed_for(out: Tensor, grad: Any, create_graph: bool, where: str) -> Any:
    """The starting gradient for a backward pass from ``out``, checked against it."""
    if not out._requires_grad:
        raise RuntimeError(f"{where}: the output does not require grad, so it has no graph")
    if grad is None:
        if out._data.size != 1:
            raise RuntimeError(
                f"{where}: the output has shape {out.shape}, not a single element, so a gradient "
                f"of that shape is needed: pass grad=ones_like(output) (or a weighting of shape "
                f"{out.shape}), or reduce the output to a scalar first (e.g. .sum())"
            )
        seed = np.ones_like(out._data)
        return Tensor._from_op(seed, None) if create_graph else seed
    if isinstance(grad, Tensor):
        g = grad
    elif isinstance(grad, np.ndarray):
        g = Tensor._from_op(grad, None)
    else:  # Python numbers and lists take the output's dtype
        g = Tensor._from_op(_to_array(grad, out.dtype), None)
    if g.dtype.kind != "f" or g.dtype != out.dtype:
        raise TypeError(
            f"{where}: the gradient has dtype {g.dtype} but the output has dtype {out.dtype}; "
            "they must match"
        )
    if g.shape != out.shape:
        raise ValueError(
            f"{where}: the gradient has shape {g.shape} but the output has shape {out.shape}; "
            "they must match"
        )
    return g if create_graph else g._data


from .ops import (  # noqa: E402  (the ops subclass Function, which needs Tensor)
    Abs,
    Add,
    Cos,
    Div,
    Exp,
    Log,
    MatMul,
    Mul,
    Neg,
    Pow,
    Relu,
    Sigmoid,
    Sin,
    Softplus,
    Sqrt,
    Sub,
    Tanh,
    add,
    astype,
    clip,
    divide,
    flatten,
    getitem,
    leaky_relu,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    multiply,
    prod,
    reshape,
    softmax,
    squeeze,
    std,
    subtract,
    sum,
    swapaxes,
    transpose,
    var,
)
from .ops.interop import array_function, array_ufunc  # noqa: E402
from . import engine  # noqa: E402
