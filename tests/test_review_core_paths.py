"""Review of the eager core paths: the in-place methods (one ufunc write, `_write`), view ops'
version sharing (`ViewFunction`), the grad mode of a create_graph pass, and ``backward()``'s
single-tensor path.

Oracles: numpy doing the same writes on arrays built with the same numpy view ops (values, and
``np.shares_memory`` for which counters must move), gradients written out by hand, float64
central differences (fd_oracle) and, for create_graph passes, PyTorch's semantics (the expected
numbers are derived by hand below, the torch equivalents are noted).
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest
from fd_oracle import fd_gradients

import autograd_nn as ag
from autograd_nn.ops.windows import unfold_windows
from autograd_nn.versions import MUTATIONS

BASE = np.arange(1.0, 7.0).reshape(2, 3)

# (autograd_nn view of a Tensor, the same view of an ndarray)
VIEWS = {
    "itself": (lambda t: t, lambda a: a),
    "reshape": (lambda t: t.reshape(3, 2), lambda a: a.reshape(3, 2)),
    "transpose": (lambda t: t.transpose(1, 0), lambda a: a.transpose(1, 0)),
    "T": (lambda t: t.T, lambda a: a.T),
    "slice": (lambda t: t[1:], lambda a: a[1:]),
    "step": (lambda t: t[:, ::2], lambda a: a[:, ::2]),
    "fancy (copy)": (lambda t: t[[0, 1]], lambda a: a[[0, 1]]),
    "T.reshape (copy)": (lambda t: t.T.reshape(6), lambda a: a.T.reshape(6)),
    "chain": (lambda t: t.reshape(6)[1:][::2], lambda a: a.reshape(6)[1:][::2]),
    "view of view of copy": (lambda t: t.T[1:].reshape(4), lambda a: a.T[1:].reshape(4)),
    "detach": (lambda t: t.detach(), lambda a: a),
}

# (the in-place change, the same change in numpy); ``o`` is the operand as given
METHODS = {
    "+=": (lambda t, o: t.__iadd__(o), lambda a, o: np.add(a, o, out=a)),
    "-=": (lambda t, o: t.__isub__(o), lambda a, o: np.subtract(a, o, out=a)),
    "*=": (lambda t, o: t.__imul__(o), lambda a, o: np.multiply(a, o, out=a)),
    "/=": (lambda t, o: t.__itruediv__(o), lambda a, o: np.divide(a, o, out=a)),
    "add_": (lambda t, o: t.add_(o), lambda a, o: np.add(a, o, out=a)),
    "add_ alpha": (lambda t, o: t.add_(o, alpha=-2.5), lambda a, o: np.add(a, -2.5 * np.asarray(o),
                                                                         out=a)),
    "sub_": (lambda t, o: t.sub_(o), lambda a, o: np.subtract(a, o, out=a)),
    "mul_": (lambda t, o: t.mul_(o), lambda a, o: np.multiply(a, o, out=a)),
    "div_": (lambda t, o: t.div_(o), lambda a, o: np.divide(a, o, out=a)),
    "copy_": (lambda t, o: t.copy_(o), lambda a, o: np.copyto(a, o)),
    "setitem [...]": (lambda t, o: t.__setitem__(Ellipsis, o), lambda a, o: a.__setitem__(..., o)),
    "setitem [0]": (lambda t, o: t.__setitem__(0, o), lambda a, o: a.__setitem__(0, o)),
}
OPERANDS = {
    "Tensor": lambda shape: ag.Tensor(np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape)),
    "ndarray": lambda shape: np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape),
    "list": lambda shape: np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape).tolist(),
    "float": lambda shape: 1.75,
    "int": lambda shape: 3,
}


def _plain(o):
    return o.numpy() if isinstance(o, ag.Tensor) else o


@pytest.mark.parametrize("grad_mode", [True, False], ids=["grad", "no_grad"])
@pytest.mark.parametrize("okind", sorted(OPERANDS))
@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("how", sorted(METHODS))
def test_in_place_write_matches_numpy_and_moves_exactly_the_shared_counters(how, view, okind,
                                                                            grad_mode):
    change, np_change = METHODS[how]
    make_view, np_view = VIEWS[view]
    with ag.set_grad_enabled(grad_mode):
        base = ag.Tensor(BASE.copy())
        t = make_view(base)
        o = OPERANDS[okind](t.shape[1:] if how == "setitem [0]" else t.shape)
        a_base = BASE.copy()
        a = np_view(a_base)
        np_change(a, _plain(o))
        shares = np.shares_memory(t.numpy(), base.numpy())
        clock, tv, bv = MUTATIONS.now, t.version, base.version
        out = change(t, o)
    assert out is None or out is t
    np.testing.assert_array_equal(t.numpy(), a)
    np.testing.assert_array_equal(base.numpy(), a_base if shares else BASE)
    assert (t.version - tv, MUTATIONS.now - clock) == (1, 1)
    assert base.version - bv == (1 if shares else 0)


@pytest.mark.parametrize("how", sorted(set(METHODS) - {"setitem [0]"}))
def test_a_write_into_a_broadcast_view_fails_and_changes_nothing(how):
    base = ag.Tensor(BASE.copy())
    b = ag.broadcast_to(base, (2, 2, 3))
    assert b.version == 0
    base.add_(1.0)  # the view shares the counter
    assert b.version == 1
    with pytest.raises(ValueError, match="read-only"):
        METHODS[how][0](b, np.ones((2, 2, 3)))
    assert (b.version, base.version) == (1, 1)
    np.testing.assert_array_equal(base.numpy(), BASE + 1.0)


WITH_GRAD_OPERAND = {k: v for k, v in METHODS.items()
                     if k in ("add_", "add_ alpha", "sub_", "mul_", "div_", "copy_",
                              "setitem [...]")}


@pytest.mark.parametrize("view", ["itself", "reshape", "T", "slice", "fancy (copy)", "detach"])
@pytest.mark.parametrize("how", sorted(WITH_GRAD_OPERAND))
def test_an_operand_that_requires_grad_is_refused_in_grad_mode_for_every_target(how, view):
    base = ag.Tensor(BASE.copy())
    t = VIEWS[view][0](base)
    w = ag.Tensor(np.full(t.shape, 2.0), requires_grad=True)
    clock = MUTATIONS.now
    with pytest.raises(RuntimeError, match="requires grad"):
        METHODS[how][0](t, w)
    np.testing.assert_array_equal(base.numpy(), BASE)
    assert (t.version, base.version, MUTATIONS.now) == (0, 0, clock)
    with ag.no_grad():  # outside a graph the same write is allowed (an optimizer's update)
        METHODS[how][0](t, w)
    a = VIEWS[view][1](BASE.copy())
    METHODS[how][1](a, np.full(a.shape, 2.0))
    np.testing.assert_array_equal(t.numpy(), a)
    assert t.version == 1


def test_add_alpha_of_an_operand_that_requires_grad_no_longer_cuts_the_graph():
    # before the fix, add_(w, alpha=2) scaled w into a plain array first and then checked it:
    # the write happened and w's graph was cut silently (p stayed at 1 + 2w, no error)
    p = ag.Tensor(np.ones(3))
    w = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place add_"):
        p.add_(w * 1.0, alpha=2.0)
    np.testing.assert_array_equal(p.numpy(), np.ones(3))
    assert p.version == 0


# ---- a later backward through a node that saved the changed array -------------------------
SAVING_VIEWS = {k: v[0] for k, v in VIEWS.items() if k != "itself"}
SAVING_VIEWS["broadcast_to"] = lambda t: ag.broadcast_to(t, (2, 2, 3))
SAVING_VIEWS["unfold_windows"] = lambda t: unfold_windows(t.reshape(1, 2, 3, 1), (2, 2),
                                                          (1, 1), (1, 1))
CHANGES = {
    "add_": lambda t: t.add_(1.0), "add_ alpha": lambda t: t.add_(np.ones(t.shape), alpha=3.0),
    "mul_": lambda t: t.mul_(2.0), "div_": lambda t: t.div_(2.0), "sub_": lambda t: t.sub_(1.0),
    "copy_": lambda t: t.copy_(np.ones(t.shape)), "zero_": lambda t: t.zero_(),
    "fill_": lambda t: t.fill_(4.0), "+=": lambda t: t.__iadd__(1.0),
    "*=": lambda t: t.__imul__(2.0), "setitem": lambda t: t.__setitem__(..., 5.0),
}


READ_ONLY = ("broadcast_to", "unfold_windows")  # written through the base only


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("view, side", [(v, s) for v in sorted(SAVING_VIEWS)
                                        for s in ("base", "view")
                                        if not (s == "view" and v in READ_ONLY)])
def test_backward_raises_exactly_when_the_saved_array_was_changed(view, side, change):
    base = ag.Tensor(BASE.copy())
    v = SAVING_VIEWS[view](base)
    saved, target = (base, v) if side == "view" else (v, base)
    shares = np.shares_memory(v.numpy(), base.numpy())
    before = saved.numpy().copy()
    w = ag.Tensor(np.ones(saved.shape), requires_grad=True)
    y = (w * saved).sum()  # multiply saves ``saved`` for w's gradient
    CHANGES[change](target)
    if shares:
        with pytest.raises(RuntimeError, match="modified in place"):
            y.backward()
    else:
        y.backward()
        np.testing.assert_array_equal(w.grad.numpy(), before)  # d(sum w*s)/dw = s


def test_augmented_assignment_with_an_operand_that_requires_grad_goes_out_of_place():
    # in grad mode x += w (w requires grad) is x = x + w: x's tensor is not written, the new
    # one carries w's graph (d sum(x + w)²/dw = 2(x + w))
    x = ag.Tensor(BASE.copy())
    w = ag.Tensor(np.full((2, 3), 0.5), requires_grad=True)
    alias = x
    x += w
    assert x is not alias and alias.version == 0
    np.testing.assert_array_equal(alias.numpy(), BASE)
    (x * x).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * (BASE + 0.5))
    with ag.no_grad():  # outside a graph the same statement writes in place
        alias += w
    assert alias.version == 1
    np.testing.assert_array_equal(alias.numpy(), BASE + 0.5)


def test_views_of_a_copying_view_share_its_counter_not_the_base():
    base = ag.Tensor(BASE.copy())
    c = base.T.reshape(6)  # a copy (non-contiguous reshape)
    cv = c[2:].reshape(2, 2)  # views of the copy
    base.add_(1.0)
    assert (c.version, cv.version) == (0, 0)
    cv.mul_(2.0)
    assert (c.version, cv.version, base.version) == (1, 1, 1)
    np.testing.assert_array_equal(c.numpy(), np.r_[BASE.T.reshape(6)[:2],
                                                   2 * BASE.T.reshape(6)[2:]])


def test_int_tensor_views_share_the_counter_too():
    t = ag.Tensor(np.arange(6).reshape(2, 3))
    views = [t.reshape(6), t.T, t[1:], ag.broadcast_to(t, (2, 2, 3))]
    copies = [t[[0, 1]], t.T.reshape(6)]
    t.add_(1)
    assert [v.version for v in views] == [1, 1, 1, 1]
    assert [c.version for c in copies] == [0, 0]


# ---- the grad mode of a create_graph pass -------------------------------------------------
X3 = np.array([0.5, -1.2, 2.0])
V3 = np.array([1.5, 0.3, -0.7])


@pytest.mark.parametrize("mode", ["default", "enable_grad", "no_grad"])
def test_the_same_root_twice_with_seeds_that_require_grad_keeps_their_graph(mode):
    # y = x³ given twice with grad_outputs v and v: g = 3x²·(v + v). The sum of the two seeds
    # was made before the pass entered grad mode, so under no_grad() dg/dv was lost (None at
    # e4b52a9); torch.autograd.grad gives 2·3x² (a create_graph pass records in any mode).
    x = ag.Tensor(X3, requires_grad=True)
    v = ag.Tensor(V3, requires_grad=True)
    y = x * x * x
    ctx = {"default": nullcontext, "enable_grad": ag.enable_grad, "no_grad": ag.no_grad}[mode]
    with ctx():
        (g,) = ag.autograd.grad([y, y], [x], grad_outputs=[v, v], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 6 * X3**2 * V3)
    gv, gx = ag.autograd.grad(g.sum(), [v, x])
    np.testing.assert_allclose(gv.numpy(), 6 * X3**2)
    np.testing.assert_allclose(gx.numpy(), 12 * X3 * V3)


@pytest.mark.parametrize("mode", ["enable_grad", "no_grad"])
@pytest.mark.parametrize("how", ["grad", "backward"])
def test_create_graph_pass_with_a_hook_and_retain_grad_is_differentiable(how, mode):
    # u = x² (a view chain after it), the hook multiplies u's gradient by c (requires grad),
    # y = sum(u.T.reshape(6) ** 2): g = dy/dx = 2x·(c·2u) = 4c x³, and for S = sum(g):
    # dS/dc = 4x³; dS/dx = 4c x² (through the factor 2x) + 2x·(c · 4cx) (through u, where the
    # hook fires again in the second pass and multiplies u's gradient 4cx by c, as torch does)
    xv = np.array([[0.5, -1.0, 1.5], [2.0, -0.5, 1.0]])
    cv = np.array([[2.0, 1.0, -1.0], [0.5, 3.0, 1.0]])
    x = ag.Tensor(xv, requires_grad=True)
    c = ag.Tensor(cv, requires_grad=True)
    u = x * x
    u.register_hook(lambda g: g * c)
    r = u.T.reshape(6)
    r.retain_grad()
    y = (r**2).sum()
    with (ag.no_grad() if mode == "no_grad" else ag.enable_grad()):
        if how == "grad":
            (g,) = ag.autograd.grad(y, [x], create_graph=True)
        else:
            y.backward(create_graph=True)
            g = x.grad
            np.testing.assert_allclose(r.grad.detach().numpy(), 2 * (xv**2).T.reshape(6))
    np.testing.assert_allclose(g.detach().numpy(), 4 * cv * xv**3)
    gc, gx = ag.autograd.grad(g.sum(), [c, x])
    np.testing.assert_allclose(gc.numpy(), 4 * xv**3)
    np.testing.assert_allclose(gx.numpy(), 4 * cv * xv**2 + 8 * cv**2 * xv**2)


def _viewy(x):
    r = x.reshape(3, 2).T  # (2, 3), a view chain
    b = ag.broadcast_to(r[1:] * x[[0]], (2, 3))
    return (b * x * x).sum() + (x.T[::2] ** 3).sum() + (x[0, 1:] * x[1, :2]).sum() ** 2


def _viewy_np(x):
    r = x.reshape(3, 2).T
    b = np.broadcast_to(r[1:] * x[[0]], (2, 3))
    return (b * x * x).sum() + (x.T[::2] ** 3).sum() + (x[0, 1:] * x[1, :2]).sum() ** 2


def test_second_derivatives_through_views_match_finite_differences():
    x0 = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    hess = ag.hessian(_viewy)(ag.Tensor(x0)).detach().numpy().reshape(6, 6)

    def grad_k(k):  # one entry of the analytic-by-fd gradient, itself differentiated by fd
        return lambda a: fd_gradients(_viewy_np, [a], eps=1e-5)[0].reshape(6)[k]

    rows = np.stack([fd_gradients(grad_k(k), [x0], eps=1e-4)[0].reshape(6) for k in range(6)])
    np.testing.assert_allclose(hess, rows, atol=1e-5)
    x = ag.Tensor(x0, requires_grad=True)
    (g,) = ag.autograd.grad(_viewy(x), [x], create_graph=True)
    (gg,) = ag.autograd.grad((g * g).sum(), [x])  # = 2 H g
    np.testing.assert_allclose(gg.numpy().reshape(6), 2 * rows @ g.detach().numpy().reshape(6),
                               atol=1e-4)


# ---- backward(): one tensor, a list of one, autograd.backward --------------------------------
XB = np.array([0.5, -1.2, 2.0])
CALLS = {
    "y.backward(g)": lambda y, g: y.backward(g),
    "backward(y, g)": lambda y, g: ag.autograd.backward(y, g),
    "backward([y], [g])": lambda y, g: ag.autograd.backward([y], [g]),
    "backward((y,), (g,))": lambda y, g: ag.autograd.backward((y,), (g,)),
}
GOOD = {  # a gradient for y = x * x (shape (3,)) and the weights it stands for
    "ndarray": (np.array([1.0, 2.0, 3.0]), [1.0, 2.0, 3.0]),
    "list": ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
    "int list": ([1, 2, 3], [1.0, 2.0, 3.0]),
    "tuple": ((1.0, 2.0, 3.0), [1.0, 2.0, 3.0]),
    "Tensor": (ag.Tensor([1.0, 2.0, 3.0]), [1.0, 2.0, 3.0]),
    "Tensor requiring grad": (ag.Tensor([1.0, 2.0, 3.0], requires_grad=True), [1.0, 2.0, 3.0]),
}
BAD = {  # (gradient, the error type, what its message names)
    "None for 3 elements": (None, RuntimeError, "not a single element"),
    "wrong shape": (np.ones(4), ValueError, r"shape \(4,\) but the output has shape \(3,\)"),
    "float32": (np.ones(3, np.float32), TypeError, "dtype float32 but the output has dtype fl"),
    "int array": (np.array([1, 2, 3]), TypeError, "dtype int64"),
    "a number": (2.0, ValueError, r"shape \(\) but the output has shape \(3,\)"),
    "nested one deeper": ([[1.0, 2.0, 3.0]], ValueError, r"shape \(1, 3\)"),
    "a string": ("abc", TypeError, "str"),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("kind", sorted(GOOD))
def test_every_backward_form_takes_the_same_gradients(call, kind):
    g, weights = GOOD[kind]
    x = ag.Tensor(XB, requires_grad=True)
    CALLS[call](x * x, g)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * XB * np.array(weights))  # d(w·x²)/dx


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_wrong_gradient_is_named_and_changes_nothing(call, kind):
    g, err, words = BAD[kind]
    x = ag.Tensor(XB, requires_grad=True)
    y = x * x
    with pytest.raises(err, match=words):
        CALLS[call](y, g)
    assert x.grad is None
    y.backward(np.ones(3))  # the graph is intact
    np.testing.assert_array_equal(x.grad.numpy(), 2 * XB)


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_scalar_output_takes_none_or_a_number(call):
    x = ag.Tensor(XB, requires_grad=True)
    CALLS[call]((x * x).sum(), None)
    CALLS[call]((x * x).sum(), 3)
    CALLS[call]((x * x).sum(), np.float64(0.5))
    np.testing.assert_array_equal(x.grad.numpy(), 2 * XB * 4.5)


def test_outputs_that_are_not_tensors_and_count_mismatches_are_named():
    x = ag.Tensor(XB, requires_grad=True)
    y = x * x
    with pytest.raises(TypeError, match="output 1 is a ndarray"):
        ag.autograd.backward([y, np.ones(3)], [np.ones(3), np.ones(3)])
    with pytest.raises(ValueError, match="2 outputs but 1 grad_tensors"):
        ag.autograd.backward([y, y], [np.ones(3)])
    with pytest.raises(TypeError, match="2 outputs need a sequence of 2 grad_tensors, got a float"):
        ag.autograd.backward([y, y], 1.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.autograd.backward(ag.Tensor(XB), np.ones(3))
    assert x.grad is None
    ag.autograd.backward([y, y], [np.ones(3), np.full(3, 2.0)])  # the same root twice: summed
    np.testing.assert_array_equal(x.grad.numpy(), 2 * XB * 3.0)


@pytest.mark.parametrize("api", ["backward", "grad"])
def test_an_array_given_as_the_gradients_is_one_gradient_not_one_per_row(api):
    # as torch reads one tensor: the rows of np.ones((2, 3)) were handed to y1 and y2, and the
    # one row of np.ones((1, 3)) was taken as y's gradient of shape (3,)
    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y1, y2 = x * 2.0, x * 3.0
    for outs, given, msg in (([y1, y2], np.ones((2, 3)), "2 outputs but 1"),
                             ([y1], np.ones((1, 3)), r"shape \(1, 3\) but the output has shape"),
                             ([y1, y2], ag.Tensor(np.ones((2, 3))), "2 outputs but 1")):
        with pytest.raises(ValueError, match=msg):
            if api == "backward":
                ag.autograd.backward(outs, given, retain_graph=True)
            else:
                ag.autograd.grad(outs, [x], grad_outputs=given, retain_graph=True)
        assert x.grad is None
    ag.autograd.backward([y1], ag.Tensor(np.array([1.0, 0.5, 2.0])))  # one output: accepted
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 1.0, 4.0])
