"""`plot_history`: the curves of a `fit` history as a matplotlib figure (matplotlib is
imported only when it is called; without it a `MissingDependencyError` says what to install)."""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import MissingDependencyError

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure  # an optional dependency

__all__ = ["plot_history"]


def _matplotlib() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "plot_history needs matplotlib, which is not installed. Install it with "
            "pip install 'autograd_nn[plot]' (or: pip install matplotlib)"
        ) from None
    return Figure, FigureCanvasAgg


@functools.cache
def _figure_class(Figure: Any, FigureCanvasAgg: Any) -> Any:
    """matplotlib's Figure with a ``_repr_png_``, so that a returned figure draws itself inline
    in Jupyter (a pyplot-free Figure has no display of its own). Built on first use."""

    class HistoryFigure(Figure):
        """A matplotlib Figure (object API, no pyplot state) that shows itself as a PNG."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            FigureCanvasAgg(self)

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=100)
            return buf.getvalue()

    return HistoryFigure


def plot_history(history: Mapping[str, Sequence[float] | np.ndarray],
                 path: str | os.PathLike | None = None, metrics: Sequence[str] | None = None,
                 title: str | None = None) -> Figure:
    """The curves of a `fit` history as a matplotlib ``Figure``: one panel per quantity (loss,
    accuracy, ...), training and ``val_`` curves together. With ``path`` it is also saved
    there as a PNG.

    In Jupyter the returned figure draws inline as a cell's last line. Uses matplotlib's
    object API (no pyplot state, no window); raises `MissingDependencyError` with the install
    command when matplotlib is missing.
    """
    if not isinstance(history, dict) or not any(len(v) for v in history.values()):
        raise ValueError("plot_history: history must be a non-empty dict of per-epoch lists "
                         "(what fit() returns)")
    names = list(metrics) if metrics is not None else \
        [k for k in history if not k.startswith("val_")]
    missing = [k for k in names if k not in history]
    if missing or not names:
        raise ValueError(f"plot_history: no series {missing or names} in the history "
                         f"(it has {sorted(history)})")
    fig = _figure_class(*_matplotlib())(figsize=(4.5 * len(names), 3.5), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if len(history.get(key, ())):  # lists or numpy arrays
                ax.plot(range(1, len(history[key]) + 1), history[key], label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(os.fspath(path), format="png", dpi=100)
    return fig
