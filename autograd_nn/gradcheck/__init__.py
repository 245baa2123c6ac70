"""Gradient checking: does a backward pass really compute the derivative?

``gradcheck(f, inputs)`` compares the engine's full Jacobian (one vector-Jacobian product per
output element) with central finite differences; ``gradgradcheck`` does the same for second
derivatives; ``compare_gradients`` and ``check_three_way`` put engine, hand-derived and
numerical gradients side by side; ``eps_sweep`` shows how the finite-difference error depends
on the step. ``numerical_grad`` and ``numerical_jacobian`` are the finite differences alone.

Float64 policy. Finite differences are always computed in float64, on copies: the caller's
arrays and tensors are never modified. With a step eps the central difference has a truncation
error ~eps²·f'''/6 and a round-off error ~ε·|f|/eps (ε the machine epsilon). In float64
(ε ≈ 2e-16) eps = 1e-6 balances the two at ~1e-10 relative accuracy; in float32 (ε ≈ 1e-7)
the best possible accuracy is ~1e-3 at eps ≈ 1e-3, no better than the errors a gradient check
must find. So float32 (or float16) inputs get a `GradcheckPrecisionWarning` and the check runs
on float64 copies (``eps_sweep(..., dtype="float32")`` shows the float32 curve). The step
actually taken, ``(x + eps) - (x - eps)`` in float64, is the denominator.

Tolerances. An entry passes when ``|analytical - numerical| <= atol + rtol * |numerical|``
(numpy's ``allclose`` rule, the numerical value as reference). The defaults ``atol=1e-5,
rtol=1e-4`` sit ~1e4 above float64's finite-difference noise for well-scaled functions and
below a 0.1% error: a derivative off by a factor 1.001 fails (with ``rtol=1e-3``, PyTorch's
default, it would pass). Reported relative errors are ``|a - n| / max(|a|, |n|, atol)``.
For outputs of very large magnitude (|f| ~ 1e5 and more) the round-off term grows: loosen
``atol`` or rescale. ``compare_gradients`` compares two analytical gradients and defaults to
``rtol=1e-7, atol=1e-12``.

Non-differentiable points. Where the forward and backward differences disagree (a stencil
straddling a kink such as relu or abs at 0, or a tie in max), f is evaluated at two more
points; a step in the slopes makes the entry a candidate, and f is evaluated at four more.
The entry is a kink only if the eight half-step slopes over [-2 eps, 2 eps] fit one kink with
each one-sided slope stable when the step is halved. At a kink at x, an engine value between
the one-sided derivatives (a subgradient, as the ops' documented conventions give) is
reported, not failed (``nondiff='fail'`` fails it); at a kink nearby, only the slope of x's
side passes; anything else fails.

The contract (every checker: gradcheck, gradgradcheck, numerical_jacobian, numerical_grad,
eps_sweep, check_three_way). ``inputs`` is a Tensor, an ndarray, a sequence, a dict
``name -> input`` (the keys name them in reports) or any iterable (``net.parameters()``).
``f`` either takes the inputs as arguments, and gets float64 copies (fresh leaves), or takes
no arguments and reads live Tensors, e.g. a model's parameters::

    ag.gradcheck(lambda: loss(net(X), y), net.parameters())

whose ``.data`` is swapped for float64 copies during the check; the original arrays and
``.grad`` are put back afterwards, bit for bit, also when f raises. The checkers need the
engine's derivative, so f returns Tensors (a Python float, ``.item()``, an ndarray is refused
with ``TypeError``, like an int); the finite-difference tools also take numbers.

What a check will not vouch for. A check fails, with the reason in ``result.cannot_vouch``
(``table.cannot_vouch`` for check_three_way), rather than pass when:

* f is not deterministic: evaluated twice at the point, or once more after the finite
  differences, its outputs differ by more than ``nondet_tol`` (default 0: bit for bit, as
  numpy gives on identical inputs); or its backward, run twice with one seed, differs. Noise,
  a dropout mask drawn per call (a model in training mode) and state changed by each call do
  this. numerical_jacobian, numerical_grad and eps_sweep raise ``ValueError`` instead.
* an input is used by no output: no output's graph reaches it and f does not change when it
  moves (``lambda *ps: loss(net(X), y)`` ignores the copies it gets). Pass
  ``allow_unused=True`` when a zero derivative is expected (then it is checked as zero).
* f writes into an input's data while running, or casts its outputs below float64.
* a full check's two Jacobians would take more than 1 GiB (``ValueError`` before allocating:
  use ``fast_mode=True``).

Entries whose finite differences are erratic (a step in the slopes that fits no single kink:
noise, a jump in f, several kinks within eps) fail, and so do infinite values (equal
infinities are not agreement). Tensors passed without ``requires_grad`` are held constant and
named in the report. The same rules are written for users in docs/gradcheck.md.

A failed check re-checks every op of f's graph on its own and lists the culprits in
``result.failed_nodes`` (``ag.draw_graph(result.outputs[0], highlight=result)`` paints them).
``autograd_nn.gradcheck`` is the function (as ``torch.autograd.gradcheck``); this package's
other names are ``autograd_nn.<name>`` or ``from autograd_nn.gradcheck import <name>``.
"""

from __future__ import annotations

from .checkers import gradcheck, gradgradcheck
from .numerical import Kink, numerical_grad, numerical_jacobian
from .problem import GradcheckPrecisionWarning
from .result import GradcheckError, GradcheckResult, NondiffPoint, PairResult
from .sweep import SweepTable, eps_sweep
from .tables import GradientTable, ThreeWayTable, check_three_way, compare_gradients

__all__ = [
    "GradcheckError", "GradcheckPrecisionWarning", "GradcheckResult", "GradientTable", "Kink",
    "NondiffPoint", "PairResult", "SweepTable", "ThreeWayTable", "check_three_way",
    "compare_gradients", "eps_sweep", "gradcheck", "gradgradcheck", "numerical_grad",
    "numerical_jacobian",
]
