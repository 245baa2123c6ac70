"""How a reference network's side-by-side run is compared, shown and reported: the array
comparisons, the progress display, what a run logged (`SideBySideRun`) and the printable
`ReferenceReport`.

Agreement is measured with `autograd_nn.gradcheck.compare_gradients`: per parameter the largest
``|engine - hand| / max(|engine|, |hand|, 1e-12)``; a step's figure is the largest over its
parameters, and a run's the largest over its steps. It must stay below `TOLERANCE` (1e-10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..gradcheck import ThreeWayTable
from ..tensor import Tensor
from ..train import progress_bar

TOLERANCE = 1e-10  # the largest relative engine-vs-hand gradient difference allowed


def as_arrays(grads: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """name -> float64 ndarray (Tensors unwrapped)."""
    return {k: np.asarray(v.data if isinstance(v, Tensor) else v, dtype=np.float64)
            for k, v in grads.items()}


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


def truth_table_lines(X: np.ndarray, y: np.ndarray, pred_hand: np.ndarray,
                      pred_engine: np.ndarray) -> list[str]:
    """One line per truth-table row: its inputs, its label, both runs' predictions."""
    labels = [f"x={row.astype(int).tolist()} label {int(t)}:" for row, t in zip(X, y[:, 0])]
    return format_rows(labels, [f"hand {h:.6f}   engine {e:.6f}"
                                for h, e in zip(pred_hand[:, 0], pred_engine[:, 0])])


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
class SideBySideRun:
    """What one side-by-side training run logged: per step the engine-vs-hand gradient
    difference, the hand run's reported loss and the engine run's; the three-way table of the
    first step (None when not checked)."""

    diffs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    engine_losses: list[float] = field(default_factory=list)
    three_way: ThreeWayTable | None = None


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
