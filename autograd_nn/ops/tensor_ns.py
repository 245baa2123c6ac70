"""The array namespace backward rules use under ``create_graph=True``: the same names as
`numpy_ns`, each a differentiable autograd_nn function, so a rule's own ops are recorded."""

from __future__ import annotations

from types import SimpleNamespace

from . import arithmetic as ar
from . import elementwise as el
from . import reduce as rd
from . import shape as sh
from . import windows as wn

TENSOR_NS = SimpleNamespace(
    exp=el.exp,
    log=el.log,
    sin=el.sin,
    cos=el.cos,
    sigmoid=el.sigmoid,
    sign=el.sign,
    where=el.where,
    sum=rd.sum,
    reshape=sh.reshape,
    transpose=sh.transpose,
    swapaxes=sh.swapaxes,
    expand_dims=sh.expand_dims,
    squeeze=sh.squeeze,
    broadcast_to=sh.broadcast_to,
    matmul=ar.matmul,
    exclusive_prod=rd.exclusive_prod,
    index_add=sh.index_add,
    pad_constant=wn.pad_constant,
    unfold_windows=wn.unfold_windows,
    fold_windows=wn.fold_windows,
    correlate=wn.correlate,
    correlate_input_grad=wn.correlate_input_grad,
    correlate_weight_grad=wn.correlate_weight_grad,
)
