"""Second (and third) derivatives: for every row of the op table, the Hessian-vector product
from grad-of-grad (``create_graph=True``) vs central differences of the engine's own
first-order gradient; closed forms for a few ops; a plain backward records nothing."""

from __future__ import annotations

import numpy as np
import numpy_op_table
import pytest
from core_op_table import (
    BROADCAST_CASES,
    CASES,
    STD,
    OpCase,
    as_list,
    cotangents,
    draw_inputs,
    engine_grads,
    leaves,
)
from fd_oracle import assert_grads_match, fd_directional, fd_jacobian
from hypothesis import given
from strategies import broadcastable_shape_pairs, matmul_shape_pairs, seeds

import autograd_nn as ag

CASES = CASES + numpy_op_table.CASES  # the core table and the numpy surface's
BROADCAST_CASES = {**BROADCAST_CASES, **numpy_op_table.BROADCAST_CASES}


def engine_hvp(c: OpCase, xs: list, consts: dict, ws: list, vs: list) -> tuple[list, list]:
    """(first-order grads built with create_graph, d/dt grads(x + t v)) by double backward."""
    ts = leaves(xs)
    outs = as_list(c.fn(*ts, **consts))
    gs = ag.autograd.grad(outs, ts, grad_outputs=ws, create_graph=True, allow_unused=True)
    first = [np.zeros_like(x) if g is None else g.data for x, g in zip(xs, gs)]
    dot = None
    for g, v in zip(gs, vs):
        if g is not None and g.requires_grad:
            term = (g * ag.Tensor(v)).sum()
            dot = term if dot is None else dot + term
    if dot is None:  # the gradient does not depend on the inputs: the op is linear
        return first, [np.zeros_like(x) for x in xs]
    hv = ag.autograd.grad(dot, ts, allow_unused=True)
    return first, [np.zeros_like(x) if h is None else h.data for x, h in zip(xs, hv)]


def check_second_order(c: OpCase, xs: list, consts: dict, rng: np.random.Generator) -> None:
    ws = cotangents(c, xs, consts, rng)
    vs = [rng.standard_normal(np.shape(x)) for x in xs]
    first, hv = engine_hvp(c, xs, consts, ws, vs)
    assert_grads_match(first, engine_grads(c, xs, consts, ws), rtol=1e-12, atol=1e-12,
                       what=f"{c.id}: create_graph gradient vs plain gradient")
    want = fd_directional(lambda *a: engine_grads(c, list(a), consts, ws), xs, vs)
    assert_grads_match(hv, want, rtol=1e-5, atol=1e-6, what=f"{c.id}: Hessian-vector product")


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_grad_of_grad_matches_finite_differences_of_grad(c: OpCase) -> None:
    rng = np.random.default_rng(3)
    xs, consts = draw_inputs(c, rng)
    check_second_order(c, xs, consts, rng)


@pytest.mark.parametrize("name", sorted(BROADCAST_CASES))
@given(pair=broadcastable_shape_pairs(), seed=seeds())
def test_grad_of_grad_on_drawn_broadcast_shapes(name: str, pair: tuple, seed: int) -> None:
    c = BROADCAST_CASES[name]
    rng = np.random.default_rng(seed)
    xs, consts = draw_inputs(c, rng, pair)
    check_second_order(c, xs, consts, rng)


@given(pair=matmul_shape_pairs(), seed=seeds())
def test_matmul_grad_of_grad_on_drawn_shapes(pair: tuple, seed: int) -> None:
    c = OpCase("matmul", lambda x, y: x @ y, np.matmul, (), (STD, STD))
    rng = np.random.default_rng(seed)
    xs, consts = draw_inputs(c, rng, pair)
    check_second_order(c, xs, consts, rng)


def test_plain_backward_records_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first-order backward runs no op: no Function.apply call, gradients carry no graph."""
    original = ag.Function.__dict__["apply"].__func__
    calls: list[str] = []

    def counting(cls, *args, **kwargs):
        calls.append(cls.name)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(ag.Function, "apply", classmethod(counting))
    rng = np.random.default_rng(4)
    for c in CASES:
        xs, consts = draw_inputs(c, rng)
        ts = leaves(xs)
        outs = as_list(c.fn(*ts, **consts))
        ws = cotangents(c, xs, consts, rng)
        assert calls, "the counter does not see the ops"
        calls.clear()
        ag.autograd.backward(outs, ws)
        assert calls == [], f"{c.id}: the plain backward ran ops {calls}"
        for t in ts:
            assert t.grad is None or (t.grad.grad_fn is None and not t.grad.requires_grad)


# ---- closed forms -------------------------------------------------------------------------------
def nth_derivative(f, x: np.ndarray, n: int) -> np.ndarray:
    """d^n/dx^n of elementwise f, by repeated grad with create_graph."""
    t = ag.Tensor(x, requires_grad=True)
    y = f(t)
    for _ in range(n):
        (y,) = ag.autograd.grad(y.sum(), t, create_graph=True)
    return y.data


X = np.linspace(-1.7, 1.9, 7)


@pytest.mark.parametrize("name,f,d2", [
    ("cube", lambda t: t**3, lambda x: 6 * x),
    ("exp", ag.exp, np.exp),
    ("sin", ag.sin, lambda x: -np.sin(x)),
    ("cos", ag.cos, lambda x: -np.cos(x)),
    ("tanh", ag.tanh, lambda x: -2 * np.tanh(x) / np.cosh(x) ** 2),
    ("sigmoid", ag.sigmoid,
     lambda x: (lambda s: s * (1 - s) * (1 - 2 * s))(1 / (1 + np.exp(-x)))),
    ("softplus", ag.softplus, lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    ("reciprocal", lambda t: 1.0 / (t + 3.0), lambda x: 2 / (x + 3) ** 3),
    ("log", lambda t: ag.log(t + 2.0), lambda x: -1 / (x + 2) ** 2),
    ("sqrt", lambda t: ag.sqrt(t + 2.0), lambda x: -0.25 * (x + 2) ** -1.5),
    ("2**x", lambda t: 2.0**t, lambda x: np.log(2) ** 2 * 2.0**x),
])
def test_second_derivative_closed_form(name, f, d2):
    np.testing.assert_allclose(nth_derivative(f, X, 2), d2(X), rtol=1e-10, atol=1e-12)


def test_third_and_fourth_derivatives():
    np.testing.assert_allclose(nth_derivative(ag.sin, X, 3), -np.cos(X), rtol=1e-12)
    np.testing.assert_allclose(nth_derivative(ag.sin, X, 4), np.sin(X), rtol=1e-12)
    np.testing.assert_allclose(nth_derivative(lambda t: t**4, X, 3), 24 * X, rtol=1e-12)
    np.testing.assert_allclose(nth_derivative(ag.exp, X, 4), np.exp(X), rtol=1e-12)


def test_backward_with_create_graph_gives_differentiable_grad():
    x = ag.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert g.grad_fn is not None and g.requires_grad
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    (h,) = ag.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * x.data)


def test_hessian_of_prod_with_a_zero():
    """d2 prod / dxi dxj = product of the entries other than i and j (0 on the diagonal)."""
    x = np.array([2.0, 0.0, 3.0, -1.0])
    t = ag.Tensor(x, requires_grad=True)
    (g,) = ag.autograd.grad(ag.prod(t), t, create_graph=True)
    rows = [ag.autograd.grad(g[i], t, retain_graph=True)[0].data for i in range(4)]
    want = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            if i != j:
                want[i, j] = np.prod(np.delete(x, [i, j]))
    np.testing.assert_allclose(np.stack(rows), want, atol=1e-15)


def test_mixed_partials_of_two_operands():
    """d2 (x * y**2) / dx dy = 2 y, checked against finite differences of the gradient."""
    x = ag.Tensor([1.5, -0.5], requires_grad=True)
    y = ag.Tensor([0.7, 2.0], requires_grad=True)
    gx, gy = ag.autograd.grad((x * y**2).sum(), [x, y], create_graph=True)
    (gxy,) = ag.autograd.grad(gx.sum(), y)
    np.testing.assert_allclose(gxy.data, 2 * y.data)

    def grad_y(yv):
        y2 = ag.Tensor(yv, requires_grad=True)
        (g,) = ag.autograd.grad((ag.Tensor(x.data) * y2**2).sum(), y2)
        return g.data

    jac = fd_jacobian(grad_y, y.data)
    (gyy,) = ag.autograd.grad(gy.sum(), y, allow_unused=True)
    np.testing.assert_allclose(gyy.data, jac.sum(axis=0), rtol=1e-6)
