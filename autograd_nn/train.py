"""A training loop (`fit`), evaluation (`evaluate`, `accuracy`), and `plot_history` (from
``history_plot.py``, re-exported here).

The optional dependencies are imported only when used: tqdm draws the progress bar
(``tqdm.auto``: a widget in Jupyter, text elsewhere; without tqdm `fit` prints plain lines),
matplotlib draws `plot_history` (without it a `MissingDependencyError` says what to install).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from .data import BatchIterator
from .errors import MissingDependencyError
from .history_plot import plot_history
from .mode import no_grad
from .tensor import Tensor

if TYPE_CHECKING:
    from .nn.module import Module
    from .optim import Optimizer
    from .types import RngLike, TensorLike

#: a metric: ``f(outputs, targets) -> float`` on numpy arrays
Metric = Callable[[np.ndarray, np.ndarray], float]
#: ``metrics=``: a name (``"accuracy"``) or a `Metric`, several of them, or {name: metric}
Metrics: TypeAlias = "str | Metric | Iterable[str | Metric] | Mapping[str, str | Metric] | None"
#: ``loss_fn(outputs, targets)`` -> a single-element Tensor; ``outputs`` is whatever the model
#: returns and ``targets`` whatever the batches hold, hence Any
LossFn = Callable[[Any, Any], Tensor]
__all__ = ["MissingDependencyError", "accuracy", "evaluate", "fit", "plot_history",
           "progress_bar"]


def _plain(a: TensorLike) -> np.ndarray:
    return a._data if isinstance(a, Tensor) else np.asarray(a)


def accuracy(outputs: TensorLike, targets: TensorLike, threshold: float = 0.5) -> float:
    """Fraction of correct predictions.

    Outputs with several columns are read as classes by their largest entry (targets: class
    indices, or one-hot / probability rows read the same way). A single column (or a 1-d
    output) is a binary prediction ``output >= threshold`` (0.5 suits probabilities; pass
    ``threshold=0`` for logits) against targets 0/1.
    """
    out, tgt = _plain(outputs), _plain(targets)
    n = len(out) if out.ndim else 0
    if out.ndim == 2 and out.shape[1] > 1:
        pred = out.argmax(axis=1)
        if tgt.shape == out.shape:
            tgt = tgt.argmax(axis=1)
        elif tgt.shape in ((n,), (n, 1)):
            tgt = tgt.reshape(n)
        else:
            raise ValueError(f"accuracy: targets of shape {tgt.shape} do not fit outputs of "
                             f"shape {out.shape} (class indices (N,) or one-hot (N, C))")
        return float(np.mean(pred == tgt))
    if out.ndim not in (1, 2) or tgt.size != out.size or (tgt.ndim and len(tgt) != n):
        raise ValueError(f"accuracy: outputs of shape {out.shape} and targets of shape "
                         f"{tgt.shape} do not fit")
    return float(np.mean((out.reshape(n) >= threshold) == (tgt.reshape(n) > 0.5)))


_METRICS: dict[str, Metric] = {"accuracy": accuracy, "acc": accuracy}


def _resolve_metrics(metrics: Metrics) -> list[tuple[str, Metric]]:
    if metrics is None:
        return []
    if isinstance(metrics, (str,)) or callable(metrics):
        metrics = [metrics]
    items = metrics.items() if isinstance(metrics, dict) else [(None, m) for m in metrics]
    out = []
    for name, m in items:
        if isinstance(m, str):
            if m not in _METRICS:
                raise ValueError(f"unknown metric {m!r}; use one of {sorted(_METRICS)} or a "
                                 "callable metric(outputs, targets) -> float")
            out.append((name or ("accuracy" if m == "acc" else m), _METRICS[m]))
        elif callable(m):
            out.append((name or getattr(m, "__name__", "metric"), m))
        else:
            raise TypeError(f"a metric must be a name or a callable, got {type(m).__name__}")
    return out


def _as_input(x: TensorLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._from_op(np.asarray(x), None)


def _is_array(a: object) -> bool:
    return isinstance(a, (np.ndarray, Tensor))


def _check_pair(what: str, data: Any) -> tuple[Any, Any]:
    """``data`` as the arrays of an ``(X, y)`` pair: a tuple of exactly two numpy arrays or
    Tensors with the same (non-zero) number of samples; anything else is refused."""
    if not isinstance(data, tuple) or len(data) != 2 or not all(map(_is_array, data)):
        got = (f"a tuple of {len(data)}: ({', '.join(type(d).__name__ for d in data)})"
               if isinstance(data, tuple) else type(data).__name__)
        raise TypeError(f"fit: {what} must be a tuple (X, y) of two numpy arrays or Tensors, "
                        f"got {got}; convert lists with np.asarray, and pass batches as a "
                        "list of (inputs, targets) pairs or a BatchIterator")
    X, y = data
    if np.ndim(_plain(X)) == 0 or np.ndim(_plain(y)) == 0:
        raise ValueError(f"fit: {what} (X, y) needs arrays whose first axis indexes samples, "
                         f"got shapes {np.shape(_plain(X))} and {np.shape(_plain(y))}")
    n, m = len(_plain(X)), len(_plain(y))
    if n != m:
        raise ValueError(f"fit: {what} has {n} inputs but {m} targets")
    if n == 0:
        raise ValueError(f"fit: {what} has no samples (X of shape {np.shape(_plain(X))})")
    return X, y


def _batches(data: object, batch_size: int | None, shuffle: bool, rng: RngLike | None
             ) -> Iterable[Any]:
    """The contract, decided by type and never by length: a tuple is one ``(X, y)`` pair of
    arrays, batched here; any other re-iterable (a list, a `BatchIterator`) holds batches."""
    if isinstance(data, tuple):
        X, y = _check_pair("data", data)
        size = len(_plain(X)) if batch_size is None else batch_size  # 0 is an error
        return BatchIterator(X, y, batch_size=size, shuffle=shuffle, rng=rng)
    if _is_array(data) or isinstance(data, (str, bytes, dict)) or not isinstance(data, Iterable):
        raise TypeError(f"fit: data must be a tuple (X, y) of arrays or an iterable of "
                        f"(inputs, targets) batches such as a BatchIterator, got "
                        f"{type(data).__name__}")
    if rng is not None:
        raise ValueError("fit: rng applies only to data=(X, y), which fit batches itself; "
                         "shuffle a BatchIterator with its own rng")
    return data


def _unpack(batch: Any, epoch: int, index: int) -> tuple[Any, Any]:
    """One batch as (inputs, targets): a tuple or list of two with the same non-zero length."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        kind = f"a {type(batch).__name__}" + (f" of {len(batch)}" if isinstance(
            batch, (tuple, list)) else "")
        raise TypeError(f"fit: batch {index} of epoch {epoch} is {kind}, not an (inputs, "
                        "targets) pair; to train on whole arrays pass the tuple (X, y)")
    xb, yb = batch
    n, m = len(_plain(xb)) if np.ndim(_plain(xb)) else -1, \
        len(_plain(yb)) if np.ndim(_plain(yb)) else -1
    if n <= 0 or n != m:
        raise ValueError(f"fit: batch {index} of epoch {epoch} has {max(n, 0)} inputs and "
                         f"{max(m, 0)} targets; a batch needs the same number (at least 1) "
                         "of each along the first axis")
    return xb, yb


def _check_finite(loss: Tensor, params: list[tuple[str, Tensor]], epoch: int,
                  index: int) -> None:
    """Stop before a non-finite loss or gradient reaches the parameters."""
    where = f"at epoch {epoch}, batch {index}"
    kept = "; the parameters were not updated with this batch"
    value = loss.item()
    if not np.isfinite(value):
        raise FloatingPointError(f"fit: the loss is {value} {where}{kept} (check the inputs, "
                                 "the learning rate and the loss's domain)")
    for name, p in params:
        if p.grad is not None and not np.all(np.isfinite(p.grad._data)):
            raise FloatingPointError(f"fit: the gradient of parameter {name} is not finite "
                                     f"{where} (the loss is {value:.6g}){kept}")


def _named(model: Module, optimizer: Optimizer) -> list[tuple[str, Tensor]]:
    """The optimizer's parameters with the model's dotted names where it has them."""
    names = {}
    if hasattr(model, "named_parameters"):
        names = {id(p): repr(n) for n, p in model.named_parameters()}
    params = [p for g in getattr(optimizer, "param_groups", []) for p in g["params"]]
    return [(names.get(id(p), f"#{i}"), p) for i, p in enumerate(params)]


def _scalar_loss(loss: object) -> Tensor:
    if not isinstance(loss, Tensor) or loss.size != 1:
        raise TypeError("fit: loss_fn(outputs, targets) must return a single-element Tensor, "
                        f"got {type(loss).__name__} {getattr(loss, 'shape', '')}")
    return loss


def evaluate(model: Module, loss_fn: LossFn | None, X: TensorLike, y: TensorLike,
             metrics: Metrics = (), batch_size: int | None = None) -> dict[str, float]:
    """Loss (when ``loss_fn`` is given) and metrics of ``model`` on ``(X, y)``, in eval mode
    and without recording a graph; the mean over batches, weighted by batch size."""
    resolved = _resolve_metrics(metrics)
    n = len(_plain(X)) if np.ndim(_plain(X)) else 0
    if n == 0:
        raise ValueError(f"evaluate: no samples (X of shape {np.shape(_plain(X))})")
    sums: dict[str, float] = {}
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        with no_grad():
            size = n if batch_size is None else batch_size
            for xb, yb in BatchIterator(X, y, batch_size=size):
                out = model(_as_input(xb))
                k = len(_plain(xb))
                if loss_fn is not None:
                    sums["loss"] = sums.get("loss", 0.0) + _scalar_loss(loss_fn(out, yb)).item() * k
                for name, fn in resolved:
                    sums[name] = sums.get(name, 0.0) + float(fn(_plain(out), _plain(yb))) * k
    finally:
        if was_training is not None:
            model.train(was_training)
    return {k: v / n for k, v in sums.items()}


def progress_bar(total: int, desc: str, unit: str) -> Any:  # a tqdm bar (no stubs) or None
    """A ``tqdm.auto`` bar (the notebook widget in Jupyter, text on stderr elsewhere), or None
    when tqdm is not installed (the caller then prints plain lines)."""
    try:
        import tqdm  # noqa: F401  (the package first: a removed tqdm may leave tqdm.auto cached)
        from tqdm.auto import tqdm as auto_tqdm
    except ImportError:
        return None
    return auto_tqdm(total=total, desc=desc, unit=unit)


def _line(epoch: int, epochs: int, history: dict[str, list[float]]) -> str:
    parts = [f"{k} {v[-1]:.4g}" for k, v in history.items() if v]
    return f"epoch {epoch}/{epochs}  " + "  ".join(parts)


def fit(model: Module, loss_fn: LossFn,
        optimizer: Optimizer, data: tuple[TensorLike, TensorLike] | Iterable[object],
        epochs: int = 1, *, batch_size: int | None = 32, shuffle: bool = True,
        rng: RngLike | None = None, metrics: Metrics = (),
        validation_data: tuple[TensorLike, TensorLike] | None = None,
        callback: Callable[[int, dict[str, list[float]]], object] | None = None,
        progress: bool | int = True) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs`` passes over ``data`` and return the history.

    The data contract is decided by type, never guessed from a length: ``data`` is either
    a **tuple** ``(X, y)`` of two numpy arrays or Tensors (batched here: ``batch_size``,
    None for full batch; ``shuffle`` with ``rng``), or any other re-iterable of
    ``(inputs, targets)`` batches, e.g. a `BatchIterator` or a list of pairs (``batch_size``
    and ``shuffle`` do not apply to it; ``rng`` is refused). Anything else (a list ``[X, y]``,
    a tuple of batches, empty data, a batch that is not a pair) raises before training starts
    or at the batch, naming it. Each batch: ``zero_grad``, ``loss_fn(model(inputs),
    targets)``, ``backward``, ``optimizer.step()``. A non-finite loss or gradient raises
    `FloatingPointError` naming the epoch and batch, before that batch updates the
    parameters. ``metrics``: names (``"accuracy"``) or callables
    ``f(outputs, targets) -> float``, computed on the training batches as they go.
    ``validation_data=(X_val, y_val)`` (a tuple of arrays, checked before
    training) is evaluated after each epoch (``val_loss``,
    ``val_<metric>``). ``callback(epoch, history)`` runs after each epoch (epoch counts from
    1); returning ``False`` stops training. ``progress``: a tqdm bar when tqdm is installed
    (`progress_bar`: the widget in Jupyter), else a plain line every ``epochs // 10`` epochs
    (an int sets that interval; False: quiet).

    Returns ``{"loss": [...], "<metric>": [...], "val_loss": [...], ...}`` (one entry per
    epoch; loss and metrics are means over the epoch's batches weighted by batch size).
    """
    resolved, batches, params = _fit_plan(model, optimizer, data, epochs, batch_size, shuffle,
                                          rng, metrics, validation_data)
    history = _empty_history(resolved, validation_data is not None)
    report = _Progress(epochs, progress)
    was_training = getattr(model, "training", True)
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            sums, count = _train_epoch(model, loss_fn, optimizer, batches, resolved, epoch,
                                       params)
            for key, total in sums.items():
                history[key].append(total / count)
            if validation_data is not None:
                Xv, yv = validation_data
                scores = evaluate(model, loss_fn, Xv, yv, dict(resolved), batch_size)
                for key, v in scores.items():
                    history[f"val_{key}"].append(v)
            report.epoch_done(epoch, history)
            if callback is not None and callback(epoch, history) is False:
                break
    finally:
        report.close()
        if hasattr(model, "train"):
            model.train(was_training)
    return history


def _fit_plan(model: Module, optimizer: Optimizer, data: object, epochs: int,
              batch_size: int | None, shuffle: bool, rng: RngLike | None, metrics: Metrics,
              validation_data: tuple[TensorLike, TensorLike] | None,
              ) -> tuple[list[tuple[str, Metric]], Iterable[Any], list[tuple[str, Tensor]]]:
    """`fit`'s arguments checked before training: the metrics, the batches of an epoch and
    the named parameters."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    resolved = _resolve_metrics(metrics)
    batches = _batches(data, batch_size, shuffle, rng)
    if validation_data is not None:
        _check_pair("validation_data", validation_data)
    params = _named(model, optimizer)
    if iter(batches) is batches and epochs > 1:
        raise ValueError("fit: data is a one-shot iterator (e.g. a generator) but several "
                         "epochs were asked for; pass (X, y) or a BatchIterator")
    return resolved, batches, params


def _empty_history(resolved: list[tuple[str, Metric]], validation: bool) -> dict[str, list[float]]:
    """``{"loss": [], "<metric>": [], "val_loss": [], "val_<metric>": []}`` (val_ with
    ``validation``)."""
    keys = ["loss", *(name for name, _ in resolved)]
    if validation:
        keys += [f"val_{k}" for k in keys]
    return {k: [] for k in keys}


class _Progress:
    """`fit`'s progress report: a tqdm bar (``progress=True`` with tqdm installed), else a
    plain line every ``epochs // 10`` epochs (or every ``progress`` epochs), or nothing."""

    def __init__(self, epochs: int, progress: bool | int) -> None:
        self.epochs, self.bar, self.every = epochs, None, 0
        if not progress:
            return
        if progress is True:
            self.bar = progress_bar(epochs, "fit", "epoch")
        if self.bar is None:
            self.every = progress if progress is not True else max(1, epochs // 10)

    def epoch_done(self, epoch: int, history: dict[str, list[float]]) -> None:
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items() if v},
                                 refresh=False)
            self.bar.update(1)
        elif self.every and (epoch % self.every == 0 or epoch in (1, self.epochs)):
            print(_line(epoch, self.epochs, history), flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _train_epoch(model: Module, loss_fn: LossFn, optimizer: Optimizer,
                 batches: Iterable[Any], resolved: list[tuple[str, Metric]], epoch: int,
                 params: list[tuple[str, Tensor]]) -> tuple[dict[str, float], int]:
    """One pass over the batches: the batch-size weighted sums of loss and metrics, and the
    number of samples seen."""
    sums, count = dict.fromkeys(["loss"] + [n for n, _ in resolved], 0.0), 0
    index = 0
    for index, batch in enumerate(batches, 1):
        xb, yb = _unpack(batch, epoch, index)
        optimizer.zero_grad()
        out = model(_as_input(xb))
        loss = _scalar_loss(loss_fn(out, yb))
        _check_finite(loss, [], epoch, index)
        loss.backward()
        _check_finite(loss, params, epoch, index)
        optimizer.step()
        k = len(_plain(xb))
        count += k
        sums["loss"] += loss.item() * k
        for name, fn in resolved:
            sums[name] += float(fn(_plain(out), _plain(yb))) * k
    if index == 0:
        raise ValueError(f"fit: the data yielded no batches in epoch {epoch}")
    return sums, count
