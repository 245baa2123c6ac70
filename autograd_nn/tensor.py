"""`Tensor`: a numpy array that remembers the operation that made it.

Its operators and numpy-named methods are the registered ops' functions (tensor_methods.py,
generated from the registry); this module adds the data, the gradient, hooks, in-place
changes and ``backward()``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import as_flag, same_kind
from .function import Function, holds_graph
from .links import LINKS, connect_tensor
from .ops import interop, transpose
from .tensor_inplace import InPlaceMethods
from .tensor_methods import TensorMethods
from .versions import VersionCounter

if TYPE_CHECKING:
    from .types import DTypeLike, TensorLike

_ALLOWED_KINDS = "biuf"
NUMPY_CUTS_GRAPH = (
    "numpy asked for the array of a Tensor (shape {shape}) that requires grad: the array would "
    "have no graph and its gradient would be silently wrong. numpy does this for np.array and "
    "np.asarray, and for tensors inside a list or tuple given to a numpy function "
    "(np.array([a, b]), np.mean([a, b]), np.r_[a, b], np.append([a], [b])): numpy hands a call "
    "to autograd_nn only when it receives the tensors themselves. Join them first with ag.stack "
    "or ag.concatenate (np.mean([a, b]) -> np.mean(ag.stack([a, b])); np.r_ -> "
    "ag.concatenate; np.c_ -> ag.column_stack), pass the tensors (np.stack, np.concatenate, "
    "np.block, np.append(a, b) build the graph), or use numpy on t.detach().numpy()."
)
_HOOK_KEYS = itertools.count()


def to_array(data: TensorLike, dtype: DTypeLike | None) -> np.ndarray:
    if isinstance(data, Tensor):
        arr = np.array(data._data, dtype=dtype)
    elif isinstance(data, np.ndarray):
        arr = np.array(data, dtype=dtype)
    else:
        if isinstance(data, (list, tuple)) and holds_graph(data):
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


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook away."""

    def __init__(self, hooks: dict[int, Callable[..., Any]], key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


def _comparison(name: str, ufunc: np.ufunc, reflected: bool = False) -> Callable[..., Tensor]:
    """The operator method ``name``: `_compare` with ``ufunc``, the operands swapped when
    ``reflected`` (``other & self``)."""
    def method(self: Tensor, other: TensorLike) -> Tensor:
        return _compare(ufunc, other, self) if reflected else _compare(ufunc, self, other)

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    return method


class Tensor(TensorMethods, InPlaceMethods):
    """An n-dimensional array with an optional gradient and the graph that produced it.

    ``Tensor(data, requires_grad=False, dtype=None)`` copies ``data``. Python numbers and lists
    become float64; numpy arrays keep their dtype. Only floating tensors can require grad.
    """

    # Hot attributes are slots; rarely set ones default at class level and live in the
    # instance __dict__ only once assigned, so making a tensor costs three stores.
    __slots__ = ("_data", "_requires_grad", "grad_fn", "__dict__", "__weakref__")
    __hash__ = object.__hash__  # identity: == is elementwise
    _data: np.ndarray
    _requires_grad: bool
    grad_fn: Function | None
    _grad: Tensor | None = None
    name: str | None = None
    _retains_grad = False
    _hooks: dict[int, Callable[[Tensor], Tensor | None]] | None = None
    _versions: VersionCounter | None = None  # shared with the views of the same data

    def __init__(self, data: TensorLike, requires_grad: bool = False,
                 dtype: DTypeLike | None = None, name: str | None = None) -> None:
        requires_grad = as_flag("Tensor: requires_grad", requires_grad)
        self._data = to_array(data, dtype)
        self._requires_grad = False
        self.grad_fn = None
        if name is not None:
            self.name = name
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _from_op(cls, data: np.ndarray, grad_fn: Function | None) -> Tensor:
        """Wrap an array without copying (the constructor of op results and gradients)."""
        t = object.__new__(Tensor)
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
    def data(self, value: TensorLike) -> None:
        arr = value if isinstance(value, np.ndarray) else to_array(value, None)
        if arr.dtype.kind not in _ALLOWED_KINDS:
            raise TypeError(f"data: unsupported dtype {arr.dtype}")
        if self._requires_grad and arr.dtype.kind != "f":
            raise TypeError(f"data of dtype {arr.dtype} cannot require grad (the tensor does)")
        self._data = arr

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a Tensor of this tensor's shape and dtype) or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape or value.dtype != self.dtype:
                raise ValueError(
                    f"grad of shape {value.shape} and dtype {value.dtype} assigned to a tensor of "
                    f"shape {self.shape} and dtype {self.dtype}; they must match"
                )
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = as_flag("requires_grad", value)
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
    def version(self) -> int:
        """How many in-place changes were made to this tensor's data through the API."""
        return 0 if self._versions is None else self._versions.version

    def _version_counter(self) -> VersionCounter:
        if self._versions is None:
            self._versions = VersionCounter()
        return self._versions

    def _bump_version(self) -> None:
        """Record an in-place change of ``data`` (optimizers and in-place ops call this)."""
        v = self._versions
        (v if v is not None else self._version_counter()).bump()

    @property
    def T(self) -> Tensor:
        return transpose(self)

    # ---- operators that are not ops: comparisons and logic give tensors outside the graph ----
    def __pos__(self) -> Tensor:
        return self

    __lt__ = _comparison("__lt__", np.less)
    __le__ = _comparison("__le__", np.less_equal)
    __gt__ = _comparison("__gt__", np.greater)
    __ge__ = _comparison("__ge__", np.greater_equal)
    __eq__ = _comparison("__eq__", np.equal)  # type: ignore[assignment]
    __ne__ = _comparison("__ne__", np.not_equal)  # type: ignore[assignment]
    __and__ = _comparison("__and__", np.bitwise_and)
    __rand__ = _comparison("__rand__", np.bitwise_and, reflected=True)
    __or__ = _comparison("__or__", np.bitwise_or)
    __ror__ = _comparison("__ror__", np.bitwise_or, reflected=True)
    __xor__ = _comparison("__xor__", np.bitwise_xor)

    def __invert__(self) -> Tensor:
        return Tensor._from_op(np.asarray(np.invert(self._data)), None)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return Tensor._from_op(np.asarray(np.argmax(self._data, axis=axis, keepdims=keepdims)),
                               None)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return Tensor._from_op(np.asarray(np.argmin(self._data, axis=axis, keepdims=keepdims)),
                               None)

    # ---- numpy interoperability -------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable[..., Any], types: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
        return interop.array_function(func, args, kwargs)

    # ---- conversion -------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared)."""
        return self._data

    def item(self) -> bool | int | float:
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        """numpy's conversion (``np.asarray(t)``, ``np.array([t, u])``, ``np.r_[t]``): refused for
        a tensor that requires grad, since the array numpy builds from it has no graph."""
        if self._requires_grad:
            raise TypeError(NUMPY_CUTS_GRAPH.format(shape=self.shape))
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
        t._versions = self._version_counter()
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

    def backward(self, grad: TensorLike | None = None, retain_graph: bool | None = None,
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
        LINKS.backward(self, grad, retain_graph, create_graph)  # autograd.backward()


connect_tensor(Tensor)


def _compare(ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    """Comparisons and logical operators give tensors outside the graph."""
    x = a._data if isinstance(a, Tensor) else a
    y = b._data if isinstance(b, Tensor) else b
    try:
        return Tensor._from_op(np.asarray(ufunc(x, y)), None)
    except (TypeError, ValueError) as e:
        raise same_kind(e, f"{ufunc.__name__}: {e}") from e
