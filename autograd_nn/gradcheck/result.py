"""What a gradient check returns: per input/output pair results, the non-differentiable
points, the ops whose own derivative is wrong, and the readable report built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class GradcheckError(AssertionError):
    """A gradient check failed. ``str(err)`` is the report; ``err.result`` the full result.

    It subclasses ``AssertionError`` because a failed check is a failed assertion about the
    code under test: test runners show it as a failure, and ``pytest.raises(AssertionError)``
    catches it. Bad arguments to the checkers raise ``TypeError``/``ValueError`` instead.
    """

    def __init__(self, message: str, result: GradcheckResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def fmt_index(idx: tuple | None) -> str:
    """``(2, 0)`` -> ``[2, 0]``; a 0-d element -> ``""``."""
    if not idx:
        return ""
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def fmt_num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.6g}"


def fmt_err(x: float) -> str:
    return f"{x:.2e}"


@dataclass
class NondiffPoint:
    """An entry whose finite-difference stencil straddles a kink, tie or domain edge."""

    input: str
    input_index: int
    output: str
    output_index: int
    input_element: tuple
    output_element: tuple
    left: float  # backward difference
    right: float  # forward difference
    analytical: float  # the engine's value there
    at_point: bool  # the kink is at the input value itself (not merely inside the stencil)
    domain_edge: bool = False

    def describe(self) -> str:
        where = (f"non-differentiable at index {self.input_element} of {self.input} "
                 f"(d {self.output}{fmt_index(self.output_element)} / "
                 f"d {self.input}{fmt_index(self.input_element)})")
        if self.domain_edge:
            return (f"{where}: f is finite on one side only (edge of its domain); engine's value "
                    f"{fmt_num(self.analytical)}")
        near = "" if self.at_point else " (the stencil straddles a nearby kink)"
        return (f"{where}{near}: one-sided derivatives {fmt_num(self.left)} (left) and "
                f"{fmt_num(self.right)} (right); engine uses the documented subgradient "
                f"{fmt_num(self.analytical)}")


@dataclass
class PairResult:
    """The check of d(output)/d(input) for one input/output pair."""

    input: str
    input_index: int
    input_shape: tuple
    output: str
    output_index: int
    output_shape: tuple
    passed: bool
    mode: str  # "full", "fast" or "full (after fast mode flagged it)"
    n_checked: int  # Jacobian entries compared (1 for a fast-mode projection)
    n_failed: int
    max_abs_error: float  # over the entries that are not non-differentiable points
    max_rel_error: float  # |a - n| / max(|a|, |n|, atol)
    worst_input_element: tuple | None = None
    worst_output_element: tuple | None = None
    analytical: float | None = None  # at the worst entry (the projections in fast mode)
    numerical: float | None = None
    nondiff: list[NondiffPoint] = field(default_factory=list)
    note: str = ""
    analytical_jacobian: np.ndarray | None = field(default=None, repr=False)
    numerical_jacobian: np.ndarray | None = field(default=None, repr=False)

    def describe(self) -> list[str]:
        head = (f"{self.input} (input {self.input_index}, shape {self.input_shape}) -> "
                f"{self.output} (shape {self.output_shape})")
        stats = (f"max abs error {fmt_err(self.max_abs_error)}, "
                 f"max rel error {fmt_err(self.max_rel_error)}")
        if self.nondiff:
            stats += f"; {len(self.nondiff)} non-differentiable point(s) excluded"
        if self.mode == "fast":
            proj = (f"uᵀJv analytical {fmt_num(self.analytical)}, numerical "
                    f"{fmt_num(self.numerical)}")
            verdict = "ok" if self.passed else "FAILED"
            lines = [f"{head}: {verdict} (fast mode: {proj})"]
        elif self.passed:
            lines = [f"{head}: ok ({stats})"]
        else:
            lines = [f"{head}: FAILED, {self.n_failed} of {self.n_checked} entries"
                     + (f" ({self.mode})" if self.mode != "full" else ""), f"    {stats}"]
            if self.worst_input_element is not None:
                lines.append(
                    f"    worst at {self.input}{fmt_index(self.worst_input_element)} "
                    f"(input index {self.worst_input_element}, output index "
                    f"{self.worst_output_element}): d {self.output}"
                    f"{fmt_index(self.worst_output_element)} / d {self.input}"
                    f"{fmt_index(self.worst_input_element)}: analytical "
                    f"{fmt_num(self.analytical)}, numerical {fmt_num(self.numerical)}"
                )
        if self.note:
            lines.append(f"    note: {self.note}")
        return lines


class GradcheckResult:
    """The outcome of `gradcheck` / `gradgradcheck`: truthy when the check passed.

    ``pairs`` holds one `PairResult` per (input, output); ``cannot_vouch`` the reasons the
    check could not vouch for f at all (f not deterministic, ...: each fails the check, and
    the pairs may then be empty); ``nondiff`` the non-differentiable points; ``failed_nodes``
    the graph's nodes (Function objects of the graph of ``outputs``) whose own backward
    disagrees with finite differences; ``report`` (also ``str()``) the readable report. Draw
    the graph with the failing ops highlighted with
    ``ag.draw_graph(result.outputs[0], highlight=result)``.
    """

    def __init__(self, *, order: int, pairs: list[PairResult], eps: float, atol: float,
                 rtol: float, nondiff_policy: str, fast_mode: bool, seed: int | None,
                 outputs: tuple = (), notes: list[str] | None = None,
                 cannot_vouch: list[str] | None = None) -> None:
        self.order = order
        self.pairs = pairs
        self.eps, self.atol, self.rtol = eps, atol, rtol
        self.nondiff_policy = nondiff_policy
        self.fast_mode = fast_mode
        self.seed = seed
        self.outputs = outputs
        self.notes = list(notes or [])
        self.cannot_vouch = list(cannot_vouch or [])
        self.failed_nodes: list[Any] = []
        self.node_reports: list[str] = []
        self.localised = False  # True once the graph's ops were checked one by one

    @property
    def passed(self) -> bool:
        return not self.cannot_vouch and all(p.passed for p in self.pairs)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failed_pairs(self) -> list[PairResult]:
        return [p for p in self.pairs if not p.passed]

    @property
    def nondiff(self) -> list[NondiffPoint]:
        return [pt for p in self.pairs for pt in p.nondiff]

    @property
    def report(self) -> str:
        what = "gradcheck" if self.order == 1 else "gradgradcheck"
        n_bad = len(self.failed_pairs)
        verdict = ("passed" if self.passed
                   else f"FAILED: {n_bad} of {len(self.pairs)} input/output pairs disagree"
                   if n_bad else "FAILED: it cannot vouch for f")
        mode = f"; fast mode (random projections uᵀJv, seed={self.seed})" if self.fast_mode else ""
        deriv = "first" if self.order == 1 else "second"
        lines = [
            f"{what} {verdict}",
            f"  ({deriv} derivatives; central differences in float64 with eps={self.eps:g}; an "
            f"entry fails when |analytical - numerical| > atol + rtol*|numerical|, "
            f"atol={self.atol:g}, rtol={self.rtol:g}{mode})",
        ]
        lines += [f"  cannot vouch: {r}" for r in self.cannot_vouch]
        lines += [f"  note: {n}" for n in self.notes]
        for p in self.pairs:
            lines += ["  " + line for line in p.describe()]
        points = self.nondiff
        if points:
            counted = ("counted as failures (nondiff='fail')" if self.nondiff_policy == "fail"
                       else "not counted as failures; nondiff='fail' makes them failures")
            lines.append(f"  {len(points)} non-differentiable point(s), {counted}:")
            lines += [f"    {pt.describe()}" for pt in points[:10]]
            if len(points) > 10:
                lines.append(f"    ... and {len(points) - 10} more (result.nondiff lists all)")
        if self.node_reports:
            lines.append("  ops that fail their own check, re-run one by one "
                         "(result.failed_nodes):")
            lines += [f"    {r}" for r in self.node_reports]
        elif not self.passed and self.localised:
            lines.append("  every op of the graph passes its own check: the error is in how they "
                         "are combined (or in a part of f outside the graph)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report

    def _repr_html_(self) -> str:
        """A notebook table: one row per input/output pair (failed rows red), the verdict
        as caption, then the notes, non-differentiable points and failing ops."""
        from ..reprs import html_table

        rows = [[p.input, p.output, str(p.input_shape), str(p.output_shape),
                 "ok" if p.passed else f"FAILED ({p.n_failed} of {p.n_checked})",
                 fmt_err(p.max_abs_error), fmt_err(p.max_rel_error), p.mode, p.note]
                for p in self.pairs]
        head = ["input", "output", "input shape", "output shape", "result", "max abs error",
                "max rel error", "mode", "note"]
        lines = self.report.splitlines()
        notes = [ln.strip() for ln in lines[1:] if not ln.startswith("    ") and
                 not any(ln.strip().startswith(f"{p.input} (input") for p in self.pairs)]
        return html_table(head, rows, lines[0], notes,
                          bad=[i for i, p in enumerate(self.pairs) if not p.passed])

    def __repr__(self) -> str:
        state = ("passed" if self.passed else f"failed ({len(self.failed_pairs)} pairs"
                 + (f", {len(self.cannot_vouch)} reasons it cannot vouch)" if self.cannot_vouch
                    else ")"))
        return (f"<GradcheckResult order={self.order} {state}, {len(self.pairs)} pairs, "
                f"{len(self.nondiff)} non-differentiable points, "
                f"{len(self.failed_nodes)} failed nodes>")
