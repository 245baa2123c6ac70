"""Central finite differences in float64, and the detector for non-differentiable points.

Every derivative here is measured along a line through the inputs: one element at a time
(``x_j + t``, for Jacobians) or along a random direction (``x + t v``, for fast mode). On each
line ``f`` is evaluated at ``t = ±eps`` and the central difference is
``(f(x+) - f(x-)) / (x+ - x-)``, dividing by the step actually taken in float64.

Non-differentiable points (Chainer's idea, made cheap): with ``f(x)`` known, the forward and
backward differences come for free. They differ by about ``eps * f''`` on a smooth function
(tiny) but by the jump in the derivative when the stencil ``[x - eps, x + eps]`` straddles a
kink or a tie. Only where they disagree is ``f`` evaluated at ``t = ±eps/2`` too; the four
slopes over the half-steps are linear in ``t`` on a smooth function (their second differences
are ~``eps² f'''``, plus round-off) and show a step at a kink.

A step alone is not a kink: noise, a jump in f's value or several kinks inside the stencil
show steps too. So where there is a step, ``f`` is also evaluated at ``t = ±1.5 eps, ±2 eps``
and the entry is a `Kink` only if the eight slopes over the half-steps of ``[-2 eps, 2 eps]``
fit one kink somewhere in ``[-eps, eps]``: the slopes left of it agree with each other (at
least two of them, so the one-sided slope is stable when the step is halved), so do the
slopes right of it, the two one-sided slopes differ, and the one interval that may straddle
the kink has a slope between them. A kink at ``x`` itself accepts any value between the
one-sided derivatives (a subgradient); a kink nearby (``x`` on one side of it) accepts only
that side's slope. Entries whose slopes fit no single kink get ``Kink.stable = False`` and
the checks fail them: a derivative whose finite differences are erratic cannot be vouched for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from .problem import Inputs, Problem
from .trust import deterministic_values, refuse_large_jacobian

_EPS64 = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Kink:
    """A finite-difference stencil that straddles a point where the derivative jumps."""

    left: float  # backward difference (f(x) - f(x - eps)) / eps
    right: float  # forward difference (f(x + eps) - f(x)) / eps
    lo: float  # a valid derivative lies in [lo, hi]: between the one-sided slopes for a
    hi: float  # kink at x, the slope of x's side for a kink nearby
    at_point: bool  # both sides stable and different: the kink is at x itself
    domain_edge: bool = False  # f is finite on one side of x only (e.g. sqrt at 0)
    stable: bool = True  # False: the slopes fit no single kink (noise, a jump, several kinks)


def check_eps(eps: float, where: str) -> float:
    eps = float(eps)
    if not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"{where}: eps must be a positive finite step, got {eps!r}")
    return eps


def _noise(ys: list, scale_t: float) -> np.ndarray:
    """Round-off in a difference quotient of values ``ys`` over a step ``scale_t``."""
    mag = np.max(np.abs(np.stack([np.nan_to_num(y, posinf=0, neginf=0) for y in ys])), axis=0)
    return 4 * _EPS64 * mag / scale_t


Line = Callable[[float], tuple[list, float]]  # offset t -> (flattened outputs, t applied)
Kinks = list[dict[int, Kink]]  # per output: {output element: Kink}
EntryKinks = list[dict[tuple[int, int], Kink]]  # per output: {(out elem, in elem): Kink}


@overload
def line_derivative(evaluate: Line, eps: float, y0: list, atol: float = ...,
                    rtol: float = ...) -> tuple[list, Kinks]: ...
@overload
def line_derivative(evaluate: Line, eps: float, y0: None, atol: float = ...,
                    rtol: float = ...) -> tuple[list, None]: ...
@overload
def line_derivative(evaluate: Line, eps: float, y0: list | None, atol: float = ...,
                    rtol: float = ...) -> tuple[list, Kinks | None]: ...
def line_derivative(evaluate: Line, eps: float, y0: list | None,
                    atol: float = 1e-5, rtol: float = 1e-4) -> tuple[list, Kinks | None]:
    """Central difference of every output along one line, and the kinks on it.

    ``evaluate(t)`` returns ``(outputs, t_actual)``: the flattened float64 outputs (None for
    outputs without a derivative) at offset ``t`` and the offset really applied. With ``y0``
    (the outputs at ``t = 0``) kinks are detected: the result's second item is, per output,
    a dict ``{output element: Kink}`` (``stable=False`` where the slopes are erratic);
    without it, None.
    """
    yp, tp = evaluate(eps)
    ym, tm = evaluate(-eps)
    with np.errstate(all="ignore"):
        central = [None if a is None else (a - b) / (tp - tm) for a, b in zip(yp, ym)]
        if y0 is None:
            return central, None
        kinks: Kinks = [{} for _ in central]
        flags = [None if a is None else _sides_disagree(a, b, c, tm, tp, eps, atol, rtol)
                 for a, b, c in zip(ym, y0, yp)]
        if not any(f is not None and f.any() for f in flags):
            return central, kinks
        points = {-1.0: (ym, tm), 0.0: (y0, 0.0), 1.0: (yp, tp)}
        for c in (-0.5, 0.5):
            points[c] = evaluate(c * eps)
        steps = [None if f is None else f & _has_step(points, k, eps, atol, rtol)
                 for k, f in enumerate(flags)]
        if any(s is not None and s.any() for s in steps):
            for c in (-2.0, -1.5, 1.5, 2.0):
                points[c] = evaluate(c * eps)
            for k, step in enumerate(steps):
                if step is not None and step.any():
                    kinks[k] = _classify(points, k, np.flatnonzero(step), eps, atol, rtol)
    return central, kinks


def _sides_disagree(ym: np.ndarray, y0: np.ndarray, yp: np.ndarray, tm: float, tp: float,
                    eps: float, atol: float, rtol: float) -> np.ndarray:
    """Elements whose backward and forward differences over ``eps`` disagree."""
    d_minus, d_plus = (y0 - ym) / (0.0 - tm), (yp - y0) / tp
    tol = atol + rtol * np.maximum(np.abs(d_minus), np.abs(d_plus)) + _noise([ym, y0, yp], eps)
    finite = np.isfinite(ym) & np.isfinite(y0) & np.isfinite(yp)
    return ~(np.abs(d_plus - d_minus) <= tol) & (finite | _mixed(ym, y0, yp))


def _slopes(points: dict, k: int, where: Any = slice(None)) -> tuple[list, list]:
    """Output ``k`` (elements ``where``) at the evaluated offsets in order, and the slopes
    between neighbouring offsets."""
    ts = sorted(points)
    ys = [points[c][0][k][where] for c in ts]
    tt = [points[c][1] for c in ts]
    return ys, [(ys[q + 1] - ys[q]) / (tt[q + 1] - tt[q]) for q in range(len(ts) - 1)]


def _has_step(points: dict, k: int, eps: float, atol: float, rtol: float) -> np.ndarray:
    """Over the four half-steps of ``[-eps, eps]``: a step in the slopes (not a linear trend),
    or f finite at some of the points only."""
    pts, s = _slopes(points, k)
    tol = atol + rtol * np.max(np.abs(np.stack(s)), axis=0) + 4 * _noise(pts, eps / 2)
    step_a = np.abs(s[0] - 2 * s[1] + s[2]) > tol
    step_b = np.abs(s[1] - 2 * s[2] + s[3]) > tol
    return step_a | step_b | _mixed(*pts)


# One kink in [-eps, eps] as seen by the eight half-step slopes s[0..7] over [-2 eps, 2 eps]:
# s[:a] lie left of it, s[b:] right of it, and s[a] straddles it when b == a + 1; each side
# keeps at least two slopes. (4, 4), tried first, is the kink at x itself. The rest say on
# which side of the kink x (the boundary between s[3] and s[4]) lies.
_AT_X = (4, 4)
_X_RIGHT_OF_KINK = ((2, 2), (3, 3), (2, 3), (3, 4))
_X_LEFT_OF_KINK = ((5, 5), (6, 6), (4, 5), (5, 6))


def _classify(points: dict, k: int, elems: np.ndarray, eps: float, atol: float,
              rtol: float) -> dict:
    """A `Kink` per element of ``elems``: a domain edge, one kink with stable one-sided slopes,
    or (neither) ``stable=False``."""
    pts, s = _slopes(points, k, elems)
    S = np.stack(s)
    tol = atol + rtol * np.max(np.abs(S), axis=0) + 4 * _noise(pts, eps / 2)
    found = np.zeros(len(elems), dtype=bool)
    lo, hi = np.full(len(elems), np.nan), np.full(len(elems), np.nan)
    at_point = np.zeros(len(elems), dtype=bool)
    for a, b in (_AT_X, *_X_RIGHT_OF_KINK, *_X_LEFT_OF_KINK):
        left, right = S[:a].mean(axis=0), S[b:].mean(axis=0)
        fits = ((np.ptp(S[:a], axis=0) <= tol) & (np.ptp(S[b:], axis=0) <= tol)
                & (np.abs(left - right) > tol))
        if b > a:
            fits &= ((S[a] >= np.minimum(left, right) - tol)
                     & (S[a] <= np.maximum(left, right) + tol))
        new = fits & ~found
        if (a, b) == _AT_X:
            lo[new], hi[new] = np.minimum(left, right)[new], np.maximum(left, right)[new]
            at_point |= new
        else:
            side = right if (a, b) in _X_RIGHT_OF_KINK else left
            lo[new] = hi[new] = side[new]
        found |= new
    mixed = _mixed(*pts)
    y0, (ym, tm), (yp, tp) = points[0.0][0][k], points[-1.0], points[1.0]
    out = {}
    for n, m in enumerate(elems):
        left_d = float((y0[m] - ym[k][m]) / (0.0 - tm))
        right_d = float((yp[k][m] - y0[m]) / tp)
        if mixed[n]:
            out[int(m)] = Kink(left_d, right_d, np.nan, np.nan, False, True)
        else:
            out[int(m)] = Kink(left_d, right_d, float(lo[n]), float(hi[n]),
                               bool(at_point[n]), False, bool(found[n]))
    return out


def _mixed(*ys: np.ndarray) -> np.ndarray:
    """Elements finite at some stencil points and not at others (the edge of the domain)."""
    fin = np.stack([np.isfinite(y) for y in ys])
    return np.asarray(fin.any(axis=0) & ~fin.all(axis=0))


def element_line(problem: Problem, i: int, j: int,
                 dtype: Any = np.float64) -> Line:
    """Evaluate ``f`` with element ``j`` (flat index) of input ``i`` moved by ``t``; the
    inputs are held in ``dtype`` (float64 except in `eps_sweep`'s float32 demonstration)."""
    buf = problem.base[i].astype(dtype)  # a copy
    flat = buf.reshape(-1)
    x = flat[j].copy()

    def evaluate(t: float) -> tuple[list, float]:
        flat[j] = x + t
        moved = float(flat[j]) - float(x)  # the step really taken in this dtype
        try:
            ys = problem.values({i: buf}, dtype)
        finally:
            flat[j] = x
        return [None if y is None else y.ravel() for y in ys], moved

    return evaluate


def direction_line(problem: Problem, i: int, v: np.ndarray,
                   project: list | None = None) -> Line:
    """Evaluate ``f`` with input ``i`` moved to ``x + t v``; with ``project`` (one weight array
    per output, or None) each output is reduced to ``u_k · y_k``, a 1-element array."""
    x = problem.base[i]

    def evaluate(t: float) -> tuple[list, float]:
        ys = problem.values({i: x + t * v})
        flat = [None if y is None else y.ravel() for y in ys]
        if project is not None:
            flat = [None if y is None or u is None else np.array([u @ y])
                    for y, u in zip(flat, project)]
        return flat, t

    return evaluate


def jacobian_columns(problem: Problem, i: int, eps: float, y0: list | None = None,
                     atol: float = 1e-5, rtol: float = 1e-4,
                     dtype: Any = np.float64) -> tuple[list[np.ndarray | None], EntryKinks]:
    """d(outputs)/d(input i) by central differences, one column per element of input ``i``.

    Returns per output a ``(output.size, input.size)`` array (None for outputs without a
    derivative) and per output a dict ``{(out_elem, in_elem): Kink}`` (empty without ``y0``)."""
    n = problem.base[i].size
    sizes = [None if s is None else int(np.prod(s, dtype=np.int64)) for s in problem.out_shapes]
    jac: list[np.ndarray | None] = [None if m is None else np.empty((m, n)) for m in sizes]
    kinks: EntryKinks = [{} for _ in sizes]
    flat0 = None if y0 is None else [None if y is None else y.ravel() for y in y0]
    for j in range(n):
        line = element_line(problem, i, j, dtype)
        cols, found = line_derivative(line, eps, flat0, atol, rtol)
        for k, col in enumerate(cols):
            column = jac[k]
            if column is not None:
                column[:, j] = col
                if found:
                    for m, kink in found[k].items():
                        kinks[k][(m, j)] = kink
    return jac, kinks


def scalar_gradient(problem: Problem, i: int, eps: float) -> np.ndarray:
    """d(output 0)/d(input i) by central differences, shaped like input ``i``, for a
    single-element floating output 0 (the callers check that first)."""
    column = jacobian_columns(problem, i, eps)[0][0]
    if column is None:
        raise ValueError(f"{problem.where}: {problem.output_name(0)} has no derivative")
    return column.reshape(problem.base[i].shape)


# ---- public -------------------------------------------------------------------------------
def numerical_jacobian(f: Callable[..., object], inputs: Inputs, eps: float = 1e-6
                       ) -> np.ndarray | tuple[Any, ...]:  # nested as the docstring says
    """The Jacobian of ``f`` at ``inputs`` by central differences in float64.

    ``f`` takes the inputs as arguments (Tensors: each differentiable input arrives as a fresh
    float64 leaf), or no arguments and reads the inputs, live Tensors, itself (they are
    perturbed in place and restored, as in `gradcheck`); it returns a Tensor or a tuple of
    Tensors. The inputs differentiated are
    Tensors with ``requires_grad=True`` and floating ndarrays (if there are none: every
    floating input). Arrays of shape ``output.shape + input.shape`` come back like
    ``torch.autograd.functional.jacobian``: one array for one input and one output; a tuple
    over the inputs (None for constant ones) when ``inputs`` is a sequence; a tuple over the
    outputs (of those) when ``f`` returns a tuple. The caller's arrays are never modified.
    """
    eps = check_eps(eps, "numerical_jacobian")
    problem = Problem(f, inputs, "numerical_jacobian", all_floating=True, warn=False,
                      tensor_outputs=False)
    with problem.restoring():
        deterministic_values(problem)
        refuse_large_jacobian(problem, 1, "Differentiate a smaller problem, or measure "
                              "directional derivatives instead.")
        per_input = {i: jacobian_columns(problem, i, eps)[0] for i in problem.diff}
    # one input and one output: an array (both were checked to have a derivative)
    results: list[Any] = []
    for k, oshape in enumerate(problem.out_shapes):
        row: list[np.ndarray | None] = []
        for i in range(len(problem.args)):
            col = per_input[i][k] if i in per_input else None
            if oshape is None or col is None:
                row.append(None)
            else:
                row.append(col.reshape(oshape + problem.base[i].shape))
        results.append(row[0] if problem.single_input else tuple(row))
    return results[0] if problem.single_output else tuple(results)


def numerical_grad(f: Callable[..., object], inputs: Inputs, eps: float = 1e-6
                   ) -> np.ndarray | tuple[np.ndarray | None, ...]:
    """The gradient of a single-element ``f`` by central differences in float64.

    Returns float64 arrays shaped like the inputs: one for a single input, a tuple (None for
    constant inputs) for a sequence. Inputs as in `numerical_jacobian`; they are not modified.
    """
    eps = check_eps(eps, "numerical_grad")
    problem = Problem(f, inputs, "numerical_grad", all_floating=True, warn=False,
                      tensor_outputs=False)
    grads: list = [None] * len(problem.args)
    with problem.restoring():
        deterministic_values(problem)
        shapes = problem.out_shapes
        if len(shapes) != 1 or shapes[0] is None or int(np.prod(shapes[0])) != 1:
            raise ValueError(
                f"numerical_grad: f must return a single-element Tensor, got output shape(s) "
                f"{shapes}; use numerical_jacobian for other outputs"
            )
        for i in problem.diff:
            grads[i] = scalar_gradient(problem, i, eps)
    return grads[0] if problem.single_input else tuple(grads)
