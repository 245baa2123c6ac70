"""Version counters: an in-place change (through the API) of an array that an op saved for
backward makes that backward raise, naming the op and the tensor; changes of arrays nobody
saved, and optimizer updates after backward (the normal training loop), do not.

Expected gradients are analytic (written out by hand in each test).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_graphs import programs

import autograd_nn as ag


def leaf(x) -> ag.Tensor:
    return ag.Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def const(x, name=None) -> ag.Tensor:
    return ag.Tensor(np.asarray(x, dtype=np.float64), name=name)


X = np.array([0.5, -1.5, 2.0])
W = np.array([3.0, 4.0, -2.0])

# every way the API lets a user change a tensor's data in place
MUTATIONS = {
    "add_": lambda t: t.add_(1.0),
    "add_ alpha": lambda t: t.add_(np.ones(t.shape), alpha=2.0),
    "sub_": lambda t: t.sub_(1.0),
    "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0),
    "copy_": lambda t: t.copy_(np.full(t.shape, 7.0)),
    "zero_": lambda t: t.zero_(),
    "fill_": lambda t: t.fill_(3.0),
    "setitem": lambda t: t.__setitem__(0, 9.0),
    "setitem mask": lambda t: t.__setitem__(t > 0, 0.0),
    "+=": lambda t: t.__iadd__(1.0),
    "-=": lambda t: t.__isub__(1.0),
    "*=": lambda t: t.__imul__(3.0),
    "/=": lambda t: t.__itruediv__(3.0),
}


# ---- the counter itself -------------------------------------------------------------------------
@pytest.mark.parametrize("how", sorted(MUTATIONS))
def test_every_in_place_change_bumps_the_version_once(how):
    t = const(W)
    assert t.version == 0
    out = MUTATIONS[how](t)
    assert t.version == 1
    assert out is None or out is t  # in-place ops return the tensor itself


def test_out_of_place_ops_and_reads_do_not_bump_the_version():
    t = const(W)
    _ = t + 1, t * 2, t.sum(), t[0], t.numpy(), t.data, np.asarray(t), t.detach() + 1
    assert t.version == 0


def test_views_share_the_counter_and_copies_do_not():
    t = const(np.arange(6.0).reshape(2, 3))
    views = [t.reshape(6), t.T, t[0], t[:, 1:], t.detach(), ag.broadcast_to(t, (4, 2, 3)),
             t.transpose(1, 0)]
    copies = [ag.Tensor(t), t[np.array([0, 0])], t + 0, t.astype(np.float32)]
    t.add_(1.0)
    assert all(v.version == 1 for v in views)
    assert all(c.version == 0 for c in copies)
    views[0].mul_(2.0)  # through a view: the base and the other views see it
    assert t.version == 2 and all(v.version == 2 for v in views)


def test_a_failed_in_place_op_changes_nothing():
    t = const(W)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        t.add_(np.ones(4))
    with pytest.raises(ValueError):
        t.copy_(np.ones((2, 3)))
    assert t.version == 0
    np.testing.assert_array_equal(t.data, W)


# ---- edits of saved arrays are caught -----------------------------------------------------------
@pytest.mark.parametrize("how", sorted(MUTATIONS))
def test_changing_a_saved_operand_makes_backward_raise(how):
    x = leaf(X)
    w = const(W, name="weights")
    y = (x * w).sum()  # multiply saves both operands
    MUTATIONS[how](w)
    with pytest.raises(RuntimeError) as e:
        y.backward()
    msg = str(e.value)
    for word in ("multiply", "operand 1", "'weights'", "(3,)", "float64", "modified in place",
                 "version 1"):
        assert word in msg, (word, msg)
    assert x.grad is None  # nothing was accumulated


@pytest.mark.parametrize("op, saved", [
    (lambda x, w: ag.divide(x, w), "operand 1"),
    (lambda x, w: ag.divide(w, x), "operand 0"),
    (lambda x, w: ag.matmul(x, w), "operand 1"),
    (lambda x, w: ag.maximum(x, w), "operand 1"),
    (lambda x, w: ag.power(x, w), "operand 1"),
    (lambda x, w: ag.where(w > 0, x * 1.0, w), None),  # where saves only the mask: not caught
])
def test_which_operands_are_saved_decides_what_is_caught(op, saved):
    x = leaf(np.abs(X) + 0.1)
    w = const(np.abs(W) + 0.5, name="w")
    y = op(x, w).sum()
    w.mul_(2.0)
    if saved is None:
        y.backward()
        assert x.grad is not None
        return
    with pytest.raises(RuntimeError, match=saved):
        y.backward()


@pytest.mark.parametrize("fn, name", [
    (ag.exp, "exp"), (ag.sqrt, "sqrt"), (ag.tanh, "tanh"), (ag.sigmoid, "sigmoid"),
    (ag.relu, "relu"), (lambda t: ag.softmax(t), "softmax"),
    (lambda t: ag.log_softmax(t), "log_softmax"),
])
def test_changing_a_saved_output_makes_backward_raise(fn, name):
    x = leaf(np.abs(X))
    out = fn(x)
    with ag.no_grad():  # allowed under no_grad, and caught at backward
        out.mul_(2.0)
    with pytest.raises(RuntimeError) as e:
        out.sum().backward()
    assert f"{name}: its output" in str(e.value)
    assert "modified in place" in str(e.value)


@pytest.mark.parametrize("view", [
    lambda w: w.reshape(3, 1), lambda w: w[1:], lambda w: w.detach(),
    lambda w: ag.broadcast_to(w, (2, 3)), lambda w: w.T,
])
def test_changing_the_saved_tensor_through_a_view_is_caught(view):
    x = leaf(X)
    w = const(W, name="w")
    y = (x * w).sum()
    v = view(w)
    if v.data.flags.writeable:
        v.add_(1.0)
    else:  # broadcast_to gives a read-only view; change the base, the counter is shared
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="multiply: its operand 1 'w'"):
        y.backward()


def test_changing_the_base_of_a_saved_view_is_caught():
    x = leaf(X[:2])
    w = const(np.arange(6.0).reshape(2, 3))
    y = (x * w[:, 0]).sum()  # multiply saved the view w[:, 0]
    w[1, 2] = 100.0  # another element of the same buffer: still a change of the counter
    with pytest.raises(RuntimeError, match="multiply: its operand 1"):
        y.backward()


def test_a_leaf_parameter_changed_under_no_grad_before_backward_is_caught():
    p = leaf(W)
    x = const(X)
    loss = (p * x).sum() + (p * p).sum()
    with ag.no_grad():
        p -= 0.1  # e.g. an optimizer step taken before backward
    with pytest.raises(RuntimeError, match="multiply: its operand 0"):
        loss.backward()


def test_an_edit_after_the_graph_moved_on_is_still_caught_deep_in_the_graph():
    x = leaf(X)
    w = const(W, name="w")
    h = ag.tanh(x * w)  # the edited tensor is saved far from the output
    y = ag.exp(h).sum() + (h * 3.0).sum()
    w.add_(1.0)
    with pytest.raises(RuntimeError, match="multiply: its operand 1 'w'"):
        y.backward()


def test_retain_graph_then_an_update_makes_the_second_backward_raise():
    p = leaf(W)
    loss = (p * p).sum()
    loss.backward(retain_graph=True)
    with ag.no_grad():
        p -= 0.1 * p.grad
    with pytest.raises(RuntimeError, match="multiply: its operand 0 .*modified in place"):
        loss.backward()


def test_nn_load_state_dict_bumps_the_version():
    nn = pytest.importorskip("autograd_nn.nn")
    layer = nn.Linear(3, 2, rng=0)
    out = ag.tanh(layer(const(X.reshape(1, 3)))).sum()
    layer.load_state_dict({k: v + 1.0 for k, v in layer.state_dict().items()})
    with pytest.raises(RuntimeError, match="matmul: its operand 1"):
        out.backward()


# ---- edits that cannot change a gradient are not errors -----------------------------------------
@pytest.mark.parametrize("op, dx", [
    (lambda x, w: x + w, lambda w: np.ones(3)),
    (lambda x, w: x - w, lambda w: np.ones(3)),
    (lambda x, w: w - x, lambda w: -np.ones(3)),
    (lambda x, w: ag.concatenate([x, w]), lambda w: np.ones(3)),
    (lambda x, w: ag.stack([x, w]), lambda w: np.ones(3)),
])
def test_changing_an_operand_that_was_not_saved_is_fine(op, dx):
    x = leaf(X)
    w = const(W)
    y = op(x, w).sum()
    w.add_(5.0)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, dx(w))


def test_changing_an_unrelated_tensor_does_not_raise_and_the_fast_path_is_correct():
    x = leaf(X)
    w = const(W)
    y = (x * w).sum()
    other = const(W)
    other.add_(1.0)  # moves the mutation clock: backward must look and find nothing
    y.backward()
    np.testing.assert_array_equal(x.grad.data, W)


def test_changing_a_saved_tensor_after_backward_is_fine():
    x = leaf(X)
    w = const(W)
    y = (x * w).sum()
    y.backward()
    w.add_(1.0)
    np.testing.assert_array_equal(x.grad.data, W)


def test_augmented_assignment_inside_a_graph_rebinds_instead_of_mutating():
    x = leaf(X)
    a = x * 2.0
    before = a
    a += 1.0  # a non-leaf in a graph: x += y means x = x + y (documented)
    assert a is not before
    np.testing.assert_array_equal(before.data, 2 * X)
    a *= a
    a.sum().backward()  # d/dx (2x+1)^2 = 4 (2x + 1)
    np.testing.assert_allclose(x.grad.data, 4 * (2 * X + 1), rtol=1e-15)


def test_in_place_op_on_a_non_leaf_in_grad_mode_is_refused():
    x = leaf(X)
    a = x * 2.0
    with pytest.raises(RuntimeError, match="in-place mul_ on a tensor that requires grad"):
        a.mul_(2.0)
    np.testing.assert_array_equal(a.data, 2 * X)
    assert a.version == 0


WITH_OPERAND = {  # the in-place changes that take an operand, and the name their error gives
    "add_": (lambda w, x: w.add_(x), "add_"),
    "add_ alpha": (lambda w, x: w.add_(x, alpha=2.0), "add_"),  # was written, graph cut
    "sub_": (lambda w, x: w.sub_(x), "sub_"),
    "mul_": (lambda w, x: w.mul_(x), "mul_"),
    "div_": (lambda w, x: w.div_(x), "div_"),
    "copy_": (lambda w, x: w.copy_(x), "copy_"),
    "setitem": (lambda w, x: w.__setitem__(slice(None), x), "item assignment"),
}


@pytest.mark.parametrize("how", sorted(WITH_OPERAND))
def test_in_place_op_with_an_operand_that_requires_grad_is_refused(how):
    change, name = WITH_OPERAND[how]
    w = const(W)
    x = leaf(X)
    with pytest.raises(RuntimeError, match=f"in-place {name} on a tensor that requires grad"):
        change(w, x)
    np.testing.assert_array_equal(w.data, W)
    assert w.version == 0


# ---- the normal training loop -------------------------------------------------------------------
def mlp_loss(params, xb, yb):
    w1, b1, w2, b2 = params
    h = ag.tanh(xb @ w1 + b1)
    out = h @ w2 + b2
    return ((out - yb) ** 2).mean()


def mlp_params(rng):
    return [leaf(rng.normal(size=(2, 4))), leaf(np.zeros(4)), leaf(rng.normal(size=(4, 1))),
            leaf(np.zeros(1))]


def test_hand_written_sgd_loop_runs_and_learns():
    rng = np.random.default_rng(0)
    xb = const(rng.normal(size=(16, 2)))
    yb = const(np.sin(xb.data[:, :1]))
    params = mlp_params(rng)
    losses = []
    for _ in range(50):
        for p in params:
            p.grad = None
        loss = mlp_loss(params, xb, yb)
        loss.backward()
        with ag.no_grad():
            for p in params:
                p -= 0.2 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.version == 50 for p in params)


def test_second_forward_after_an_update_uses_the_new_values():
    p = leaf(W)
    (p * p).sum().backward()
    with ag.no_grad():
        p -= 0.25 * p.grad  # p = W - 0.5 W = W / 2
    p.grad = None
    (p * p * p).sum().backward()
    np.testing.assert_allclose(p.grad.data, 3 * (W / 2) ** 2, rtol=1e-15)


@pytest.mark.parametrize("make", [
    lambda ps, optim: optim.SGD(ps, lr=0.1),
    lambda ps, optim: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps, optim: optim.Adam(ps, lr=0.05),
    lambda ps, optim: optim.AdamW(ps, lr=0.05),
    lambda ps, optim: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
])
def test_real_optimizers_do_not_trip_the_counters_in_the_normal_loop(make):
    optim = pytest.importorskip("autograd_nn.optim")
    rng = np.random.default_rng(1)
    xb = const(rng.normal(size=(16, 2)))
    yb = const(np.sin(xb.data[:, :1]))
    params = mlp_params(rng)
    opt = make(params, optim)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = mlp_loss(params, xb, yb)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert mlp_loss(params, xb, yb).item() < first
    assert all(p.version == 30 for p in params)


def test_an_optimizer_step_between_forward_and_backward_is_caught():
    optim = pytest.importorskip("autograd_nn.optim")
    p = leaf(W)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    loss = (p * p).sum()  # the next forward...
    opt.step()  # ...then a step with the old gradient before its backward
    with pytest.raises(RuntimeError, match="multiply: its operand 0 .*modified in place"):
        loss.backward()


# ---- on random graphs: every in-place edit is caught or harmless --------------------------------
@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(prog=programs(max_steps=5), pick=st.integers(0, 10**6))
def test_an_edit_of_any_node_is_either_caught_or_harmless(prog, pick):
    """Build a random graph (tests/strategies_graphs.py), scale one of its tensors (leaf or
    intermediate) in place under no_grad, then backward: it must raise the version error, or
    give exactly the gradients of the unedited graph (never a silently different number)."""
    leaves, _, loss = prog.build("ag")
    loss.backward()
    want = [None if x.grad is None else x.grad.data.copy() for x in leaves]

    leaves, nodes, loss = prog.build("ag")
    target = list(nodes.values())[pick % len(nodes)]
    if not target.data.flags.writeable:  # broadcast_to views are read-only, as in numpy
        return
    with ag.no_grad():
        target.mul_(1.5)
        target.add_(0.25)
    try:
        loss.backward()
    except RuntimeError as e:
        assert "modified in place" in str(e)
        return
    for x, w in zip(leaves, want):
        assert (x.grad is None) == (w is None)
        if w is not None:
            np.testing.assert_array_equal(x.grad.data, w, err_msg=f"silently different\n{prog}")
