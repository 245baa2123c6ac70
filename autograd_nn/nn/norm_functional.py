"""Normalisation and embedding with `torch.nn.functional`'s names and arguments:
``batch_norm``, ``layer_norm``, ``group_norm``, ``embedding``.

The normalisations are composites of mean, subtraction, multiplication and sqrt, so their
gradients (and second derivatives) come from those ops. Statistics use the biased variance;
``batch_norm`` in training updates the running variance with the unbiased one (PyTorch's
rule), in place, outside the graph.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ..domains import calls
from ..mode import no_grad
from ..ops import getitem, mean, reshape, sqrt, tanh, where
from ..registry import register
from ..tensor import Tensor
from . import window_args
from .window_args import as_tensor, is_int


def _normalise(x: Tensor, axes: tuple, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """((x - mean) / sqrt(var + eps), mean, biased var) over ``axes`` (kept as size 1)."""
    mu = mean(x, axis=axes, keepdims=True)
    d = x - mu
    var = mean(d * d, axis=axes, keepdims=True)
    return d / sqrt(var + eps), mu, var


def _check_eps(op: str, eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or eps < 0:
        raise ValueError(f"{op}: eps must be a number >= 0, got {eps!r}")
    return float(eps)


def _check_affine(op: str, weight: Any, bias: Any, shape: tuple) -> tuple:
    """weight and bias as Tensors (or None), each of ``shape``."""
    out = []
    for name, p in (("weight", weight), ("bias", bias)):
        t = None if p is None else as_tensor(op, p, name)
        if t is not None and t.shape != shape:
            raise ValueError(f"{op}: {name} must have shape {shape}, got {t.shape}")
        out.append(t)
    return tuple(out)


def _affine(y: Tensor, wb: tuple, view: tuple) -> Tensor:
    """``y * weight + bias`` (either may be None), broadcast as ``view``."""
    w, b = wb
    y = y if w is None else y * reshape(w, view)
    return y if b is None else y + reshape(b, view)


def _array_of(op: str, name: str, stat: Any, c: int) -> np.ndarray | None:
    if stat is None:
        return None
    arr = stat._data if isinstance(stat, Tensor) else stat
    if not isinstance(arr, np.ndarray) or arr.shape != (c,) or arr.dtype.kind != "f":
        raise ValueError(f"{op}: {name} must be a floating array or Tensor of shape ({c},), "
                         f"got {getattr(arr, 'shape', type(arr).__name__)}")
    return arr


@register(public=False, cases=calls(
    ("(4, 2, 2) training, affine", lambda f, x, w, b: f(x, None, None, w, b, training=True),
     ((4, 2, 2), (2,), (2,)))))
def batch_norm(input: Any, running_mean: Any, running_var: Any, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float | Tensor = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Normalise each channel of (N, C, *) over the batch and spatial axes.

    In training, the batch statistics are used and ``running_mean`` / ``running_var`` (if
    given) are updated in place: ``r = (1 - momentum) * r + momentum * stat`` (the variance
    unbiased). In eval, the running statistics are used (they are then required).
    """
    op = "batch_norm"
    x = as_tensor(op, input)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, *), got {x.shape}")
    c = x.shape[1]
    rm = _array_of(op, "running_mean", running_mean, c)
    rv = _array_of(op, "running_var", running_var, c)
    eps = _check_eps(op, eps)
    wb = _check_affine(op, weight, bias, (c,))  # every check before the running stats move
    axes = (0, *range(2, x.ndim))
    view = (1, c) + (1,) * (x.ndim - 2)
    if training:
        n = x.size // c
        if n <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        y, mu, var = _normalise(x, axes, eps)
        with no_grad():
            _update_running(running_mean, mu, 1.0, momentum, c)
            _update_running(running_var, var, n / (n - 1), momentum, c)
    else:
        if rm is None or rv is None:
            raise ValueError(f"{op}: running_mean and running_var are needed when not "
                             "training")
        y = (x - reshape(running_mean, view)) / sqrt(reshape(running_var, view) + eps)
    return _affine(y, wb, view)


def _update_running(stat: Any, batch: Tensor, scale: float, momentum: float | Tensor,
                    c: int) -> None:
    """``stat = (1 - momentum) * stat + momentum * batch * scale``, in place, as tensor ops
    (so ag.compile records the update; a plain array is updated through a Tensor on it).
    ``momentum``: a number, or a 0-d Tensor (the cumulative average's 1 / count), then cast to
    the statistic's dtype as numpy casts a Python number."""
    if stat is None:
        return
    t = stat if isinstance(stat, Tensor) else Tensor._from_op(stat, None)
    s = batch.detach().reshape(c)
    if scale != 1.0:
        s = s * scale
    keep: float | Tensor
    m: float | Tensor
    if isinstance(momentum, Tensor):
        keep, m = (1.0 - momentum).astype(t.dtype), momentum.astype(t.dtype)
    else:
        keep, m = 1.0 - float(momentum), float(momentum)
    t.copy_(t * keep + m * s)


@register(public=False, cases=calls(
    ("(2, 3, 2) over (3, 2)", lambda f, x: f(x, (3, 2)), ((2, 3, 2),))))
def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` axes, which must equal it."""
    op = "layer_norm"
    x = as_tensor(op, input)
    shape = (normalized_shape,) if is_int(normalized_shape) else tuple(normalized_shape)
    k = len(shape)
    if not k or x.shape[x.ndim - k:] != shape or x.ndim < k:
        raise ValueError(f"{op}: normalized_shape {shape} is not the trailing shape of input "
                         f"{x.shape}")
    wb = _check_affine(op, weight, bias, shape)
    y, _, _ = _normalise(x, tuple(range(x.ndim - k, x.ndim)), _check_eps(op, eps))
    return _affine(y, wb, shape)


@register(public=False, cases=calls(
    ("(2, 4, 2) 2 groups", lambda f, x: f(x, 2), ((2, 4, 2),))))
def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, *) over groups of ``C / num_groups`` channels (and all of *)."""
    op = "group_norm"
    x = as_tensor(op, input)
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, *), got {x.shape}")
    c = x.shape[1]
    if not is_int(num_groups) or num_groups < 1 or c % num_groups:
        raise ValueError(f"{op}: num_groups={num_groups!r} must be a positive int dividing "
                         f"the {c} channels")
    wb = _check_affine(op, weight, bias, (c,))
    y, _, _ = _normalise(reshape(x, (x.shape[0], num_groups, -1)), (2,), _check_eps(op, eps))
    return _affine(reshape(y, x.shape), wb, (1, c) + (1,) * (x.ndim - 2))


@register(public=False, cases=calls(
    ("(5, 2)[[1, 4, 1]]", lambda f, w: tanh(f(np.array([1, 4, 1]), w)), ((5, 2),))))
def embedding(input: Any, weight: Any, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``input`` (any shape):
    output ``input.shape + (dim,)``. Rows at ``padding_idx`` get no gradient."""
    op = "embedding"
    w = as_tensor(op, weight, "weight")
    if w.ndim != 2:
        raise ValueError(f"{op}: weight must be (num_embeddings, embedding_dim), got {w.shape}")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{op}: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got dtype {idx.dtype}")
    n = w.shape[0]
    if not window_args.indices_in_range(idx, n):
        raise IndexError(f"{op}: indices must be in [0, {n}), got values from {idx.min()} to "
                         f"{idx.max()}")
    out = getitem(w, idx)
    if padding_idx is None:
        return out
    if not is_int(padding_idx) or not -n <= padding_idx < n:
        raise ValueError(f"{op}: padding_idx must be an int in [-{n}, {n}), got "
                         f"{padding_idx!r}")
    # a comparison of the indices as Tensors compare (ag.compile records it: the mask follows
    # the indices of every call)
    pad = tensor_module._compare(np.equal, input if isinstance(input, Tensor) else idx,
                                 padding_idx % n)
    return where(getitem(pad, (Ellipsis, None)), out.detach(), out)


tensor_module = importlib.import_module("..tensor", __package__)  # not ag.tensor, the function

__all__ = ["batch_norm", "embedding", "group_norm", "layer_norm"]
