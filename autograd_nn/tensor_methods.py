"""Tensor's operators and numpy-named methods, generated from the op registry by
``python -m autograd_nn.ops`` (do not edit: register the op instead)."""

from __future__ import annotations

from .ops import (
    arithmetic,
    contract,
    diagonals,
    elementwise,
    elementwise_binary,
    manipulation,
    ordering,
    reduce,
    shape,
)
from .registry import reflected


class TensorMethods:
    """Each name is the registered function of an op; Tensor inherits them."""

    __slots__ = ()

    __add__ = arithmetic.add
    __radd__ = reflected(arithmetic.add)
    __sub__ = arithmetic.subtract
    __rsub__ = reflected(arithmetic.subtract)
    __mul__ = arithmetic.multiply
    __rmul__ = reflected(arithmetic.multiply)
    __truediv__ = arithmetic.divide
    __rtruediv__ = reflected(arithmetic.divide)
    __pow__ = arithmetic.power
    __rpow__ = reflected(arithmetic.power)
    __neg__ = arithmetic.negative
    __matmul__ = arithmetic.matmul
    __rmatmul__ = reflected(arithmetic.matmul)
    exp = elementwise.exp
    log = elementwise.log
    sqrt = elementwise.sqrt
    __abs__ = elementwise.abs
    abs = elementwise.abs
    sin = elementwise.sin
    cos = elementwise.cos
    tanh = elementwise.tanh
    sigmoid = elementwise.sigmoid
    relu = elementwise.relu
    leaky_relu = elementwise.leaky_relu
    softplus = elementwise.softplus
    clip = elementwise.clip
    reshape = shape._reshape_method
    transpose = shape._transpose_method
    __getitem__ = shape.getitem
    astype = shape.astype
    swapaxes = shape.swapaxes
    squeeze = shape.squeeze
    flatten = shape.flatten
    ravel = shape.flatten
    repeat = manipulation.repeat
    take = manipulation.take
    dot = contract.dot
    sum = reduce.sum
    mean = reduce.mean
    max = reduce.max
    min = reduce.min
    prod = reduce.prod
    var = reduce.var
    std = reduce.std
    logsumexp = reduce.logsumexp
    softmax = reduce.softmax
    log_softmax = reduce.log_softmax
    diagonal = diagonals.diagonal
    trace = diagonals.trace
    __mod__ = elementwise_binary.remainder
    __rmod__ = reflected(elementwise_binary.remainder)
    cumsum = ordering.cumsum
    cumprod = ordering.cumprod
