"""Tensor's operators and its methods with numpy's names (Tensor inherits this mixin).

Each one hands its operands to an op; the ops themselves need `Tensor`, so their names are
bound here by `bind_ops()` once they are loaded (tensor.py calls it at import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import same_kind

if TYPE_CHECKING:
    from .tensor import Tensor

Abs: Any = None
Add: Any = None
Cos: Any = None
Div: Any = None
Exp: Any = None
Log: Any = None
MatMul: Any = None
Mul: Any = None
Neg: Any = None
Pow: Any = None
Relu: Any = None
Remainder: Any = None
Sigmoid: Any = None
Sin: Any = None
Softplus: Any = None
Sqrt: Any = None
Sub: Any = None
Tanh: Any = None
astype: Any = None
clip: Any = None
flatten: Any = None
getitem: Any = None
leaky_relu: Any = None
log_softmax: Any = None
logsumexp: Any = None
max: Any = None
mean: Any = None
min: Any = None
prod: Any = None
reshape: Any = None
softmax: Any = None
squeeze: Any = None
std: Any = None
sum: Any = None
swapaxes: Any = None
transpose: Any = None
var: Any = None
cumprod: Any = None
cumsum: Any = None
diagonal: Any = None
dot: Any = None
repeat: Any = None
take: Any = None
trace: Any = None
array_ufunc: Any = None
array_function: Any = None


def bind_ops() -> None:
    """Bind the op names used by the methods below (called once, after the ops are loaded)."""
    from . import ops
    from .ops import interop
    from .tensor import Tensor

    g = globals()
    g["Tensor"] = Tensor
    for name in _OP_NAMES:
        g[name] = getattr(ops, name)
    g["array_ufunc"], g["array_function"] = interop.array_ufunc, interop.array_function


_OP_NAMES = (
    "Abs", "Add", "Cos", "Div", "Exp", "Log", "MatMul", "Mul", "Neg", "Pow", "Relu", "Remainder",
    "Sigmoid",
    "Sin", "Softplus", "Sqrt", "Sub", "Tanh", "astype", "clip", "flatten", "getitem",
    "leaky_relu", "log_softmax", "logsumexp", "max", "mean", "min", "prod", "reshape",
    "softmax", "squeeze", "std", "sum", "swapaxes", "transpose", "var",
    "cumprod", "cumsum", "diagonal", "dot", "repeat", "take", "trace",
)


class TensorMethods:
    """Operators, numpy interoperability and numpy-named methods of `Tensor`."""

    __slots__ = ()
    _data: np.ndarray

    @property
    def T(self) -> Tensor:
        return transpose(self)

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

    def __mod__(self, other: Any) -> Tensor:
        return Remainder.apply(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return Remainder.apply(other, self)

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

    # ---- the numpy surface (ops/surface.py) -------------------------------------------------
    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        return diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
              out: Any = None) -> Tensor:
        return trace(self, offset, axis1, axis2, dtype, out)

    def cumsum(self, axis: int | None = None, dtype: Any = None, out: Any = None) -> Tensor:
        return cumsum(self, axis, dtype, out)

    def cumprod(self, axis: int | None = None, dtype: Any = None, out: Any = None) -> Tensor:
        return cumprod(self, axis, dtype, out)

    def dot(self, b: Any, out: Any = None) -> Tensor:
        return dot(self, b, out)

    def repeat(self, repeats: Any, axis: int | None = None) -> Tensor:
        return repeat(self, repeats, axis)

    def take(self, indices: Any, axis: int | None = None, out: Any = None,
             mode: str = "raise") -> Tensor:
        return take(self, indices, axis, out, mode)


def _constant(a: Any) -> Tensor:
    return Tensor._from_op(np.asarray(a), None)


def _no_out(op: str, dtype: Any, out: Any) -> None:
    if out is not None or dtype is not None:
        raise TypeError(f"{op}: the out= and dtype= arguments are not supported on Tensors")


def _compare(ufunc: Any, a: Any, b: Any) -> Tensor:
    """Comparisons and logical operators give tensors outside the graph."""
    x = a._data if isinstance(a, Tensor) else a
    y = b._data if isinstance(b, Tensor) else b
    try:
        return Tensor._from_op(np.asarray(ufunc(x, y)), None)
    except (TypeError, ValueError) as e:
        raise same_kind(e, f"{ufunc.__name__}: {e}") from e
