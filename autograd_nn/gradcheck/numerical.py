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
are ~``eps² f'''``, plus round-off) and show a step at a kink. A step makes the entry a
`Kink`: its one-sided derivatives and the range of the slopes, inside which any valid
(sub)gradient must lie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .problem import Problem

_EPS64 = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Kink:
    """A finite-difference stencil that straddles a point where the derivative jumps."""

    left: float  # backward difference (f(x) - f(x - eps)) / eps
    right: float  # forward difference (f(x + eps) - f(x)) / eps
    lo: float  # smallest and largest slope over the four half-steps: a subgradient
    hi: float  # (or any one-sided derivative) lies in [lo, hi]
    at_point: bool  # both sides stable and different: the kink is at x itself
    domain_edge: bool = False  # f is finite on one side of x only (e.g. sqrt at 0)


def check_eps(eps: float, where: str) -> float:
    eps = float(eps)
    if not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"{where}: eps must be a positive finite step, got {eps!r}")
    return eps


def _noise(ys: list, scale_t: float) -> Any:
    """Round-off in a difference quotient of values ``ys`` over a step ``scale_t``."""
    mag = np.max(np.abs(np.stack([np.nan_to_num(y, posinf=0, neginf=0) for y in ys])), axis=0)
    return 4 * _EPS64 * mag / scale_t


def line_derivative(evaluate: Callable[[float], tuple[list, float]], eps: float, y0: list | None,
                    atol: float = 1e-5, rtol: float = 1e-4) -> tuple[list, list | None]:
    """Central difference of every output along one line, and the kinks on it.

    ``evaluate(t)`` returns ``(outputs, t_actual)``: the flattened float64 outputs (None for
    outputs without a derivative) at offset ``t`` and the offset really applied. With ``y0``
    (the outputs at ``t = 0``) kinks are detected: the result's second item is, per output,
    a dict ``{output element: Kink}``; without it, None.
    """
    yp, tp = evaluate(eps)
    ym, tm = evaluate(-eps)
    with np.errstate(all="ignore"):
        central = [None if a is None else (a - b) / (tp - tm) for a, b in zip(yp, ym)]
        if y0 is None:
            return central, None
        flags = []
        for a, b, c in zip(ym, y0, yp):
            if a is None:
                flags.append(None)
                continue
            d_minus, d_plus = (b - a) / (0.0 - tm), (c - b) / tp
            tol = atol + rtol * np.maximum(np.abs(d_minus), np.abs(d_plus)) + _noise([a, b, c], eps)
            finite = np.isfinite(a) & np.isfinite(b) & np.isfinite(c)
            flags.append(~(np.abs(d_plus - d_minus) <= tol) & (finite | _mixed(a, b, c)))
        kinks: list = [{} for _ in central]
        if not any(f is not None and f.any() for f in flags):
            return central, kinks
        yph, tph = evaluate(eps / 2)
        ymh, tmh = evaluate(-eps / 2)
        for k, flag in enumerate(flags):
            if flag is None or not flag.any():
                continue
            pts = [ym[k], ymh[k], y0[k], yph[k], yp[k]]
            ts = [tm, tmh, 0.0, tph, tp]
            s = [(pts[q + 1] - pts[q]) / (ts[q + 1] - ts[q]) for q in range(4)]
            tol = atol + rtol * np.max(np.abs(np.stack(s)), axis=0) + 4 * _noise(pts, eps / 2)
            step_a = np.abs(s[0] - 2 * s[1] + s[2]) > tol
            step_b = np.abs(s[1] - 2 * s[2] + s[3]) > tol
            mixed = _mixed(*pts)
            found = flag & (step_a | step_b | mixed)
            for m in np.flatnonzero(found):
                sl = [float(q[m]) for q in s]
                fin = [v for v in sl if np.isfinite(v)]
                left = float((y0[k][m] - ym[k][m]) / (0.0 - tm))
                right = float((yp[k][m] - y0[k][m]) / tp)
                at_point = bool(abs(sl[0] - sl[1]) <= tol[m] and abs(sl[2] - sl[3]) <= tol[m]
                                and abs(sl[1] - sl[2]) > tol[m])
                kinks[k][int(m)] = Kink(left, right, min(fin, default=np.nan),
                                        max(fin, default=np.nan), at_point, bool(mixed[m]))
    return central, kinks


def _mixed(*ys: Any) -> Any:
    """Elements finite at some stencil points and not at others (the edge of the domain)."""
    fin = np.stack([np.isfinite(y) for y in ys])
    return fin.any(axis=0) & ~fin.all(axis=0)


def element_line(problem: Problem, i: int, j: int,
                 dtype: Any = np.float64) -> Callable[[float], tuple[list, float]]:
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
                   project: list | None = None) -> Callable[[float], tuple[list, float]]:
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
                     dtype: Any = np.float64) -> tuple[list, list]:
    """d(outputs)/d(input i) by central differences, one column per element of input ``i``.

    Returns per output a ``(output.size, input.size)`` array (None for outputs without a
    derivative) and per output a dict ``{(out_elem, in_elem): Kink}`` (empty without ``y0``)."""
    n = problem.base[i].size
    sizes = [None if s is None else int(np.prod(s, dtype=np.int64)) for s in problem.out_shapes]
    jac = [None if m is None else np.empty((m, n)) for m in sizes]
    kinks: list = [{} for _ in sizes]
    flat0 = None if y0 is None else [None if y is None else y.ravel() for y in y0]
    for j in range(n):
        line = element_line(problem, i, j, dtype)
        cols, found = line_derivative(line, eps, flat0, atol, rtol)
        for k, col in enumerate(cols):
            if jac[k] is not None:
                jac[k][:, j] = col
                if found:
                    for m, kink in found[k].items():
                        kinks[k][(m, j)] = kink
    return jac, kinks


# ---- public -------------------------------------------------------------------------------
def numerical_jacobian(f: Callable, inputs: Any, eps: float = 1e-6) -> Any:
    """The Jacobian of ``f`` at ``inputs`` by central differences in float64.

    ``f`` takes the inputs as arguments (Tensors: each differentiable input arrives as a fresh
    float64 leaf) and returns a Tensor or a tuple of Tensors. The inputs differentiated are
    Tensors with ``requires_grad=True`` and floating ndarrays (if there are none: every
    floating input). Arrays of shape ``output.shape + input.shape`` come back like
    ``torch.autograd.functional.jacobian``: one array for one input and one output; a tuple
    over the inputs (None for constant ones) when ``inputs`` is a sequence; a tuple over the
    outputs (of those) when ``f`` returns a tuple. The caller's arrays are never modified.
    """
    eps = check_eps(eps, "numerical_jacobian")
    problem = Problem(f, inputs, "numerical_jacobian", all_floating=True, warn=False)
    problem.values()
    per_input = {i: jacobian_columns(problem, i, eps)[0] for i in problem.diff}
    results = []
    for k, oshape in enumerate(problem.out_shapes):
        row = []
        for i in range(len(problem.args)):
            if oshape is None or i not in per_input:
                row.append(None)
            else:
                row.append(per_input[i][k].reshape(oshape + problem.base[i].shape))
        results.append(row[0] if problem.single_input else tuple(row))
    return results[0] if problem.single_output else tuple(results)


def numerical_grad(f: Callable, inputs: Any, eps: float = 1e-6) -> Any:
    """The gradient of a single-element ``f`` by central differences in float64.

    Returns float64 arrays shaped like the inputs: one for a single input, a tuple (None for
    constant inputs) for a sequence. Inputs as in `numerical_jacobian`; they are not modified.
    """
    eps = check_eps(eps, "numerical_grad")
    problem = Problem(f, inputs, "numerical_grad", all_floating=True, warn=False)
    problem.values()
    shapes = problem.out_shapes
    if len(shapes) != 1 or shapes[0] is None or int(np.prod(shapes[0])) != 1:
        raise ValueError(
            f"numerical_grad: f must return a single-element Tensor, got output shape(s) "
            f"{shapes}; use numerical_jacobian for other outputs"
        )
    grads: list = [None] * len(problem.args)
    for i in problem.diff:
        jac, _ = jacobian_columns(problem, i, eps)
        grads[i] = jac[0].reshape(problem.base[i].shape)
    return grads[0] if problem.single_input else tuple(grads)
