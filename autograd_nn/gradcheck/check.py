"""The comparison behind `gradcheck` and `gradgradcheck` (``checkers.py``): the engine's
Jacobian against float64 finite differences, entry by entry or by random projections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import trust
from .analytical import Analytical, BackwardFailure, forward
from .numerical import Kink, check_eps, direction_line, jacobian_columns, line_derivative
from .problem import Problem, _floating_or_none
from .result import GradcheckResult, NondiffPoint, PairResult
from .trust import (
    backward_drift,
    input_verdicts,
    jacobian_entries,
    low_precision_outputs,
    mutated_inputs,
    output_drift,
    refuse_large_jacobian,
)

FAST_FLAGGED = "full (after fast mode flagged it)"
FAST_HINT = ("Use fast_mode=True: one random projection uᵀJv per input/output pair, a few "
             "evaluations of f and one backward per output.")


@dataclass(frozen=True)
class Options:
    eps: float
    atol: float
    rtol: float
    nondiff: str
    fast_mode: bool
    seed: int
    nondet_tol: float = 0.0  # how far two evaluations at the same point may differ
    allow_unused: bool | None = None  # None: inputs f does not depend on are not looked for
    locate: bool = True  # fast mode: re-check flagged pairs in full to find the worst entry


def make_options(where: str, eps: float, atol: float, rtol: float, nondiff: str,
                 fast_mode: bool, seed: int | None, nondet_tol: float = 0.0,
                 allow_unused: bool | None = None) -> Options:
    eps = check_eps(eps, where)
    for name, v in (("atol", atol), ("rtol", rtol), ("nondet_tol", nondet_tol)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{where}: {name} must be a finite number >= 0, got {v!r}")
    if nondiff not in ("report", "fail"):
        raise ValueError(f"{where}: nondiff must be 'report' or 'fail', got {nondiff!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    if allow_unused is not None and not isinstance(allow_unused, (bool, np.bool_)):
        raise TypeError(f"{where}: allow_unused must be True or False, got {allow_unused!r}")
    return Options(eps, float(atol), float(rtol), nondiff, bool(fast_mode), int(seed),
                   float(nondet_tol), None if allow_unused is None else bool(allow_unused))


def run_check(problem: Problem, opts: Options, order: int, sites: bool = False) -> GradcheckResult:
    """Compare the engine's Jacobian with finite differences for every (input, output) pair."""
    outs, args = forward(problem, sites)
    if not opts.fast_mode:
        refuse_large_jacobian(problem, 2, FAST_HINT)
    leaves = {i: args[i] for i in problem.diff}
    y0 = [_floating_or_none(o) for o in outs]
    notes: list[str] = []
    ana = Analytical(problem, outs, leaves)
    refusal = (mutated_inputs(problem, args) or low_precision_outputs(problem, outs)
               or output_drift(problem, y0, opts.nondet_tol, "twice")
               or backward_drift(ana, problem, opts.seed, opts.nondet_tol))
    if refusal:
        return _result(problem, opts, order, [], outs, notes, [refusal])
    reasons: list[str] = []
    if opts.allow_unused is not None:
        reasons, more = input_verdicts(problem, ana, y0, opts.seed, opts.allow_unused)
        notes += more
    if problem.held_constant:
        notes.append(f"held constant, not checked: {', '.join(problem.held_constant)} "
                     "(Tensors without requires_grad)")
    columns: dict[int, tuple] = {}

    def numeric(i: int) -> tuple:
        if i not in columns:
            columns[i] = jacobian_columns(problem, i, opts.eps, y0, opts.atol, opts.rtol)
        return columns[i]

    if opts.fast_mode:
        pairs = _fast_pairs(problem, ana, numeric, y0, opts)
    else:
        pairs = [_full_pair(problem, ana, numeric, i, k, opts)
                 for i in problem.diff for k in problem.checked_outputs]
    drift = output_drift(problem, y0, opts.nondet_tol, "again after the finite differences")
    return _result(problem, opts, order, pairs, outs, notes, reasons + ([drift] if drift else []))


def _result(problem: Problem, opts: Options, order: int, pairs: list, outs: tuple,
            notes: list, cannot_vouch: list) -> GradcheckResult:
    return GradcheckResult(order=order, pairs=pairs, eps=opts.eps, atol=opts.atol, rtol=opts.rtol,
                           nondiff_policy=opts.nondiff, fast_mode=opts.fast_mode, seed=opts.seed,
                           outputs=tuple(outs), notes=notes, cannot_vouch=cannot_vouch)


def _pair_base(problem: Problem, i: int, k: int) -> dict:
    return dict(input=problem.names[i], input_index=i, input_shape=problem.base[i].shape,
                output=problem.output_name(k), output_index=k,
                output_shape=problem.out_shape(k))


def _full_pair(problem: Problem, ana: Analytical, numeric: Callable, i: int, k: int,
               opts: Options, mode: str = "full") -> PairResult:
    base = _pair_base(problem, i, k)
    in_shape, out_shape = base["input_shape"], base["output_shape"]
    size = problem.base[i].size * int(np.prod(out_shape, dtype=np.int64))
    try:
        a = ana.rows(k)[i]
    except BackwardFailure as e:
        return PairResult(**base, passed=False, mode=mode, n_checked=size, n_failed=size,
                          max_abs_error=np.inf, max_rel_error=np.inf, note=str(e))
    jac, kinks = numeric(i)
    n = jac[k]
    err, rel, failed, kinked, points = compare_entries(a, n, kinks[k], opts)
    nondiff = [
        NondiffPoint(input=base["input"], input_index=i, output=base["output"], output_index=k,
                     input_element=_unravel(j, in_shape), output_element=_unravel(m, out_shape),
                     left=kink.left, right=kink.right, analytical=float(a[m, j]),
                     at_point=kink.at_point, domain_edge=kink.domain_edge)
        for m, j, kink in points
    ]
    smooth = ~kinked
    max_abs = float(np.max(err[smooth], initial=0.0))
    max_rel = float(np.max(rel[smooth], initial=0.0))
    if failed.any():
        tol = opts.atol + opts.rtol * np.abs(n)
        with np.errstate(all="ignore"):
            ratio = np.where(failed, np.nan_to_num(err / tol, nan=np.inf), -1.0)
        worst: tuple[int, int] | None = _argmax2d(ratio)
    elif smooth.any():
        worst = _argmax2d(np.where(smooth, err, -1.0))
    else:
        worst = None
    note = ""
    n_failed = int(failed.sum())
    erratic = sum(not kink.stable for kink in kinks[k].values())
    edges = sum(kink.domain_edge for kink in kinks[k].values())
    if edges:
        note = (f"{edges} entries sit at the edge of f's domain (f is finite at some points of "
                "the finite-difference stencil only), so the differences measure no derivative "
                "there; they fail (move the point inside the domain, or reduce eps)")
    elif erratic:
        note = (f"{erratic} entries have erratic finite differences: the slopes near the point "
                "fit no single kink (each one-sided slope must be stable when the step is "
                "halved), as with noise, a jump in f, or several kinks within eps; they fail")
    elif n_failed and not ana.in_graph(k):
        note = (f"{base['output']} is not a Tensor that requires grad (no graph), so its "
                "analytical derivative is taken as zero")
    return PairResult(
        **base, passed=n_failed == 0, mode=mode, n_checked=a.size, n_failed=n_failed,
        max_abs_error=max_abs, max_rel_error=max_rel,
        worst_input_element=None if worst is None else _unravel(worst[1], in_shape),
        worst_output_element=None if worst is None else _unravel(worst[0], out_shape),
        analytical=None if worst is None else float(a[worst]),
        numerical=None if worst is None else float(n[worst]),
        nondiff=nondiff, note=note,
        analytical_jacobian=a.reshape(out_shape + in_shape),
        numerical_jacobian=n.reshape(out_shape + in_shape),
    )


def compare_entries(a: np.ndarray, n: np.ndarray, kinks: dict, opts: Options) -> tuple:
    """Per entry: abs error, rel error, failed mask, non-differentiable mask, and the list of
    ``(m, j, Kink)`` non-differentiable points where ``a`` is a valid subgradient."""
    with np.errstate(all="ignore"):
        err = np.abs(a - n)
        same = (a == n) & np.isfinite(n)  # equal infinities vouch for nothing
        err = np.where(same, 0.0, np.nan_to_num(err, nan=np.inf))
        rel = err / np.maximum(np.maximum(np.abs(a), np.abs(n)), max(opts.atol, 1e-300))
        rel = np.nan_to_num(rel, nan=np.inf)
        bad = ~(err <= opts.atol + opts.rtol * np.abs(n))  # a NaN numerical value fails
        bad |= ~np.isfinite(a) | ~np.isfinite(n)  # nor does an infinite one vouch
    kinked = np.zeros(a.shape, dtype=bool)
    points = []
    for (m, j), kink in sorted(kinks.items()):
        if _is_subgradient(float(a[m, j]), kink, opts):
            kinked[m, j] = True
            points.append((m, j, kink))
        else:
            bad[m, j] = True
    failed = bad & ~kinked
    if opts.nondiff == "fail":
        failed |= kinked
    return err, rel, failed, kinked, points


def _is_subgradient(value: float, kink: Kink, opts: Options) -> bool:
    if not kink.stable or kink.domain_edge or np.isnan(value):
        return False  # at a domain edge the stencil measures nothing: fail, never vouch
    tol = opts.atol + opts.rtol * max(abs(kink.lo), abs(kink.hi))
    return bool(kink.lo - tol <= value <= kink.hi + tol)


def _argmax2d(values: np.ndarray) -> tuple[int, int]:
    """(row, column) of the largest entry of a 2-d array (the first one on ties)."""
    m, j = np.unravel_index(int(np.argmax(values)), values.shape)
    return int(m), int(j)


def _unravel(flat: int, shape: tuple) -> tuple:
    return tuple(int(x) for x in np.unravel_index(int(flat), shape)) if shape else ()


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal(n)
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def _fast_pairs(problem: Problem, ana: Analytical, numeric: Callable, y0: list,
                opts: Options) -> list[PairResult]:
    """Random projections uᵀ J v: one VJP per output, one directional difference per input."""
    rng = np.random.default_rng(opts.seed)
    v = {i: _unit(rng, problem.base[i].size) for i in problem.diff}
    seeds = {k: _unit(rng, problem.out_size(k)) for k in problem.checked_outputs}
    u = [seeds.get(k) for k in range(len(problem.out_shapes))]  # None: not checked
    analytic: dict[int, dict[int, float] | BackwardFailure] = {}
    for k in problem.checked_outputs:
        try:
            g = ana.vjp(k, seeds[k])
            analytic[k] = {i: float(g[i] @ v[i]) for i in problem.diff}
        except BackwardFailure as e:
            analytic[k] = e
    y0p = [None if y is None or w is None else np.array([w @ y.ravel()]) for y, w in zip(y0, u)]
    pairs = []
    for i in problem.diff:
        line = direction_line(problem, i, v[i].reshape(problem.base[i].shape), project=u)
        central, kinks = line_derivative(line, opts.eps, y0p, opts.atol, opts.rtol)
        for k in problem.checked_outputs:
            base = _pair_base(problem, i, k)
            projected = analytic[k]
            if isinstance(projected, BackwardFailure):
                if opts.locate and _fits(problem, i, k):
                    pairs.append(_full_pair(problem, ana, numeric, i, k, opts, FAST_FLAGGED))
                else:
                    pairs.append(PairResult(**base, passed=False, mode="fast", n_checked=1,
                                            n_failed=1, max_abs_error=np.inf,
                                            max_rel_error=np.inf, note=str(projected)))
                continue
            a_val, n_val = projected[i], float(central[k][0])
            err, rel, failed, kinked, _ = compare_entries(
                np.array([[a_val]]), np.array([[n_val]]),
                {(0, 0): kinks[k][0]} if 0 in kinks[k] else {}, opts)
            flagged = bool(failed[0, 0] or kinked[0, 0] or (0 in kinks[k]))
            if flagged and opts.locate and _fits(problem, i, k):
                pairs.append(_full_pair(problem, ana, numeric, i, k, opts, FAST_FLAGGED))
                continue
            pairs.append(PairResult(
                **base, passed=not failed[0, 0], mode="fast", n_checked=1,
                n_failed=int(failed[0, 0]), max_abs_error=float(err[0, 0]),
                max_rel_error=float(rel[0, 0]), analytical=a_val, numerical=n_val))
    return pairs


def _fits(problem: Problem, i: int, k: int) -> bool:
    """Whether re-checking the pair (i, k) in full stays under the full-mode memory limit."""
    return 2 * 8 * jacobian_entries(problem, [k], [i]) <= trust.FULL_MODE_MAX_BYTES
