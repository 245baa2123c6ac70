"""What a check must establish before it may vouch for a derivative.

Finite differences measure a function only if it is one: the same inputs must give the same
outputs. Before any Jacobian is compared, f is evaluated a second time at the point and its
backward run twice with the same seed; after the finite differences, f is evaluated at the
point once more. Outputs (and gradients) that differ by more than ``nondet_tol`` (default 0:
bit for bit) make the check fail with the reason (`cannot_vouch`), never pass.
"""

from __future__ import annotations

import numpy as np

from .analytical import Analytical, BackwardFailure
from .problem import Problem

NONDETERMINISTIC_HINT = (
    "Finite differences of a function that changes from call to call are noise, so no "
    "derivative can be checked. Typical causes: a random draw inside f (noise, a dropout mask: "
    "call model.eval(), or seed a generator inside f), or state that changes between calls (a "
    "counter, running statistics, an optimizer step). If the difference is round-off of a "
    "nondeterministic reduction, pass nondet_tol= (the finite differences are then only good "
    "to ~nondet_tol/eps)."
)


def max_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest elementwise |a - b|; NaN equals NaN, equal infinities are equal."""
    with np.errstate(all="ignore"):
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        d = np.where(same, 0.0, np.nan_to_num(np.abs(a - b), nan=np.inf))
    return float(np.max(d, initial=0.0))


def output_drift(problem: Problem, y0: list, nondet_tol: float, when: str) -> str | None:
    """Evaluate f at the point again: why the check cannot vouch if it differs from ``y0``."""
    y1 = problem.values()
    for k, (a, b) in enumerate(zip(y0, y1)):
        if a is None or b is None:
            continue
        d = max_difference(a, b)
        if d > nondet_tol:
            return (f"f is not deterministic: evaluated {when} at the same point, "
                    f"{problem.output_name(k)} differs by up to {d:.3g} (nondet_tol="
                    f"{nondet_tol:g}). {NONDETERMINISTIC_HINT}")
    return None


def backward_drift(ana: Analytical, problem: Problem, seed: int, nondet_tol: float) -> str | None:
    """Run each output's backward twice with the same random seed: why the check cannot vouch
    if the two vector-Jacobian products differ (a backward that is not reproducible)."""
    rng = np.random.default_rng([seed, 1])
    for k in problem.checked_outputs:
        if not ana.in_graph(k):
            continue
        u = rng.standard_normal(problem.out_size(k))
        try:
            g1, g2 = ana.vjp(k, u), ana.vjp(k, u)
        except BackwardFailure:
            return None  # reported by the pairs
        for i in g1:
            d = max_difference(g1[i], g2[i])
            if d > nondet_tol:
                return (f"the backward pass is not deterministic: run twice with the same "
                        f"grad_output, the gradient of {problem.output_name(k)} w.r.t. "
                        f"{problem.names[i]} differs by up to {d:.3g} (nondet_tol="
                        f"{nondet_tol:g}); a derivative that changes from run to run cannot "
                        "be checked")
    return None


def deterministic_values(problem: Problem, nondet_tol: float = 0.0) -> list:
    """f's outputs at the point, after checking that a second evaluation gives the same; for
    the tools that return numbers rather than a verdict (finite differences, the eps sweep),
    a function that is not deterministic raises ``ValueError``."""
    y0 = problem.values()
    drift = output_drift(problem, y0, nondet_tol, "twice")
    if drift:
        raise ValueError(f"{problem.where}: {drift}")
    return y0


def _listed(problem: Problem, idx: list[int]) -> str:
    return ", ".join(repr(problem.names[i]) for i in idx)


def input_verdicts(problem: Problem, ana: Analytical, y0: list, seed: int,
                   allow_unused: bool) -> tuple[list[str], list[str]]:
    """Reasons the check cannot vouch, and notes, about inputs the outputs do not depend on.

    An input is unused when no output's graph reaches it and f's value does not change at all
    when it moves (by ~1e-3 relative, in a random direction): its derivative is zero on both
    sides, and a zero checks nothing. It fails the check unless ``allow_unused``. An input the
    graph does not reach but f's value depends on is used outside the graph: its pairs fail,
    and a note says why."""
    try:
        for k in problem.checked_outputs:
            if ana.in_graph(k):
                ana.vjp(k, np.ones(problem.out_size(k)))
    except BackwardFailure:
        return [], []  # the pairs report it
    rng = np.random.default_rng([seed, 2])
    unused: list[int] = []
    outside: list[int] = []
    for i in problem.diff:
        if i in ana.reached:
            continue
        x = problem.base[i]
        moved = problem.values({i: x + 1e-3 * (1 + np.abs(x)) * rng.standard_normal(x.shape)})
        same = all(a is None or max_difference(a, b) == 0 for a, b in zip(y0, moved))
        (unused if same else outside).append(i)
    reasons, notes = [], []
    if unused and allow_unused:
        notes.append(f"no output of f depends on {_listed(problem, unused)} "
                     "(allow_unused=True): the check only confirms a zero derivative")
    elif unused:
        it, moves = ("it", "it moves") if len(unused) == 1 else ("them", "they move")
        reasons.append(
            f"no output of f depends on {_listed(problem, unused)}: no output's graph reaches "
            f"{it} and f does not change when {moves}, so a zero derivative checks nothing. A "
            "function that ignores the copies it is given does this (`lambda *ps: "
            "loss(net(X), y)`); to check a model's parameters give a function of no "
            "arguments, `ag.gradcheck(lambda: loss(net(X), y), net.parameters())`, and they "
            "are perturbed in place. If a zero derivative is expected, pass allow_unused=True."
        )
    if outside:
        notes.append(f"{_listed(problem, outside)}: no output's graph reaches it, yet f "
                     "changes when it moves: f uses it outside the graph (through .data, "
                     "numpy, detach() or a copy), so the engine's derivative is missing")
    return reasons, notes


# A full check stores f's Jacobian twice (analytical and numerical, float64); above this it
# refuses before allocating anything and points to fast mode.
FULL_MODE_MAX_BYTES = 2**30


def jacobian_entries(problem: Problem, outputs: list[int] | None = None,
                     inputs: list[int] | None = None) -> int:
    """Entries of f's Jacobian over the given outputs and inputs (all by default)."""
    outs = problem.checked_outputs if outputs is None else outputs
    ins = problem.diff if inputs is None else inputs
    m = sum(problem.out_size(k) for k in outs)
    return m * sum(problem.base[i].size for i in ins)


def refuse_large_jacobian(problem: Problem, copies: int, hint: str) -> None:
    """``ValueError`` before allocating when ``copies`` float64 Jacobians exceed the limit."""
    entries = jacobian_entries(problem)
    need = entries * 8 * copies
    if need > FULL_MODE_MAX_BYTES:
        m = sum(problem.out_size(k) for k in problem.checked_outputs)
        raise ValueError(
            f"{problem.where}: f's Jacobian is {m} x {entries // max(m, 1)} ({entries:,} "
            f"entries); {copies} float64 copies need {need / 2**30:.1f} GiB, more than the "
            f"{FULL_MODE_MAX_BYTES / 2**30:.0f} GiB limit. Nothing was allocated. {hint}"
        )


def mutated_inputs(problem: Problem, args: list) -> str | None:
    """Why the check cannot vouch if f changed the data of an input it was given."""
    changed = [i for i in problem.diff if not np.array_equal(
        np.asarray(args[i].data, dtype=np.float64), problem.base[i], equal_nan=True)]
    if not changed:
        return None
    return (f"f modified {_listed(problem, changed)} in place while running (its data "
            "changed during the call): the engine then differentiates at the changed values "
            "while the finite differences move the values given, so the two do not measure "
            "the same derivative. Compute on a copy (or out of place) instead of writing into "
            "an input's .data")


def low_precision_outputs(problem: Problem, outs: tuple) -> str | None:
    """Why the check cannot vouch if f returns outputs less precise than float64."""
    low = [f"{problem.output_name(k)} ({np.asarray(outs[k].data).dtype})"
           for k in problem.checked_outputs if np.asarray(outs[k].data).dtype != np.float64]
    if not low:
        return None
    return (f"{', '.join(low)}: f casts to a lower precision although its inputs are float64, "
            "so the finite differences are only that accurate (a float32 value moves in steps "
            "of ~1e-7 relative, as large as the change a step of ~1e-6 makes) and would pass "
            "or fail by chance. Remove the cast for the check, or compare a float32 run with a "
            "float64 run of the same function")
