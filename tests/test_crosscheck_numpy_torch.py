"""Differential tests of the numpy surface against PyTorch (the oracle only): for every
function PyTorch also has, the same float64 data gives the same value, the same gradient of a
random weighting of the output, and the same Hessian-vector product (double backward)."""

from __future__ import annotations

import numpy as np
import pytest
from core_op_table import STD, grid, nonzero, uniform
from numpy_op_table import separated, wellconditioned

import autograd_nn as ag

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

L = ag.linalg
CASES = [  # (name, autograd_nn fn, torch fn, shapes, domain)
    ("tan", ag.tan, lambda t: t.tan(), [(2, 3)], uniform(-1.2, 1.2)),
    ("arcsin", ag.arcsin, torch.asin, [(4,)], uniform(-0.9, 0.9)),
    ("arccos", ag.arccos, torch.acos, [(4,)], uniform(-0.9, 0.9)),
    ("arctan", ag.arctan, torch.atan, [(4,)], STD),
    ("sinh", ag.sinh, torch.sinh, [(4,)], STD),
    ("cosh", ag.cosh, torch.cosh, [(4,)], STD),
    ("arcsinh", ag.arcsinh, torch.asinh, [(4,)], STD),
    ("arccosh", ag.arccosh, torch.acosh, [(4,)], uniform(1.2, 3.0)),
    ("arctanh", ag.arctanh, torch.atanh, [(4,)], uniform(-0.8, 0.8)),
    ("log2", ag.log2, torch.log2, [(4,)], uniform(0.3, 3.0)),
    ("log10", ag.log10, torch.log10, [(4,)], uniform(0.3, 3.0)),
    ("log1p", ag.log1p, torch.log1p, [(4,)], uniform(-0.7, 2.0)),
    ("expm1", ag.expm1, torch.expm1, [(4,)], STD),
    ("exp2", ag.exp2, torch.exp2, [(4,)], STD),
    ("square", ag.square, torch.square, [(4,)], STD),
    ("reciprocal", ag.reciprocal, torch.reciprocal, [(4,)], nonzero(0.5, 2.0)),
    ("sinc", ag.sinc, torch.sinc, [(6,)], uniform(-2.5, 2.5)),
    ("deg2rad", ag.deg2rad, torch.deg2rad, [(4,)], STD),
    ("rad2deg", ag.rad2deg, torch.rad2deg, [(4,)], STD),
    ("logaddexp", ag.logaddexp, torch.logaddexp, [(2, 3), (3,)], STD),
    ("logaddexp2", ag.logaddexp2, torch.logaddexp2, [(2, 3), (3,)], STD),
    ("arctan2", ag.arctan2, torch.atan2, [(2, 3), (3,)], nonzero(0.3, 2.0)),
    ("hypot", ag.hypot, torch.hypot, [(2, 3), (2, 1)], nonzero(0.3, 2.0)),
    ("fmax", ag.fmax, torch.fmax, [(2, 3), (2, 3)], grid(-2, 2)),
    ("remainder", ag.remainder, torch.remainder, [(4,), (4,)], nonzero(1.7, 2.0)),
    ("fmod", ag.fmod, torch.fmod, [(4,), (4,)], nonzero(1.7, 2.0)),
    ("tril", lambda x: ag.tril(x, -1), lambda x: torch.tril(x, -1), [(2, 3, 3)], STD),
    ("triu", lambda x: ag.triu(x, 1), lambda x: torch.triu(x, 1), [(3, 4)], STD),
    ("diagonal", lambda x: ag.diagonal(x, 1, 1, 2),
     lambda x: torch.diagonal(x, 1, 1, 2), [(2, 3, 4)], STD),
    ("trace", ag.trace, torch.trace, [(3, 3)], STD),
    ("diag", ag.diag, torch.diag, [(3,)], STD),
    ("roll", lambda x: ag.roll(x, 2, 1), lambda x: torch.roll(x, 2, 1), [(2, 3)], STD),
    ("flip", lambda x: ag.flip(x, (0, 1)), lambda x: torch.flip(x, (0, 1)), [(2, 3)], STD),
    ("rot90", lambda x: ag.rot90(x, 1), lambda x: torch.rot90(x, 1), [(2, 3)], STD),
    ("repeat", lambda x: ag.repeat(x, 2, 0), lambda x: torch.repeat_interleave(x, 2, 0),
     [(2, 3)], STD),
    ("tile", lambda x: ag.tile(x, (2, 1)), lambda x: torch.tile(x, (2, 1)), [(2, 3)], STD),
    ("moveaxis", lambda x: ag.moveaxis(x, 0, 2), lambda x: torch.movedim(x, 0, 2), [(2, 3, 4)],
     STD),
    ("cumsum", lambda x: ag.cumsum(x, 1), lambda x: torch.cumsum(x, 1), [(2, 3)], STD),
    ("cumprod", lambda x: ag.cumprod(x, 1), lambda x: torch.cumprod(x, 1), [(2, 4)],
     nonzero(0.5, 1.5)),
    ("sort", lambda x: ag.sort(x, 0), lambda x: torch.sort(x, 0).values, [(4, 3)], grid(-2, 2)),
    ("einsum", lambda a, b: ag.einsum("bij,bjk->bik", a, b),
     lambda a, b: torch.einsum("bij,bjk->bik", a, b), [(2, 2, 3), (2, 3, 2)], STD),
    ("tensordot", lambda a, b: ag.tensordot(a, b, 2), lambda a, b: torch.tensordot(a, b, 2),
     [(2, 3, 4), (3, 4, 2)], STD),
    ("outer", ag.outer, torch.outer, [(3,), (2,)], STD),
    ("inner", ag.inner, torch.inner, [(2, 3), (4, 3)], STD),
    ("kron", ag.kron, torch.kron, [(2, 2), (2, 3)], STD),
    ("cross", ag.cross, lambda a, b: torch.linalg.cross(a, b), [(2, 3), (2, 3)], STD),
    ("inv", L.inv, lambda a: torch.linalg.inv(a), [(2, 3, 3)], wellconditioned),
    ("solve", L.solve, lambda a, b: torch.linalg.solve(a, b), [(3, 3), (3, 2)],
     wellconditioned),
    ("det", L.det, lambda a: torch.linalg.det(a), [(2, 3, 3)], wellconditioned),
    ("slogdet", lambda a: L.slogdet(a).logabsdet, lambda a: torch.linalg.slogdet(a)[1],
     [(3, 3)], wellconditioned),
    ("cholesky", lambda a: L.cholesky(a @ np.swapaxes(a, -1, -2) + 0.0),
     lambda a: torch.linalg.cholesky(a @ a.mT), [(3, 3)], wellconditioned),
    ("eigvalsh", lambda a: L.eigvalsh(a + np.swapaxes(a, -1, -2)),
     lambda a: torch.linalg.eigvalsh(a + a.mT), [(3, 3)], separated),
    ("svdvals", L.svdvals, lambda a: torch.linalg.svdvals(a), [(4, 3)], wellconditioned),
    ("pinv", L.pinv, lambda a: torch.linalg.pinv(a), [(3, 2)], wellconditioned),
    ("matrix_power", lambda a: L.matrix_power(a, 3), lambda a: torch.linalg.matrix_power(a, 3),
     [(3, 3)], STD),
    ("norm", lambda a: L.norm(a, axis=1), lambda a: torch.linalg.vector_norm(a, dim=1),
     [(2, 3)], STD),
    ("norm_nuc", lambda a: L.norm(a, "nuc"), lambda a: torch.linalg.matrix_norm(a, "nuc"),
     [(3, 2)], wellconditioned),
    ("norm_inf", lambda a: L.norm(a, np.inf), lambda a: torch.linalg.matrix_norm(a, np.inf),
     [(3, 3)], nonzero(0.3, 2.0)),
]


def _close(got, want, what: str) -> None:
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9, atol=1e-10,
                               err_msg=f"{what} differs from PyTorch")


@pytest.mark.parametrize("name,f,tf,shapes,dom", CASES, ids=[c[0] for c in CASES])
def test_value_gradient_and_hvp_agree_with_pytorch(name, f, tf, shapes, dom):
    rng = np.random.default_rng(11)
    xs = [dom(rng, s) for s in shapes]
    a_in = [ag.Tensor(x, requires_grad=True) for x in xs]
    t_in = [torch.tensor(x, requires_grad=True) for x in xs]
    a_out, t_out = f(*a_in), tf(*t_in)
    _close(a_out.data, t_out.detach().numpy(), f"{name} value")
    w = rng.standard_normal(a_out.shape)
    vs = [rng.standard_normal(x.shape) for x in xs]
    a_g = ag.autograd.grad((a_out * ag.Tensor(w)).sum(), a_in, create_graph=True)
    t_g = torch.autograd.grad((t_out * torch.tensor(w)).sum(), t_in, create_graph=True)
    for k, (ga, gt) in enumerate(zip(a_g, t_g)):
        _close(ga.data, gt.detach().numpy(), f"{name} gradient of operand {k}")
    a_dot = sum((g * ag.Tensor(v)).sum() for g, v in zip(a_g, vs))
    t_dot = sum((g * torch.tensor(v)).sum() for g, v in zip(t_g, vs))
    none = [None] * len(xs)  # a linear op: the gradient does not depend on the inputs
    a_h = ag.autograd.grad(a_dot, a_in, allow_unused=True) if a_dot.requires_grad else none
    t_h = torch.autograd.grad(t_dot, t_in, allow_unused=True) if t_dot.requires_grad else none
    for k, (ha, ht) in enumerate(zip(a_h, t_h)):
        want = np.zeros(xs[k].shape) if ht is None else ht.numpy(force=True)
        _close(np.zeros(xs[k].shape) if ha is None else ha.data, want,
               f"{name} Hessian-vector product of operand {k}")
