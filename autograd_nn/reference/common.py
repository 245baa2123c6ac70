"""What the five reference networks share: the numpy sigmoid of the hand-derived code, the
engine-vs-hand gradient comparison, a progress display, and the printable report.

Agreement is measured with `autograd_nn.gradcheck.compare_gradients`: per parameter the largest
``|engine - hand| / max(|engine|, |hand|, 1e-12)``; a step's figure is the largest over its
parameters, and a run's the largest over its steps. It must stay below `TOLERANCE` (1e-10).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from .. import nn, optim
from ..gradcheck import ThreeWayTable, check_three_way, compare_gradients
from ..mode import no_grad
from ..nn import functional as F
from ..tensor import Tensor
from ..train import progress_bar

TOLERANCE = 1e-10  # the largest relative engine-vs-hand gradient difference allowed


@overload
def sigmoid(z: float) -> float: ...
@overload
def sigmoid(z: np.ndarray) -> np.ndarray: ...
def sigmoid(z: float | np.ndarray) -> float | np.ndarray:
    """σ(z) = 1 / (1 + e^(-z)), written out as the reference networks do (plain numpy); a
    float (R4's scalars) gives a float (numpy's float64)."""
    return 1.0 / (1.0 + np.exp(-z))


@overload
def sigmoid_prime(z: float) -> float: ...
@overload
def sigmoid_prime(z: np.ndarray) -> np.ndarray: ...
def sigmoid_prime(z: float | np.ndarray) -> float | np.ndarray:
    """σ'(z) = σ(z)(1 - σ(z)) (the same number as e^(-z)/(1+e^(-z))² up to rounding)."""
    s = sigmoid(z)
    return s * (1 - s)


def as_arrays(grads: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """name -> float64 ndarray (Tensors unwrapped)."""
    return {k: np.asarray(v.data if isinstance(v, Tensor) else v, dtype=np.float64)
            for k, v in grads.items()}


def engine_grads(params: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    """The ``.grad`` of each named parameter after ``backward()``, as arrays (copies)."""
    out = {}
    for name, p in params.items():
        if p.grad is None:
            raise RuntimeError(f"parameter {name} has no gradient: was backward() called?")
        out[name] = np.array(p.grad.data, dtype=np.float64)
    return out


def engine_step(opt: Any, loss_fn: Any, params: Mapping[str, Tensor],
                hand_grads: Mapping[str, Any], with_fd: bool) -> tuple[Tensor, float, Any]:
    """The engine's gradient beside the hand-derived one: zero the grads, ``loss_fn()``,
    backward; returns the loss, the largest relative difference of the two gradients and,
    ``with_fd``, the three-way table with finite differences (else None). No step is taken."""
    opt.zero_grad()
    loss = loss_fn()
    loss.backward()
    g_eng = engine_grads(params)
    three_way = check_three_way(loss_fn, params, hand_grads, engine=g_eng) if with_fd else None
    return loss, gradient_difference(g_eng, hand_grads), three_way


def gradient_difference(engine: Mapping[str, Any], hand: Mapping[str, Any]) -> float:
    """The largest relative difference between two sets of named gradients (see module doc).
    Bitwise-equal sets give 0.0 without building the comparison table."""
    if bitwise_equal(engine, hand):
        return 0.0
    table = compare_gradients(as_arrays(engine), as_arrays(hand), labels=("engine", "hand"))
    return max(row.max_rel_diff for row in table.rows)


class Progress:
    """A tqdm bar when tqdm is installed (`autograd_nn.train.progress_bar`), else a plain line
    every ``total // 10`` steps; nothing at all when ``enabled`` is False."""

    def __init__(self, total: int, desc: str, enabled: bool = True,
                 unit: str = "step") -> None:
        self.total, self.desc, self.enabled, self.unit = total, desc, enabled, unit
        self.count, self.bar = 0, None
        self.every = max(1, total // 10)
        if enabled:
            self.bar = progress_bar(total, desc, unit)

    def update(self, loss: float) -> None:
        self.count += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
            self.bar.update(1)
        elif self.count % self.every == 0 or self.count in (1, self.total):
            print(f"{self.desc}: {self.unit} {self.count}/{self.total}  loss {loss:.6g}",
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class LogRow:
    """One printed row: the epoch, the loss as the network reports it (hand-derived run and
    engine run), and the largest engine-vs-hand gradient difference since the previous row."""

    epoch: int
    loss: float
    engine_loss: float
    max_rel_diff: float


@dataclass
class ReferenceReport:
    """The side-by-side run of one reference network; ``str()`` prints all of it.

    ``step_diffs`` has one engine-vs-hand figure per gradient step; ``losses`` one reported
    loss per epoch or iteration (hand-derived run; ``engine_losses`` the engine run's), taken
    at the parameters the step's gradient was computed at (R4: after each epoch's updates, as
    the original reports it); ``three_way`` the table at the first step; ``result`` a
    one-line summary and ``result_lines`` the details.
    """

    name: str
    title: str
    settings: list[str]
    step_diffs: np.ndarray
    losses: np.ndarray
    engine_losses: np.ndarray
    log: list[LogRow]
    three_way: ThreeWayTable | None
    result: str
    result_lines: list[str]
    max_param_diff: float  # max |engine - hand| over the final parameters
    bitwise_equal: bool  # final parameters and predictions identical bit for bit
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    epoch_label: str = "epoch"  # what one logged row counts ("epoch" or "iter")

    @classmethod
    def from_run(cls, diffs: list[float], losses: list[float], engine_losses: list[float],
                 log_every: int, hand: tuple[Mapping[str, Any], Any],
                 engine: tuple[Mapping[str, Any], Any], steps_per_epoch: int = 1,
                 **fields: Any) -> ReferenceReport:
        """The report of a finished side-by-side run: ``hand`` and ``engine`` are each
        ``(final parameters, final predictions)``; the log keeps every ``log_every``-th row."""
        (w_hand, p_hand), (w_engine, p_engine) = hand, engine
        same = bitwise_equal(w_engine, w_hand) and bitwise_equal({"p": p_engine}, {"p": p_hand})
        return cls(step_diffs=np.asarray(diffs), losses=np.asarray(losses),
                   engine_losses=np.asarray(engine_losses),
                   log=log_rows(diffs, losses, engine_losses, steps_per_epoch, log_every),
                   max_param_diff=max_abs_difference(w_engine, w_hand), bitwise_equal=same,
                   **fields)

    @classmethod
    def from_side_by_side(cls, run: SideBySideRun, log_every: int | None, model: Any,
                          hand: tuple[Mapping[str, Any], Any],
                          engine: tuple[Mapping[str, Any], Any], extra: Mapping[str, Any],
                          **fields: Any) -> ReferenceReport:
        """`from_run` of a `run_side_by_side` run of the engine ``model``; ``log_every`` None
        logs about ten rows; ``extra`` gets the final weights ``W_hand``, ``W_engine`` and the
        ``model`` after the network's own entries."""
        extra = {**extra, "W_hand": hand[0], "W_engine": engine[0], "model": model}
        return cls.from_run(run.diffs, run.losses, run.engine_losses,
                            log_every or max(1, len(run.losses) // 10), hand=hand, engine=engine,
                            three_way=run.three_way, extra=extra, **fields)

    @property
    def max_rel_diff(self) -> float:
        """The largest engine-vs-hand relative gradient difference over the whole run."""
        return float(np.max(self.step_diffs, initial=0.0))

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    @property
    def ok(self) -> bool:
        """Engine and hand agree below `TOLERANCE` at every step and, at the first step,
        both agree with finite differences."""
        fd_ok = self.three_way is None or bool(self.three_way)
        return self.max_rel_diff < TOLERANCE and fd_ok

    def summary(self) -> str:
        """One line: max difference over the run, final loss, result."""
        return (f"{self.name}: max |engine-hand| rel {self.max_rel_diff:.1e} over "
                f"{len(self.step_diffs)} steps, final loss {self.final_loss:.6g}, {self.result}")

    def format(self, max_rows: int | None = 21) -> str:
        """The whole report with at most ``max_rows`` rows of the log (every k-th, the first
        and last included; each shown row's difference covers the hidden rows before it;
        None: all rows)."""
        lines = [f"{self.name}: {self.title}"]
        lines += [f"  {s}" for s in self.settings]
        if self.three_way is not None:
            lines += ["", "At the first step:", str(self.three_way)]
        rows = self.log
        if max_rows is not None and len(rows) > max_rows > 1:
            stride = -(-(len(rows) - 1) // (max_rows - 1))  # ceil
            keep = np.unique([*range(0, len(rows), stride), len(rows) - 1])
            starts = np.concatenate([[0], keep[:-1] + 1])
            rows = [LogRow(rows[k].epoch, rows[k].loss, rows[k].engine_loss,
                           max(r.max_rel_diff for r in rows[a:k + 1]))
                    for a, k in zip(starts, keep)]
        lines += ["", f"{self.epoch_label:>7}  {'loss (hand)':>14}  {'loss (engine)':>14}  "
                      "max rel diff of the gradients since the previous row"]
        lines += [f"{r.epoch:>7}  {r.loss:>14.8g}  {r.engine_loss:>14.8g}  {r.max_rel_diff:.1e}"
                  for r in rows]
        if len(rows) < len(self.log):
            lines.append(f"({len(rows)} of the {len(self.log)} logged rows shown; "
                         "report.format(max_rows=None) prints all)")
        verdict = "OK" if self.max_rel_diff < TOLERANCE else "TOO LARGE"
        lines += ["", f"largest relative difference engine vs hand over all "
                      f"{len(self.step_diffs)} steps: {self.max_rel_diff:.2e} "
                      f"(limit {TOLERANCE:g}): {verdict}"]
        same = "identical bit for bit" if self.bitwise_equal else "not bitwise identical"
        lines.append(f"final parameters, engine run vs hand run: max |difference| "
                     f"{self.max_param_diff:.1e} ({same})")
        lines += ["", f"result: {self.result}"] + [f"  {s}" for s in self.result_lines]
        if self.notes:
            lines += [""] + [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    __repr__ = __str__


def log_rows(step_diffs: Iterable[float], losses: Iterable[float],
             engine_losses: Iterable[float], steps_per_epoch: int,
             log_every: int) -> list[LogRow]:
    """Rows for epoch 1, every ``log_every``-th epoch and the last one; each row's difference
    is the largest over the gradient steps since the previous row."""
    diffs, loss, eloss = np.asarray(list(step_diffs)), list(losses), list(engine_losses)
    n = len(loss)
    epochs = sorted({1, n, *range(log_every, n + 1, log_every)}) if n else []
    rows, start = [], 0
    for e in epochs:
        stop = e * steps_per_epoch
        rows.append(LogRow(e, loss[e - 1], eloss[e - 1],
                           float(np.max(diffs[start:stop], initial=0.0))))
        start = stop
    return rows


def max_abs_difference(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """max |a[k] - b[k]| over every named array."""
    a, b = as_arrays(a), as_arrays(b)
    return max(float(np.max(np.abs(a[k] - b[k]), initial=0.0)) for k in a)


def bitwise_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Every named array of ``a`` equals ``b``'s bit for bit (same shape, same values)."""
    a, b = as_arrays(a), as_arrays(b)
    return a.keys() == b.keys() and all(
        a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes() for k in a)


def format_rows(labels: Iterable[str], values: Iterable[Any], fmt: str = "{:.6f}") -> list[str]:
    """``label  value`` lines, labels padded to one width."""
    labels, values = list(labels), list(values)
    width = max((len(s) for s in labels), default=0)
    return [f"{s.ljust(width)}  {fmt.format(v) if not isinstance(v, str) else v}"
            for s, v in zip(labels, values)]


@dataclass
class SideBySideRun:
    """What one side-by-side training run logged: per step the engine-vs-hand gradient
    difference, the hand run's reported loss and the engine run's; the three-way table of the
    first step (None when not checked)."""

    diffs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    engine_losses: list[float] = field(default_factory=list)
    three_way: ThreeWayTable | None = None


def run_side_by_side(steps: int, hand_step: Callable[[], tuple[float, Mapping[str, Any]]],
                     engine_loss: Callable[[], Tensor], opt: Any,
                     params: Mapping[str, Tensor], check_fd: bool, bar: Progress,
                     engine_reported: Callable[[Tensor], float] | None = None
                     ) -> SideBySideRun:
    """The loop the full-batch networks (R1, R2, R3, R5) share. Each step ``hand_step()``
    runs the network's own hand-derived pass and update and returns ``(reported loss,
    ∂L/∂W)``; the engine's gradient of ``engine_loss()`` is compared with that ∂L/∂W (and, at
    step 1 with ``check_fd``, both with finite differences), logged, and ``opt`` steps.
    ``engine_reported(loss)`` gives the engine run's reported loss (default ``loss.item()``)."""
    run = SideBySideRun()
    try:
        for step in range(1, steps + 1):
            hand_loss, hand_grads = hand_step()
            loss, diff, table = engine_step(opt, engine_loss, params, hand_grads,
                                            step == 1 and check_fd)
            if table is not None:
                run.three_way = table
            run.diffs.append(diff)
            run.losses.append(hand_loss)
            run.engine_losses.append(loss.item() if engine_reported is None
                                     else engine_reported(loss))
            opt.step()
            bar.update(hand_loss)
    finally:
        bar.close()
    return run


def run_adding_updates(iterations: int, data: tuple[np.ndarray, np.ndarray],
                       W: dict[str, np.ndarray], hand_updates: Callable[..., Any],
                       model: Any, engine_loss: Callable[[Any, Tensor, Tensor], Tensor],
                       check_fd: bool, bar: Progress,
                       engine_reported: Callable[[Tensor], float] | None = None
                       ) -> SideBySideRun:
    """`run_side_by_side` for R2 and R3, whose recipes add updates ``W += dW`` with
    ``dW = -∂L/∂W`` (learning rate 1): ``hand_updates(X, y, W)`` gives ``(loss, dW)``, and the
    engine takes SGD steps (lr 1) on ``engine_loss(model, X, y)``."""
    X, y = data
    Xt, yt = Tensor(X), Tensor(y)

    def hand_step() -> tuple[float, dict[str, np.ndarray]]:
        loss, dW = hand_updates(X, y, W)
        add_updates(W, dW)
        return loss, {k: -v for k, v in dW.items()}  # the engine's gradient is -dW

    return run_side_by_side(iterations, hand_step, lambda: engine_loss(model, Xt, yt),
                            optim.SGD(model.parameters(), lr=1.0), model.weights(), check_fd,
                            bar, engine_reported)


def final_engine_state(model: Any, X: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The trained engine model's predictions on ``X`` and its final ``weights()``."""
    with no_grad():
        predictions = model(Tensor(X)).numpy()
    return predictions, {k: p.numpy() for k, p in model.weights().items()}


def truth_table_lines(X: np.ndarray, y: np.ndarray, pred_hand: np.ndarray,
                      pred_engine: np.ndarray) -> list[str]:
    """One line per truth-table row: its inputs, its label, both runs' predictions."""
    labels = [f"x={row.astype(int).tolist()} label {int(t)}:" for row, t in zip(X, y[:, 0])]
    return format_rows(labels, [f"hand {h:.6f}   engine {e:.6f}"
                                for h, e in zip(pred_hand[:, 0], pred_engine[:, 0])])


def seeded_legacy_weights(seed: int, draw: Callable[..., np.ndarray],
                          shapes: Mapping[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """``np.random.seed(seed)``, then each named weight drawn in order with ``draw(*shape)``
    (``np.random.rand`` or ``np.random.randn``), as the legacy-numpy recipes write it."""
    np.random.seed(seed)
    return {name: draw(*shape) for name, shape in shapes.items()}


def filled_from_legacy_seed(model: nn.Module, seed: int, distribution: str = "randn") -> Any:
    """``model`` with its ``weights()`` filled in order from ``np.random.seed(seed)`` and
    ``distribution`` ("randn" or "rand"), the draws of the legacy-numpy recipes."""
    nn.init.fill_from_numpy_global(list(model.weights().values()), seed=seed,
                                   distribution=distribution)
    return model


def sigmoid_layers(X: np.ndarray, W: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two sigmoid layers without biases (R2, R3): ``(σ(X@W1), σ(σ(X@W1)@W2))``."""
    hidden = sigmoid(X @ W["W1"])
    return hidden, sigmoid(hidden @ W["W2"])


def add_updates(W: dict[str, np.ndarray], dW: Mapping[str, np.ndarray]) -> None:
    """``W += dW`` per weight, in place (R2, R3: the updates already point downhill, lr 1)."""
    for k in W:
        W[k] += dW[k]


def descend(W: dict[str, np.ndarray], grads: Mapping[str, np.ndarray], lr: float) -> None:
    """``W ← W - lr·∂L/∂W`` per weight, in place (R1, R5)."""
    for k in W:
        W[k] -= lr * grads[k]


class TwoLayerSigmoid(nn.Module):
    """``n_in -> n_hidden -> n_out``, sigmoid after both layers, no biases (R2 and R3):
    W1 = ``hidden.weight`` (n_in, n_hidden), W2 = ``output.weight`` (n_hidden, n_out)."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden, bias=False)
        self.output = nn.Linear(n_hidden, n_out, bias=False)

    def forward(self, X: Tensor) -> Tensor:
        return F.sigmoid(self.output(F.sigmoid(self.hidden(X))))

    def weights(self) -> dict[str, nn.Parameter]:
        return {"W1": self.hidden.weight, "W2": self.output.weight}
