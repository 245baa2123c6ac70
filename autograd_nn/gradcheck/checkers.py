"""`gradcheck` and `gradgradcheck`: the engine's derivatives against float64 finite
differences (the comparison is ``check.py``'s); a failure is localised to the graph's ops
(``localise.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .analytical import Analytical, forward
from .check import Options, make_options, run_check
from .localise import localise, vjp_problem
from .problem import Inputs, Problem, _floating_or_none
from .result import GradcheckError, GradcheckResult
from .trust import input_verdicts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..types import TensorLike

__all__ = ["gradcheck", "gradgradcheck"]


def gradcheck(f: Callable[..., object], inputs: Inputs, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-4, raise_exception: bool = True, fast_mode: bool = False,
              nondiff: str = "report", seed: int | None = None, nondet_tol: float = 0.0,
              allow_unused: bool = False) -> GradcheckResult:
    """Check the engine's first derivatives of ``f`` at ``inputs`` against finite differences.

    ``f(*inputs)`` returns a Tensor or a tuple of Tensors; every input that requires grad
    (Tensors with ``requires_grad=True``, floating ndarrays) is checked against every output,
    on float64 copies (a warning says so for other dtypes). ``inputs`` may be a sequence, a
    dict (its keys name the inputs) or an iterable such as ``net.parameters()``. A function
    of no arguments reads live Tensors instead: ``gradcheck(lambda: loss(net(X), y),
    net.parameters())`` perturbs the parameters in place and restores them exactly.

    Returns a `GradcheckResult` (truthy when it passes); on failure raises `GradcheckError`
    with the report, unless ``raise_exception=False``. ``fast_mode`` checks one random
    projection ``uᵀJv`` per pair (seeded by ``seed``; a pair it flags is re-checked in full to
    find the worst entry). ``nondiff='fail'`` counts non-differentiable points (kinks, ties)
    as failures. The check fails, saying why (``result.cannot_vouch``), where it cannot vouch:
    f not deterministic (two evaluations at the point, or two backward runs, differ by more
    than ``nondet_tol``, default 0: bit for bit), or an input no output depends on (unless
    ``allow_unused=True``: its zero derivative is then checked as zero).
    """
    opts = make_options("gradcheck", eps, atol, rtol, nondiff, fast_mode, seed, nondet_tol,
                        allow_unused)
    problem = Problem(f, inputs, "gradcheck")
    with problem.restoring():
        result = run_check(problem, opts, order=1, sites=True)
    return _finish(result, opts, 1, raise_exception)


def _finish(result: GradcheckResult, opts: Options, order: int,
            raise_exception: bool) -> GradcheckResult:
    if not result.passed:
        if result.failed_pairs:  # when it only cannot vouch, no op is to blame
            localise(result, opts, order)
        if raise_exception:
            raise GradcheckError(result.report, result)
    return result


def gradgradcheck(f: Callable[..., object], inputs: Inputs,
                  grad_outputs: TensorLike | Sequence[TensorLike] | None = None,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4,
                  raise_exception: bool = True, fast_mode: bool = False,
                  nondiff: str = "report", seed: int | None = None,
                  nondet_tol: float = 0.0, allow_unused: bool = False) -> GradcheckResult:
    """Check second derivatives: the Jacobian of ``(inputs, grad_outputs) -> VJP`` (computed
    with ``create_graph=True``) against finite differences of that VJP.

    ``grad_outputs`` (one per output of f that has a graph) default to seeded random normals.
    Same inputs, options and result as `gradcheck` (``allow_unused`` is about f's own
    outputs: a first derivative that is not constant-zero is what gets differentiated);
    ``result.outputs`` and ``failed_nodes`` refer to the graph of f itself, whose ops are
    re-checked one by one to first and second order.
    """
    opts = make_options("gradgradcheck", eps, atol, rtol, nondiff, fast_mode, seed, nondet_tol,
                        allow_unused)
    first = Problem(f, inputs, "gradgradcheck")
    with first.restoring():
        outs, args = forward(first, sites=True)
        y0 = [_floating_or_none(o) for o in outs]
        ana = Analytical(first, outs, {i: args[i] for i in first.diff})
        reasons, notes = input_verdicts(first, ana, y0, opts.seed, bool(allow_unused))
        problem = vjp_problem(first, outs, grad_outputs, opts.seed, "gradgradcheck")
        result = run_check(problem, replace(opts, allow_unused=None), order=2)
    result.outputs = tuple(outs)
    result.cannot_vouch[:0] = reasons
    result.notes[:0] = notes
    return _finish(result, opts, 2, raise_exception)
