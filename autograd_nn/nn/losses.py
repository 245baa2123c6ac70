"""Loss functions and their module forms (`MSELoss`, ...), PyTorch's names and conventions.

Every loss takes ``reduction='mean' | 'sum' | 'none'`` (the per-element or per-sample losses
for ``'none'``); ``input`` and ``target`` must have the same shape (no silent broadcasting of
``(N, 1)`` against ``(N,)``), except class-index targets of `cross_entropy` / `nll_loss`.

The half sum of squares ``J = sum(1/2 (y - yhat)**2)`` of the reference networks needs no loss
of its own::

    J = 0.5 * F.mse_loss(yhat, y, reduction="sum")      # dJ/dyhat = yhat - y

and ``F.mse_loss(yhat, y, reduction="sum")`` is the plain sum of squares ``sum((y - yhat)**2)``.

Stability: `binary_cross_entropy_with_logits` and `cross_entropy` are composites of the
engine's stable primitives (``softplus``, ``log_softmax``), so logits of +-1000 give exact,
finite losses and gradients. `binary_cross_entropy` on probabilities is a primitive
(`BinaryCrossEntropy`) because its numerics demand it: a saturated sigmoid gives p of exactly
0 or 1, where log and its derivative 1/p are infinite; the primitive clamps the logs at -100
and the derivative's denominator p(1-p) at 1e-12, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..domains import Case, shape_label, uniform
from ..function import Function
from ..ops import astype, log_softmax, softplus
from ..registry import register
from ..tensor import Tensor
from . import window_args
from .module import Module

if TYPE_CHECKING:
    from ..types import TensorLike

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: object) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{op}: unknown reduction {reduction!r}; use 'mean', 'sum' or 'none'")


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _as_input(op: str, x: TensorLike) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    return x


def _as_target(op: str, t: TensorLike, like: Tensor) -> Tensor | np.ndarray:
    """A target of the input's shape: Tensors kept (a gradient may flow to them), anything
    else as an array of the input's dtype."""
    if not isinstance(t, Tensor):
        t = np.asarray(t)
        if t.dtype.kind not in "biuf":
            raise TypeError(f"{op}: target has unsupported dtype {t.dtype}")
        if t.dtype != like.dtype:  # an op, not numpy's astype: ag.compile follows it
            t = astype(t, like.dtype)
    elif t.dtype.kind != "f":
        t = t.detach().astype(like.dtype)  # an op, not a read of ._data: ag.compile follows it
    if t.shape != like.shape:
        hint = ""
        if t.shape == like.shape[:1] and like.shape[1:] == (1,):
            hint = " (reshape the target, e.g. y.reshape(-1, 1))"
        elif like.shape == t.shape[:1] and t.shape[1:] == (1,):
            hint = " (reshape the target, e.g. y.ravel())"
        raise ValueError(f"{op}: input shape {like.shape} and target shape {t.shape} differ; "
                         f"they must be equal{hint}")
    return t


def _as_weight(op: str, name: str, w: TensorLike, like: Tensor) -> Tensor | np.ndarray:
    """``w`` (a Tensor is kept, anything else becomes an array of the input's dtype) after
    checking PyTorch's rule: it broadcasts to the input's shape without changing it."""
    arr = w._data if isinstance(w, Tensor) else np.asarray(w)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {name} has unsupported dtype {arr.dtype}")
    try:
        fits = np.broadcast_shapes(arr.shape, like.shape) == like.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: {name} of shape {arr.shape} does not broadcast to the input's "
                         f"shape {like.shape} without changing it (give shape {like.shape}, "
                         f"or one that broadcasts to it, such as {like.shape[-1:]})")
    if isinstance(w, Tensor) or arr.dtype == like.dtype:
        return w if isinstance(w, Tensor) else arr
    return astype(arr, like.dtype)  # an op, not numpy's astype: ag.compile follows it


def _check_probability_target(op: str, t: Tensor | np.ndarray) -> None:
    """Binary cross-entropy targets are probabilities: every element in [0, 1] (NaN refused)."""
    arr = t._data if isinstance(t, Tensor) else t
    if not window_args.probabilities(arr):
        bad = ~((arr >= 0) & (arr <= 1))
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at target{list(pos)}" if pos else ""
        raise ValueError(f"{op}: every target must be a probability in [0, 1], got "
                         f"{arr[pos]!r}{where}")


def mse_loss(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of the squared differences ``(input - target)**2``."""
    _check_reduction("mse_loss", reduction)
    x = _as_input("mse_loss", input)
    d = x - _as_target("mse_loss", target, x)
    return _reduce(d * d, reduction)


def l1_loss(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of ``|input - target|`` (the derivative at 0 is 0)."""
    _check_reduction("l1_loss", reduction)
    x = _as_input("l1_loss", input)
    return _reduce(abs(x - _as_target("l1_loss", target, x)), reduction)


class BinaryCrossEntropy(Function):
    """Elementwise ``-(t log p + (1-t) log(1-p))`` with both logs clamped at -100.

    A primitive for numerical reasons (see the module docstring): the derivative with
    respect to p is ``(p - t) / max(p (1-p), 1e-12)``, finite at p = 0 and p = 1.
    """

    name = "binary_cross_entropy"
    EPS = 1e-12

    @staticmethod
    def forward(ctx: Any, p: Any, t: Any) -> Any:
        p = np.asarray(p)
        if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1):
            raise ValueError("every element of the input must be a probability in [0, 1] "
                             "(for logits use binary_cross_entropy_with_logits)")
        ctx.save_for_backward(p, t)
        with np.errstate(divide="ignore"):
            logp = np.maximum(np.log(p), -100.0)
            log1mp = np.maximum(np.log1p(-p), -100.0)
        return -(t * logp + (1 - t) * log1mp)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xp = ctx.xp
        p, t = ctx.saved_tensors
        gp = gt = None
        if ctx.needs_input_grad[0]:
            d = p * (1 - p)
            gp = g * (p - t) / xp.where(d > BinaryCrossEntropy.EPS, d, BinaryCrossEntropy.EPS)
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                logp, log1mp = xp.log(p), xp.log(1 - p)
            gt = g * (xp.where(log1mp > -100.0, log1mp, -100.0)
                      - xp.where(logp > -100.0, logp, -100.0))
        return gp, gt


def _bce_cases(fn: Callable[..., Tensor]) -> list[Case]:
    def target(s: tuple[int, ...]) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
        return lambda rng: {"target": rng.uniform(0.0, 1.0, s)}

    return [Case(f"p {shape_label(s)} in (0.05, 0.95), target in [0, 1]", fn, (s,),
                 (uniform(0.05, 0.95),), target(s)) for s in [(5,), (2, 3)]]


@register(BinaryCrossEntropy, public=False, cases=_bce_cases)
def binary_cross_entropy(input: TensorLike, target: TensorLike, weight: TensorLike | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against targets in [0, 1]
    (others raise ValueError); ``weight`` rescales each element's loss and must broadcast to
    the input's shape without changing it (PyTorch's rule: (N,) against (N, 1) is refused)."""
    _check_reduction("binary_cross_entropy", reduction)
    op = "binary_cross_entropy"
    x = _as_input(op, input)
    t = _as_target(op, target, x)
    _check_probability_target(op, t)
    w = None if weight is None else _as_weight(op, "weight", weight, x)
    losses = BinaryCrossEntropy.apply(x, t)
    if w is not None:
        losses = losses * w
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(input: TensorLike, target: TensorLike,
                                     weight: TensorLike | None = None,
                                     pos_weight: TensorLike | None = None,
                                     reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits without forming
    the probabilities: ``t softplus(-x) + (1-t) softplus(x)``, stable at any x. ``pos_weight``
    multiplies the positive term (per class, broadcast over the last axis). ``weight`` and
    ``pos_weight`` must broadcast to the input's shape without changing it (PyTorch's rule).
    Targets are not range-checked (as in PyTorch: the formula is defined for any target)."""
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    x = _as_input(op, input)
    t = _as_target(op, target, x)
    w = None if weight is None else _as_weight(op, "weight", weight, x)
    pw = None if pos_weight is None else _as_weight(op, "pos_weight", pos_weight, x)
    # an array times a Tensor is a Tensor (Tensor.__array_ufunc__); numpy's stubs say ndarray
    positive: Tensor = t * softplus(-x)  # type: ignore[assignment]
    if pw is not None:
        positive = positive * pw
    losses = positive + (1 - t) * softplus(x)
    if w is not None:
        losses = losses * w
    return _reduce(losses, reduction)


def _class_indices(op: str, target: TensorLike, input_shape: tuple[int, ...]) -> np.ndarray | None:
    """The target as an int array of class indices, or None if it holds probabilities."""
    arr = target._data if isinstance(target, Tensor) else np.asarray(target)
    lead, n_classes = input_shape[:-1], input_shape[-1]
    if arr.dtype.kind == "f" and arr.shape == input_shape:
        return None
    if arr.dtype.kind not in "iuf" or arr.shape != lead:
        hint = " (flatten it, e.g. y.ravel())" if arr.shape == lead + (1,) else ""
        raise ValueError(
            f"{op}: target of shape {arr.shape} and dtype {arr.dtype} fits neither class "
            f"indices (integers, shape {lead}) nor probabilities (floats, shape {input_shape})"
            f"{hint}"
        )
    if arr.dtype.kind == "f":
        if not window_args.whole_numbers(arr):
            raise ValueError(f"{op}: a floating target of shape {arr.shape} must hold whole "
                             "class indices; probabilities need the input's shape")
        arr = arr.astype(np.int64)
    if not window_args.indices_in_range(arr, n_classes):
        bad = (arr < 0) | (arr >= n_classes)
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at target{list(pos)}" if pos else ""
        raise ValueError(f"{op}: class index {arr[pos]}{where} is out of range for "
                         f"{n_classes} classes (0..{n_classes - 1})")
    return arr


def nll_loss(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: ``-input[i, target[i]]`` for log-probabilities ``input`` of
    shape (N, C) (or (C,)) and class indices ``target`` of shape (N,) (or ())."""
    _check_reduction("nll_loss", reduction)
    x = _as_input("nll_loss", input)
    if x.ndim not in (1, 2):
        raise ValueError(f"nll_loss: input must have shape (N, C) or (C,), got {x.shape}")
    idx = _class_indices("nll_loss", target, x.shape)
    if idx is None:
        raise ValueError("nll_loss: target must hold class indices (use cross_entropy for "
                         "probability targets)")
    return _reduce(-_pick(x, idx), reduction)


def _pick(x: Tensor, idx: np.ndarray) -> Tensor:
    return x[np.arange(x.shape[0]), idx] if x.ndim == 2 else x[idx]  # idx: a 0-d array


def cross_entropy(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Cross-entropy of the softmax of logits ``input`` (shape (N, C) or (C,)).

    ``target`` holds class indices (ints of shape (N,), or floats with whole values) or
    probabilities / one-hot rows (floats of shape (N, C)); per sample the loss is
    ``-log_softmax(x)[target]`` or ``-sum(target * log_softmax(x))``. Out-of-range class
    indices raise ValueError. Stable at logits of +-1000.
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    x = _as_input(op, input)
    if x.ndim not in (1, 2):
        raise ValueError(f"{op}: input must have shape (N, C) or (C,), got {x.shape}")
    idx = _class_indices(op, target, x.shape)
    lsm = log_softmax(x, axis=-1)
    if idx is not None:
        return _reduce(-_pick(lsm, idx), reduction)
    t = _as_target(op, target, x)
    return _reduce(-(t * lsm).sum(axis=-1), reduction)


class _Loss(Module):
    """A loss module: ``forward(input, target)`` is its ``function(input, target, reduction)``."""

    function: Any = None  # the functional form: a staticmethod (None here, so Any)

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return self.function(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Module form of `mse_loss`."""

    function = staticmethod(mse_loss)


class L1Loss(_Loss):
    """Module form of `l1_loss`."""

    function = staticmethod(l1_loss)


class BCELoss(_Loss):
    """Module form of `binary_cross_entropy` (inputs are probabilities)."""

    def __init__(self, weight: TensorLike | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Module form of `binary_cross_entropy_with_logits`."""

    def __init__(self, weight: TensorLike | None = None, reduction: str = "mean",
                 pos_weight: TensorLike | None = None) -> None:
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, self.pos_weight,
                                                self.reduction)


class CrossEntropyLoss(_Loss):
    """Module form of `cross_entropy` (inputs are logits)."""

    function = staticmethod(cross_entropy)


class NLLLoss(_Loss):
    """Module form of `nll_loss` (inputs are log-probabilities)."""

    function = staticmethod(nll_loss)
