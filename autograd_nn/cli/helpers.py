"""Helpers of the ``autograd-nn`` command: the demo's files, the gradcheck summary table, and
the reference-network runs of ``autograd-nn seeds``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..gradcheck.tables import format_table

DOT_HINT = ("graphviz's `dot` program is not installed, so the graph was written as DOT text "
            "to {path}: install Graphviz (`sudo apt-get install graphviz`, `brew install "
            "graphviz`, `conda install -c conda-forge graphviz`, or "
            "https://graphviz.org/download/), then run `dot -Tsvg {path} -o {svg}`")


def write_graph(out: Path, step: dict[str, Any] | None = None) -> Path | None:
    """R1's computation graph at the first training step (the one the three-way table checks)
    with every tensor's value and gradient dJ/d(tensor), each zk marked with its δk
    (`autograd_nn.reference.r1.first_step_graph`), to ``out/graph.svg``; to
    ``out/graph.dot`` plus one line of install hint when graphviz's ``dot`` is missing."""
    from ..reference.r1 import first_step_graph
    from ..viz import render

    graph = first_step_graph(step)
    svg = out / "graph.svg"
    try:
        return Path(render(graph, svg))
    except RuntimeError:  # graphviz's ExecutableNotFound: `dot` is missing
        dot = out / "graph.dot"
        dot.write_text(graph.source)
        print(DOT_HINT.format(path=dot, svg=svg))
        return dot


def write_stepper(path: Path, step: dict[str, Any]) -> Path:
    """The first step's backward pass as a page to step through (`BackwardTrace.to_html`),
    with R1's hand-derived δ4, δ3, δ2 beside the engine's dJ/dz4, dJ/dz3, dJ/dz2."""
    deltas = step["deltas"]
    hand = {f"z{k}": (f"δ{k}, hand-derived (numpy)", deltas[f"delta{k}"]) for k in (4, 3, 2)}
    J = step["J"]
    title = (f"R1, first training step: the backward pass of J = {J.item():.6g}, "
             "step by step")
    return Path(step["trace"].to_html(path, hand=hand, title=title, clusters=False))


def write_loss_curve(losses: Sequence[float], path: Path) -> Path | None:
    """The loss per epoch as a PNG (matplotlib); one line and None when it is missing."""
    from ..train import MissingDependencyError, plot_history

    try:
        plot_history({"loss": [float(v) for v in losses]}, path,
                     title="R1: J = Σ ½(y - ŷ)² per epoch")
        return path
    except MissingDependencyError:
        print("matplotlib is not installed, so no loss curve was drawn "
              "(pip install matplotlib, or pip install 'autograd_nn[plot]')")
        return None


def gradcheck_summary(results: Sequence[Any]) -> str:
    """Per op: kind, cases, passed, worst relative error of first and second order."""
    from .catalog import KIND

    by_op: dict[str, list[Any]] = {}
    for r in results:
        by_op.setdefault(r.case.op, []).append(r)

    def worst(values: list[float]) -> str:
        finite = [v for v in values if np.isfinite(v)]
        return f"{max(finite):.1e}" if finite else "-"

    rows = []
    for op, rs in by_op.items():
        n_ok = sum(r.passed for r in rs)
        rows.append([op, KIND.get(op, ""), str(len(rs)), str(n_ok),
                     worst([r.worst(r.first) for r in rs if r.first is not None]),
                     worst([r.worst(r.second) for r in rs if r.second is not None]),
                     "" if n_ok == len(rs) else "FAILED"])
    table = format_table(["op", "kind", "cases", "passed", "worst rel err 1st",
                          "worst rel err 2nd", ""], rows, left=2)
    n_bad = sum(not r.passed for r in results)
    tail = (f"all {len(results)} cases passed (first and second order)" if not n_bad
            else f"{n_bad} of {len(results)} cases FAILED")
    return f"summary:\n{table}\n{tail}"


# specified number of steps, and the --quick one
STEPS = {"R1": (5000, 500), "R2": (1500, 150), "R3": (1000, 100), "R4": (1000, 100),
         "R5": (1000, 100)}


def train_network(name: str, quick: bool = False) -> list[Any]:
    """Train reference network ``name`` both ways; R5 once per hidden activation."""
    from ..reference import r1, r2, r3, r4, r5

    steps = STEPS[name][1 if quick else 0]
    if name == "R1":
        return [r1.train_side_by_side(epochs=steps)]
    if name == "R2":
        return [r2.train_side_by_side(iterations=steps)]
    if name == "R3":
        return [r3.train_side_by_side(iterations=steps)]
    if name == "R4":
        return [r4.train_side_by_side(epochs=steps)]
    return r5.train_all_activations(iterations=steps)


def seeds_table(reports: Sequence[Any]) -> str:
    """One row per run: steps, max relative engine-vs-hand difference, bit-for-bit, final
    loss, first-step agreement with finite differences, result."""
    rows = []
    for r in reports:
        fd = "-" if r.three_way is None else ("yes" if r.three_way else "NO")
        rows.append([r.name, str(len(r.step_diffs)), f"{r.max_rel_diff:.1e}",
                     "yes" if r.bitwise_equal else f"no ({r.max_param_diff:.0e})", fd,
                     f"{r.final_loss:.6g}"])
    table = format_table(["network", "steps", "max rel diff", "bit for bit", "fd ok",
                          "final loss"], rows, left=1).splitlines()
    width = max(len(line) for line in table)
    lines = [table[0].ljust(width) + "  result"]
    lines += [line.ljust(width) + "  " + r.result for line, r in zip(table[1:], reports)]
    return ("engine vs hand-derived gradients, largest relative difference over every step "
            "(limit 1e-10):\n" + "\n".join(lines))
