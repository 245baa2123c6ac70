"""Gradients at the edges users reach (issue 10): nested transforms that see outer variables
through closures, non-differentiated arguments and globals; numpy calls that build arrays from
tensors; std/var of one element; max/min with NaN; custom Functions that break the contract.

Oracles: nested float64 central differences (written here in plain numpy) and ``torch.func``
when PyTorch is installed."""

from __future__ import annotations

import numpy as np
import pytest
from fd_oracle import fd_gradients

import autograd_nn as ag

try:
    import torch
    from torch import func as tfunc
except ImportError:  # pragma: no cover - the torch comparisons are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def partial(f, i, eps=1e-4):
    """The central-difference partial derivative of scalar ``f`` in its argument ``i``."""

    def d(*args):
        up = list(args)
        down = list(args)
        up[i] = args[i] + eps
        down[i] = args[i] - eps
        return (f(*up) - f(*down)) / (2 * eps)

    return d


def t64(x):
    return torch.tensor(x, dtype=torch.float64)


def value(t):
    return float(np.asarray(t.data if isinstance(t, ag.Tensor) else t.detach().numpy()))


# ---- nested transforms: whatever enters a function keeps its graph ------------------------------
def test_grad_of_grad_through_a_closure():
    # f(x) = x * d/dy (x y) = x**2, so f'(1) = 2
    f = lambda x: x * ag.grad(lambda y: x * y)(2.0)  # noqa: E731
    assert value(ag.grad(f)(1.0)) == pytest.approx(2.0, rel=1e-12)
    fd = partial(lambda x: x * partial(lambda y: x * y, 0)(2.0), 0)(1.0)
    assert fd == pytest.approx(2.0, rel=1e-6)


def g_ag(x, y):
    return ag.sin(ag.sin(x) + ag.sin(y))


def g_np(x, y):
    return np.sin(np.sin(x) + np.sin(y))


def test_grad_wrt_an_argument_the_inner_transform_does_not_differentiate():
    got = value(ag.grad(ag.grad(g_ag, argnums=1), argnums=0)(0.3, -0.7))
    fd = partial(partial(g_np, 1), 0)(0.3, -0.7)
    assert got == pytest.approx(fd, rel=1e-5)
    assert got == pytest.approx(0.2496549, abs=1e-7)  # the issue's torch / fd figure


def h_ag(x, y):
    return ag.sin(x * y) * ag.exp(x) + x**3 * y**2


def h_np(x, y):
    return np.sin(x * y) * np.exp(x) + x**3 * y**2


def h_t(x, y):
    return torch.sin(x * y) * torch.exp(x) + x**3 * y**2


@pytest.mark.parametrize("order", [(1, 0, 1), (0, 1, 1), (1, 1, 0), (0, 0, 1)])
def test_third_derivatives_mixing_arguments(order):
    f_ag, f_np = h_ag, h_np
    for i in order:
        f_ag = ag.grad(f_ag, argnums=i)
        f_np = partial(f_np, i, eps=1e-3)
    got = ag.grad(ag.grad(ag.grad(h_ag, order[0]), order[1]), order[2])(0.4, -0.6)
    assert value(got) == pytest.approx(value(f_ag(0.4, -0.6)), rel=1e-12)
    assert value(got) == pytest.approx(f_np(0.4, -0.6), rel=1e-4, abs=1e-5)
    assert not got.requires_grad  # a top-level transform returns a plain value
    if torch is not None:
        f_t = h_t
        for i in order:
            f_t = tfunc.grad(f_t, argnums=i)
        assert value(got) == pytest.approx(value(f_t(t64(0.4), t64(-0.6))), rel=1e-10)


def test_inner_variable_is_fresh_even_when_the_argument_is_the_outer_variable():
    # d/dx [ d/dy (x y) at y = x ] = d/dx x = 1 (not 2: the inner y is a new variable)
    got = ag.grad(lambda x: ag.grad(lambda y: x * y)(x))(1.0)
    assert value(got) == pytest.approx(1.0, rel=1e-12)


def test_value_and_grad_value_keeps_the_outer_graph():
    # value = x * 2, so d/dx value = 2
    got = ag.grad(lambda x: ag.value_and_grad(lambda y: x * y)(2.0)[0])(1.0)
    assert value(got) == pytest.approx(2.0, rel=1e-12)


@needs_torch
def test_gradient_wrt_a_global_parameter_keeps_its_graph():
    x0 = np.array([0.5, -1.5, 2.0])
    w = ag.Tensor([1.5, -0.5, 0.25], requires_grad=True)
    g = ag.grad(lambda x: (ag.tanh(w * x) ** 2).sum())(x0)
    (g * g).sum().backward()
    tw = t64([1.5, -0.5, 0.25]).requires_grad_()
    tg = tfunc.grad(lambda x: (torch.tanh(tw * x) ** 2).sum())(t64(x0))
    (tg * tg).sum().backward()
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10)


X0 = np.array([0.3, -0.8, 1.1])
Y0 = np.array([0.7, 0.2, -0.4])
V0 = np.array([1.0, -2.0, 0.5])


@needs_torch
def test_jacobian_of_a_grad_that_closes_over_the_jacobian_variable():
    got = ag.jacobian(lambda x: ag.grad(lambda y: ag.sin(x * y).sum() * x.sum())(Y0))(X0)
    want = tfunc.jacrev(
        lambda x: tfunc.grad(lambda y: torch.sin(x * y).sum() * x.sum())(t64(Y0)))(t64(X0))
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
def test_grad_of_a_hessian_wrt_another_variable():
    got = ag.grad(lambda x: ag.hessian(lambda y: (ag.exp(x * y) * y).sum())(Y0).sum())(X0)
    want = tfunc.grad(
        lambda x: tfunc.hessian(lambda y: (torch.exp(x * y) * y).sum())(t64(Y0)).sum())(t64(X0))
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-10)


@needs_torch
def test_grad_of_hvp_and_jvp_inside_a_closure():
    def via_hvp(x):
        return ag.hvp(lambda y: ag.sin(x * y).sum() * (x * x).sum(), Y0, V0)[1].sum()

    def via_jvp(x):
        return ag.jvp(lambda y: ag.tanh(x * y) * x, Y0, V0)[1].sum()

    def t_hvp(x):
        return tfunc.jvp(tfunc.grad(lambda y: torch.sin(x * y).sum() * (x * x).sum()),
                         (t64(Y0),), (t64(V0),))[1].sum()

    def t_jvp(x):
        return tfunc.jvp(lambda y: torch.tanh(x * y) * x, (t64(Y0),), (t64(V0),))[1].sum()

    for mine, theirs in [(via_hvp, t_hvp), (via_jvp, t_jvp)]:
        got = ag.grad(mine)(X0)
        want = tfunc.grad(theirs)(t64(X0))
        np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
def test_backward_through_a_transform_of_a_closure_over_a_leaf():
    x = ag.Tensor(X0, requires_grad=True)
    g = ag.grad(lambda y: (x * ag.sin(y)).sum() ** 2)(Y0)
    g.sum().backward()
    tx = t64(X0).requires_grad_()
    tg = tfunc.grad(lambda y: (tx * torch.sin(y)).sum() ** 2)(t64(Y0))
    tg.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


# ---- numpy calls that build arrays from tensors: graph or a clear refusal -----------------------
def _x():
    return ag.Tensor(2.0, requires_grad=True)


BUILDERS = {
    "np.array of a list": lambda x: np.array([x, x * x]),
    "np.asarray": lambda x: np.asarray(x),
    "np.array": lambda x: np.array(x),
    "np.r_": lambda x: np.r_[x, x * x],
    "np.c_": lambda x: np.c_[x, x],
    "np.append of lists": lambda x: np.append([x], [x * x]),
    "np.mean of a list": lambda x: np.mean([x, x * x]),
    "np.sum of a list": lambda x: np.sum([x, x]),
    "np.concatenate of nested lists": lambda x: np.concatenate([[x], [x]]),
    "np.asarray of a non-leaf": lambda x: np.asarray(x * 3.0),
    "array-like argument of a ufunc method": lambda x: np.add.reduce([x, x]),
}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_numpy_building_arrays_from_tensors_that_require_grad_is_refused(build):
    with pytest.raises(TypeError, match=r"ag\.stack") as info:
        build(_x())
    assert "detach" in str(info.value)


def test_where_numpy_dispatches_to_tensors_the_graph_is_built():
    # d/dx of sum(f(x)) at x = 2, by hand: x + x^2 -> 1 + 2x; sqrt(x^2 + x^4) -> (x + 2x^3)/norm
    norm = np.sqrt(4.0 + 16.0)
    for f, want in [(lambda x: np.append(x, x * x), 5.0), (lambda x: np.hstack([x, x * x]), 5.0),
                    (lambda x: np.concatenate([x[None], (x * x)[None]]), 5.0),
                    (lambda x: np.linalg.norm(np.stack([x, x * x])), (2.0 + 16.0) / norm)]:
        x = _x()
        y = f(x)
        assert isinstance(y, ag.Tensor) and y.requires_grad
        y.sum().backward()
        assert value(x.grad) == pytest.approx(want, rel=1e-12)


def test_the_issue_example_is_refused_and_stack_gives_the_true_gradient():
    x = _x()
    with pytest.raises(TypeError, match="requires grad"):
        (np.array([x, x * x]) * x).sum().backward()
    (ag.stack([x, x * x]) * x).sum().backward()
    assert value(x.grad) == pytest.approx(16.0)  # d/dx (x^2 + x^3) at 2
    # numpy on tensors without grad, and on detached data, still works
    np.testing.assert_array_equal(np.array([x.detach(), x.detach()]), [2.0, 2.0])
    np.testing.assert_array_equal(np.r_[ag.Tensor([1.0]), ag.Tensor([2.0])], [1.0, 2.0])
    assert np.mean([ag.Tensor(1.0), ag.Tensor(3.0)]) == 2.0
    with ag.no_grad():
        y = x * 2.0  # no graph recorded: numpy may have the array
    assert np.asarray(y) is y.data
    assert float(x) == 2.0 and x.item() == 2.0  # explicit scalar reads stay allowed


# ---- std / var over one element: constant, so the derivative is 0 (also second order) -----------
ONE_ELEMENT = [((), None), ((3, 1), 1), ((1,), 0), ((1,), None), ((2, 3), ()), ((2, 1, 2), (1,)),
               ((1, 1), (0, 1))]


@pytest.mark.parametrize("shape,axis", ONE_ELEMENT)
def test_std_and_var_of_one_element_have_zero_gradient_and_hessian(shape, axis):
    x0 = np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape) * 0.7
    for op in ("std", "var"):  # var was already right; std gave NaN
        f = lambda x, op=op: (getattr(ag, op)(x, axis=axis) * 3.0).sum()  # noqa: E731
        g = ag.grad(f)(x0)
        np.testing.assert_array_equal(g.data, np.zeros(shape), err_msg=op)
        (fd,) = fd_gradients(lambda t, op=op: np.sum(getattr(np, op)(t, axis=axis) * 3.0), [x0])
        np.testing.assert_allclose(fd, 0.0, atol=1e-9)
        h = ag.hessian(f)(x0)
        np.testing.assert_array_equal(h.data, np.zeros(shape + shape), err_msg=op)
        assert value(getattr(ag, op)(ag.Tensor(x0), axis=axis).sum()) == 0.0


@needs_torch
def test_std_of_one_element_matches_torch():
    x = ag.Tensor([[0.3], [-1.2]], requires_grad=True)
    ag.std(x, axis=1).sum().backward()
    tx = t64([[0.3], [-1.2]]).requires_grad_()
    torch.std(tx, dim=1, correction=0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


# ---- max / min with NaN: the gradient goes to the NaN entries only (torch.max) ------------------
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_nan_send_the_gradient_to_the_nan_entry(op):
    x = ag.Tensor([1.0, np.nan, 3.0, -2.0], requires_grad=True)
    getattr(ag, op)(x).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0, 0.0])
    y = ag.Tensor([[1.0, np.nan], [3.0, 2.0], [np.nan, np.nan]], requires_grad=True)
    (getattr(ag, op)(y, axis=1) * ag.Tensor([1.0, 2.0, 4.0])).sum().backward()
    want = [[0.0, 1.0], [2.0, 0.0] if op == "max" else [0.0, 2.0], [2.0, 2.0]]
    np.testing.assert_array_equal(y.grad.data, want)  # ties among NaNs split, as other ties


@needs_torch
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_nan_match_torch(op):
    data = [0.5, np.nan, -3.0, np.nan, 2.0]
    x = ag.Tensor(data, requires_grad=True)
    (getattr(ag, op)(x) * 2.0).backward()
    tx = t64(data).requires_grad_()
    (getattr(torch, op)(tx) * 2.0).backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


# ---- custom Functions that break the contract: refused, or made safe ----------------------------
class CubeSavingSquare(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x * x)  # an intermediate: a constant under create_graph
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x2,) = ctx.saved_tensors
        return g * 3 * x2


class ReluSavingMask(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)  # a bool mask is a constant: fine
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return ctx.xp.where(mask, g, 0.0)


def test_saving_an_intermediate_is_refused_with_what_to_save_instead():
    for x0 in (2.0, [2.0, -1.0]):
        x = ag.Tensor(x0, requires_grad=True)
        with pytest.raises(TypeError, match="save_for_backward") as info:
            CubeSavingSquare.apply(x)
        assert "operands" in str(info.value) and "once_differentiable" in str(info.value)
        assert x.grad is None
    y = ag.Tensor([1.5, -2.0], requires_grad=True)
    ReluSavingMask.apply(y).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [1.0, 0.0])


def test_once_differentiable_first_order_works_and_second_order_raises():
    class CubeOnce(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x * x)
            return x**3

        @staticmethod
        @ag.once_differentiable
        def backward(ctx, g):
            (x2,) = ctx.saved_tensors
            return g * 3 * x2

    assert ag.once_differentiable is ag.function.once_differentiable
    assert value(ag.grad(lambda x: CubeOnce.apply(x))(2.0)) == pytest.approx(12.0)
    with pytest.raises(RuntimeError, match="CubeOnce.*once_differentiable"):
        ag.hessian(lambda x: CubeOnce.apply(x))(2.0)
    # create_graph through it is fine as long as nothing differentiates its gradient again
    x = ag.Tensor(0.5, requires_grad=True)
    y = ag.Tensor(0.3, requires_grad=True)
    out = CubeOnce.apply(x) + ag.sin(y) ** 2
    gx, gy = ag.autograd.grad(out, [x, y], create_graph=True)
    assert value(gx) == pytest.approx(0.75)
    gy.backward()
    assert value(y.grad) == pytest.approx(2 * np.cos(0.6))
    with pytest.raises(RuntimeError, match="once_differentiable"):
        gx.backward()


def test_forward_returning_several_outputs_is_refused():
    class Two(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x, 2 * x

        @staticmethod
        def backward(ctx, g):
            return g

    for x0 in ([1.0, 2.0], 3.0):
        with pytest.raises(TypeError, match="Two.forward returned a tuple.*one output"):
            Two.apply(ag.Tensor(x0, requires_grad=True))


def test_backward_returning_complex_is_refused():
    class Complex(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, g):
            return g * (2 + 1j)

    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="Complex.backward.*complex128.*real"):
        Complex.apply(x).sum().backward()
    assert x.grad is None


def test_forward_returning_its_input_array_does_not_alias_the_operand():
    class Identity(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    class Head(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x_shape = x.shape
            return x[:1]  # a view of the operand

        @staticmethod
        def backward(ctx, g):
            return ctx.xp.where(np.arange(ctx.x_shape[0]) == 0, g, 0.0)

    for op in (Identity, Head):
        w = ag.Tensor([1.0, 2.0])
        x = ag.Tensor([3.0, 4.0], requires_grad=True)
        loss = (x * w).sum()  # multiply saves w
        z = op.apply(w)
        z.mul_(10.0)  # must not change w behind its version counter
        loss.backward()
        np.testing.assert_array_equal(w.data, [1.0, 2.0])
        np.testing.assert_array_equal(x.grad.data, [1.0, 2.0])
    x = ag.Tensor([3.0, 4.0], requires_grad=True)
    y = Identity.apply(x)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 8.0])
