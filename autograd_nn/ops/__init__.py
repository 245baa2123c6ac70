"""The primitive operations (one `Function` each, forward and derivative side by side) and
the functions with numpy's names that apply them."""

from ..function import Function, GraphCtx
from .arithmetic import (
    Add, Div, MatMul, Mul, Neg, Pow, Sub, add, divide, matmul, multiply, negative, power,
    subtract,
)
from .elementwise import (
    Abs, Clip, Cos, Exp, LeakyRelu, Log, Maximum, Minimum, Relu, Sigmoid, Sin, Softplus, Sqrt,
    Tanh, Where, abs, clip, cos, exp, leaky_relu, log, maximum, minimum, relu, sigmoid, sign,
    sin, softplus, sqrt, tanh, where,
)
# >>> numpy surface imports
from .elementwise_math import (
    arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, around, cbrt, ceil, cosh,
    deg2rad, degrees, exp2, expm1, fabs, floor, fmax, fmin, fmod, hypot, log10, log1p, log2,
    logaddexp, logaddexp2, mod, nan_to_num, rad2deg, radians, reciprocal, Remainder, remainder,
    rint, round, sinc, sinh, square, tan, trunc,
)
from .diagonals import (
    diag, diagonal, trace, tril, triu,
)
from .manipulation import (
    diff, flip, fliplr, flipud, moveaxis, pad, repeat, roll, rollaxis, rot90, select, take,
    take_along_axis, tile,
)
from .joining import (
    append, array_split, atleast_1d, atleast_2d, atleast_3d, block, column_stack, dsplit,
    dstack, hsplit, hstack, vsplit, vstack,
)
from .contract import (
    cross, dot, einsum, inner, kron, outer, tensordot, vdot,
)
from .ordering import (
    cumprod, cumsum, gradient, partition, sort,
)
# <<<
from .numpy_ns import NUMPY_NS
from . import surface
from .reduce import (
    ExclusiveProd, LogSoftmax, LogSumExp, Max, Mean, Min, Prod, Softmax, Sum, amax, amin,
    log_softmax, logsumexp, max, mean, min, prod, softmax, std, sum, var,
)
from .shape import (
    AsType, BroadcastTo, Concatenate, GetItem, IndexAdd, Reshape, Transpose, astype,
    broadcast_to, concatenate, expand_dims, flatten, getitem, reshape, split, squeeze, stack,
    swapaxes, transpose,
)
from .tensor_ns import TENSOR_NS

Function.xp = NUMPY_NS
GraphCtx.xp = TENSOR_NS
surface.install(NUMPY_NS, TENSOR_NS)

__all__ = [
    "NUMPY_NS", "TENSOR_NS",
    "Add", "Div", "MatMul", "Mul", "Neg", "Pow", "Sub", "add", "divide", "matmul", "multiply",
    "negative", "power", "subtract",
    "Abs", "Clip", "Cos", "Exp", "LeakyRelu", "Log", "Maximum", "Minimum", "Relu", "Sigmoid",
    "Sin", "Softplus", "Sqrt", "Tanh", "Where", "abs", "clip", "cos", "exp", "leaky_relu", "log",
    "maximum", "minimum", "relu", "sigmoid", "sign", "sin", "softplus", "sqrt", "tanh", "where",
    "ExclusiveProd", "LogSoftmax", "LogSumExp", "Max", "Mean", "Min", "Prod", "Softmax", "Sum",
    "amax", "amin", "log_softmax", "logsumexp", "max", "mean", "min", "prod", "softmax", "std",
    "sum", "var",
    "AsType", "BroadcastTo", "Concatenate", "GetItem", "IndexAdd", "Reshape", "Transpose",
    "astype", "broadcast_to", "concatenate", "expand_dims", "flatten", "getitem", "reshape",
    "split", "squeeze", "stack", "swapaxes", "transpose",
    # >>> numpy surface names
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "around", "cbrt",
    "ceil", "cosh", "deg2rad", "degrees", "exp2", "expm1", "fabs", "floor", "fmax", "fmin",
    "fmod", "hypot", "log10", "log1p", "log2", "logaddexp", "logaddexp2", "mod", "nan_to_num",
    "rad2deg", "radians", "reciprocal", "Remainder", "remainder", "rint", "round", "sinc",
    "sinh", "square", "tan", "trunc", "diag", "diagonal", "trace", "tril", "triu", "diff",
    "flip", "fliplr", "flipud", "moveaxis", "pad", "repeat", "roll", "rollaxis", "rot90",
    "select", "take", "take_along_axis", "tile", "append", "array_split", "atleast_1d",
    "atleast_2d", "atleast_3d", "block", "column_stack", "dsplit", "dstack", "hsplit", "hstack",
    "vsplit", "vstack", "cross", "dot", "einsum", "inner", "kron", "outer", "tensordot", "vdot",
    "cumprod", "cumsum", "gradient", "partition", "sort",
    # <<<
]
