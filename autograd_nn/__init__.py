"""autograd_nn: reverse-mode automatic differentiation on numpy.

``Tensor`` records the operations applied to it; ``backward()`` differentiates in reverse mode.
"""

from __future__ import annotations

from typing import Any

from .tensor import Tensor  # noqa: I001  (first: the other modules build on it)
from . import autograd
from .anomaly import AnomalyError, detect_anomaly
from .creation import (
    arange, eye, full, linspace, ones, ones_like, rand, randn, tensor, zeros, zeros_like,
)
from .function import Function, once_differentiable
from .mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import (
    abs, add, amax, amin, astype, broadcast_to, clip, concatenate, cos, divide, exp,
    expand_dims, flatten, getitem, leaky_relu, log, log_softmax, logsumexp, matmul, max,
    maximum, mean, min, minimum, multiply, negative, power, prod, relu, reshape, sigmoid, sign,
    sin, softmax, softplus, split, sqrt, squeeze, stack, std, subtract, sum, swapaxes, tanh,
    transpose, var, where,
)
from .seeding import manual_seed
# >>> numpy surface imports
from .ops.elementwise_math import (
    arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, around, cbrt, ceil, cosh,
    deg2rad, degrees, exp2, expm1, fabs, floor, fmax, fmin, fmod, hypot, log10, log1p, log2,
    logaddexp, logaddexp2, mod, nan_to_num, rad2deg, radians, reciprocal, remainder, rint,
    round, sinc, sinh, square, tan, trunc,
)
from .ops.diagonals import (
    diag, diagonal, trace, tril, triu,
)
from .ops.manipulation import (
    diff, flip, fliplr, flipud, moveaxis, pad, repeat, roll, rollaxis, rot90, select, take,
    take_along_axis, tile,
)
from .ops.joining import (
    append, array_split, atleast_1d, atleast_2d, atleast_3d, block, column_stack, dsplit,
    dstack, hsplit, hstack, vsplit, vstack,
)
from .ops.contract import (
    cross, dot, einsum, inner, kron, outer, tensordot, vdot,
)
from .ops.ordering import (
    cumprod, cumsum, gradient, partition, sort,
)
# <<<
from .transforms import grad, hessian, hvp, jacobian, jvp, value_and_grad
from .compile import CompileError, compile  # noqa: A004  (the function, not the package)

__version__ = "0.1.0"

_LAZY = {
    "gradcheck": ("gradcheck", "gradcheck"),
    "gradgradcheck": ("gradcheck", "gradgradcheck"),
    "numerical_grad": ("gradcheck", "numerical_grad"),
    "numerical_jacobian": ("gradcheck", "numerical_jacobian"),
    "compare_gradients": ("gradcheck", "compare_gradients"),
    "check_three_way": ("gradcheck", "check_three_way"),
    "eps_sweep": ("gradcheck", "eps_sweep"),
    "GradcheckError": ("gradcheck", "GradcheckError"),
    "draw_graph": ("viz", "draw_graph"),
    "print_graph": ("viz", "print_graph"),
    "format_graph": ("viz", "format_graph"),
    "trace_backward": ("viz", "trace_backward"),
    "fit": ("train", "fit"),
    "plot_history": ("train", "plot_history"),
}
_SUBMODULES = {
    "nn", "optim", "data", "datasets", "train", "gradcheck", "viz", "reference", "cli", "linalg",
}


def __getattr__(name: str) -> Any:
    """Heavier parts load on first use, so ``import autograd_nn`` stays light."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'autograd_nn' has no attribute {name!r}")


__all__ = [
    "AnomalyError", "CompileError", "Function", "Tensor", "__version__", "abs", "add", "amax",
    "amin", "arange", "astype", "autograd", "broadcast_to", "clip", "compile", "concatenate",
    "cos", "detect_anomaly",
    "divide", "enable_grad", "exp", "expand_dims", "eye", "flatten", "full", "getitem", "grad",
    "hessian", "hvp", "is_grad_enabled", "jacobian", "jvp", "leaky_relu", "linspace", "log",
    "log_softmax", "logsumexp", "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum",
    "multiply", "negative", "no_grad", "ones", "ones_like", "power", "prod", "rand", "randn",
    "relu", "reshape", "set_grad_enabled", "sigmoid", "sign", "sin", "softmax", "softplus",
    "split", "sqrt", "squeeze", "stack", "std", "subtract", "sum", "swapaxes", "tanh", "tensor",
    "transpose", "value_and_grad", "var", "where", "zeros", "zeros_like", *_LAZY,
    "once_differentiable",
    # >>> numpy surface names
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "around", "cbrt",
    "ceil", "cosh", "deg2rad", "degrees", "exp2", "expm1", "fabs", "floor", "fmax", "fmin",
    "fmod", "hypot", "log10", "log1p", "log2", "logaddexp", "logaddexp2", "mod", "nan_to_num",
    "rad2deg", "radians", "reciprocal", "remainder", "rint", "round", "sinc", "sinh", "square",
    "tan", "trunc", "diag", "diagonal", "trace", "tril", "triu", "diff", "flip", "fliplr",
    "flipud", "moveaxis", "pad", "repeat", "roll", "rollaxis", "rot90", "select", "take",
    "take_along_axis", "tile", "append", "array_split", "atleast_1d", "atleast_2d",
    "atleast_3d", "block", "column_stack", "dsplit", "dstack", "hsplit", "hstack", "vsplit",
    "vstack",
    "cross", "dot", "einsum", "inner", "kron", "outer", "tensordot", "vdot", "cumprod",
    "cumsum", "gradient", "partition", "sort",
    # <<<
]
