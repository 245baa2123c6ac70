"""`eps_sweep`: the finite-difference error as a function of the step (the V-shaped curve).

For a large step the central difference is off by its truncation error (~eps² f'''/6, the
right arm of the V); for a tiny one by round-off (~machine-eps |f| / eps, the left arm). The
bottom, near eps ~ machine-eps^(1/3) (1e-5..1e-6 in float64, ~5e-3 in float32), is where a
gradient check should work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .analytical import Analytical, forward
from .numerical import check_eps, jacobian_columns
from .problem import Inputs, Problem
from .tables import format_table
from .trust import deterministic_values, refuse_large_jacobian

if TYPE_CHECKING:
    from collections.abc import Iterator

    from numpy.typing import ArrayLike

    from ..types import DTypeLike


@dataclass
class SweepRow:
    eps: float
    max_abs_error: float  # max |analytical - numerical| over every Jacobian entry
    max_rel_error: float  # that divided by max |analytical| (a norm-wise relative error)


class SweepTable:
    """Rows ``(eps, max abs error, max rel error)``; ``str()`` prints them, ``best`` is the row
    with the smallest error, ``plot(path)`` saves the log-log curve."""

    def __init__(self, rows: list[SweepRow], dtype: np.dtype) -> None:
        self.rows = rows
        self.dtype = np.dtype(dtype)
        self.plot_path: str | None = None

    @property
    def eps(self) -> np.ndarray:
        return np.array([r.eps for r in self.rows])

    @property
    def abs_errors(self) -> np.ndarray:
        return np.array([r.max_abs_error for r in self.rows])

    @property
    def rel_errors(self) -> np.ndarray:
        return np.array([r.max_rel_error for r in self.rows])

    @property
    def best(self) -> SweepRow:
        errs = np.nan_to_num(self.abs_errors, nan=np.inf)
        return self.rows[int(np.argmin(errs))]

    def row(self, eps: float) -> SweepRow:
        """The row whose step is closest to ``eps`` (on a log scale)."""
        dist = np.abs(np.log10(self.eps) - np.log10(eps))
        return self.rows[int(np.argmin(dist))]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[SweepRow]:
        return iter(self.rows)

    def __str__(self) -> str:
        best = self.best
        rows = [[f"{r.eps:.0e}", f"{r.max_abs_error:.2e}", f"{r.max_rel_error:.2e}",
                 "<- best" if r is best else ""] for r in self.rows]
        head = (f"finite-difference error vs step ({self.dtype.name} central differences): "
                "truncation dominates for large eps, round-off for small eps")
        return head + "\n" + format_table(["eps", "max abs error", "max rel error", ""], rows)

    __repr__ = __str__

    def plot(self, path: str) -> str:
        """Save the log-log error curve as an image at ``path`` (needs matplotlib)."""
        try:
            from matplotlib.figure import Figure
        except ImportError as e:
            raise ImportError(
                "eps_sweep(plot=...) needs matplotlib, which is not installed: "
                "pip install matplotlib (or pip install 'autograd_nn[plot]')"
            ) from e
        eps, err = self.eps, self.abs_errors
        ok = np.isfinite(err) & (err > 0)
        shown = np.where(ok, err, np.nan)
        fig = Figure(figsize=(6.4, 4.4))
        ax = fig.add_subplot()
        ax.loglog(eps, shown, "o-", label="max |analytical − numerical|")
        best = self.best
        if ok.any():
            big, small = eps[ok].max(), eps[ok].min()
            e_big, e_small = err[eps == big][0], err[eps == small][0]
            grid = np.logspace(np.log10(small), np.log10(big), 50)
            ax.loglog(grid, e_big * (grid / big) ** 2, ":", color="gray",
                      label="truncation ∝ eps²")
            ax.loglog(grid, e_small * (small / grid), "--", color="gray",
                      label="round-off ∝ 1/eps")
            ymin, ymax = np.nanmin(shown), np.nanmax(shown)
            ax.set_ylim(ymin / 10, ymax * 10)
        ax.axvline(best.eps, color="tab:green", alpha=0.5)
        ax.text(0.03, 0.95, "round-off\nregion", transform=ax.transAxes, va="top")
        ax.text(0.97, 0.95, "truncation\nregion", transform=ax.transAxes, va="top", ha="right")
        ax.set_xlabel("finite-difference step eps")
        ax.set_ylabel("error")
        ax.set_title(f"Central-difference error vs step ({self.dtype.name}); "
                     f"best eps={best.eps:.0e}")
        ax.legend(loc="upper center", fontsize="small")
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        self.plot_path = str(path)
        return str(path)


def eps_sweep(f: Callable[..., object], inputs: Inputs, eps_values: ArrayLike | None = None,
              plot: str | None = None, dtype: DTypeLike = np.float64) -> SweepTable:
    """The error between the engine's Jacobian and central differences for each step.

    ``eps_values`` defaults to ``1e-1 ... 1e-12`` (12 steps). The analytical Jacobian is
    computed once in float64; the finite differences in ``dtype`` (float64; pass
    ``"float32"`` to see why float32 cannot check gradients). ``plot=path`` also saves the
    log-log curve as an image (matplotlib, imported only then).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"eps_sweep: dtype must be a floating dtype, got {dtype}")
    steps = np.logspace(-1, -12, 12) if eps_values is None else np.asarray(eps_values, float)
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError("eps_sweep: eps_values must be a non-empty 1-d sequence of steps")
    for e in steps:
        check_eps(e, "eps_sweep")
    problem = Problem(f, inputs, "eps_sweep", warn=dtype == np.float64)
    with problem.restoring():
        if dtype != np.float64:  # the analytical reference at the point the dtype can represent
            problem.base = {i: b.astype(dtype).astype(np.float64) for i, b in problem.base.items()}
        deterministic_values(problem)
        outs, args = forward(problem, sites=False)
        refuse_large_jacobian(problem, 2, "Sweep a smaller problem (fewer or smaller inputs).")
        ana = Analytical(problem, outs, {i: args[i] for i in problem.diff})
        ref = {(k, i): ana.rows(k)[i] for k in problem.checked_outputs for i in problem.diff}
        scale = max((float(np.max(np.abs(a), initial=0.0)) for a in ref.values()), default=0.0)
        rows = []
        for e in steps:
            worst = 0.0
            for i in problem.diff:
                jac, _ = jacobian_columns(problem, i, float(e), dtype=dtype)
                for k in problem.checked_outputs:
                    with np.errstate(all="ignore"):
                        diff = np.nan_to_num(np.abs(ref[(k, i)] - jac[k]), nan=np.inf)
                    worst = max(worst, float(np.max(diff, initial=0.0)))
            rows.append(SweepRow(float(e), worst, worst / scale if scale > 0 else worst))
    table = SweepTable(rows, dtype)
    if plot is not None:
        table.plot(plot)
    return table
