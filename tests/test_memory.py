"""Memory: after ``backward()`` nothing keeps the graph alive. With the cyclic garbage collector
*disabled*, intermediate tensors and nodes die as soon as the user drops the output (so there
are no reference cycles through closures or ctx objects); saved arrays are released by backward
unless ``retain_graph=True``; 10,000 training steps leave the number of live tensors and nodes
and the process' resident memory flat."""

from __future__ import annotations

import contextlib
import gc
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies_graphs import programs

import autograd_nn as ag


@pytest.fixture
def no_gc():
    """Run the test with the cyclic collector off: only reference counting frees objects."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def leaf(x) -> ag.Tensor:
    return ag.Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def graph_nodes(out: ag.Tensor) -> list:
    """Every node of ``out``'s graph (iterative walk)."""
    seen, stack, nodes = set(), [out], []
    while stack:
        fn = stack.pop().grad_fn
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        nodes.append(fn)
        stack.extend(a for a in fn.inputs if isinstance(a, ag.Tensor))
    return nodes


def live_graph_objects() -> int:
    """Tensors and nodes alive now (cyclic garbage included while the collector is off)."""
    kinds = (ag.Tensor, ag.Function)
    # type(), not isinstance(): some foreign objects (torch's) warn when asked for __class__
    return sum(issubclass(type(o), kinds) for o in gc.get_objects())


def rss_kib() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def build(x: ag.Tensor, w: ag.Tensor) -> ag.Tensor:
    """A graph with fan-out, views, indexing, reductions and a softmax."""
    h = ag.tanh(x @ w)
    s = ag.softmax(h, axis=1)
    return (s * h).sum() + ag.logsumexp(h.T[0]) + h[[0, 0, 1]].max() + ag.sqrt(h * h + 1).mean()


# ---- intermediates die --------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["backward", "no backward", "retain_graph", "autograd.grad",
                                  "create_graph then drop grads", "anomaly"])
def test_intermediates_and_nodes_die_with_the_output(no_gc, mode):
    rng = np.random.default_rng(0)
    x, w = leaf(rng.normal(size=(3, 4))), leaf(rng.normal(size=(4, 2)))
    with ag.detect_anomaly() if mode == "anomaly" else contextlib.nullcontext():
        y = build(x, w)
        nodes = graph_nodes(y)
        assert len(nodes) > 10
        node_refs = [weakref.ref(n) for n in nodes]
        tensor_refs = [weakref.ref(a) for n in nodes for a in n.inputs
                       if isinstance(a, ag.Tensor) and a is not x and a is not w]
        del nodes
        if mode in ("backward", "anomaly"):
            y.backward()
        elif mode == "retain_graph":
            y.backward(retain_graph=True)
        elif mode == "autograd.grad":
            ag.autograd.grad(y, [x, w])
        elif mode == "create_graph then drop grads":
            y.backward(create_graph=True)
            (x.grad.sum() + w.grad.sum()).backward()  # second order through the graph
    if mode in ("backward", "anomaly", "autograd.grad"):
        # a finished backward lets go of the intermediates even while the output is kept
        assert all(r() is None for r in tensor_refs)
        assert y.grad_fn is not None and y.grad_fn.saved_tensors is None
    else:
        assert all(r() is not None for r in tensor_refs)
    del y
    x.grad = w.grad = None  # create_graph gradients hold a graph of their own
    assert all(r() is None for r in node_refs)
    assert all(r() is None for r in tensor_refs)


def test_a_kept_output_keeps_its_graph_until_backward_lets_go(no_gc):
    x = leaf([1.0, 2.0])
    a = ag.exp(x)
    y = (a * a).sum()
    ref = weakref.ref(a)
    del a
    assert ref() is not None  # y's graph still needs it
    y.backward(retain_graph=True)
    assert ref() is not None  # retained: the graph is kept for another backward (or a drawing)
    y.backward()
    assert ref() is None  # let go, although y is still alive (losses.append(loss) costs nothing)
    assert y.grad_fn.saved_tensors is None
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_hooks_and_custom_functions_leave_no_cycles(no_gc):
    class Square(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.note = "a private attribute"
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = leaf([1.0, 2.0])
    a = Square.apply(x)
    a.register_hook(lambda g: g * 2.0)
    y = a.sum()
    y.backward()
    refs = [weakref.ref(a), weakref.ref(a.grad_fn), weakref.ref(y)]
    del a, y
    assert all(r() is None for r in refs)
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


# ---- saved arrays are released ------------------------------------------------------------------
def test_saved_arrays_are_released_after_backward():
    rng = np.random.default_rng(1)
    x, w = leaf(rng.normal(size=(3, 4))), leaf(rng.normal(size=(4, 2)))
    y = build(x, w)
    nodes = graph_nodes(y)
    saving = [n for n in nodes if n.saved_tensors]
    assert len(saving) > 5  # mul, matmul, tanh, softmax, ... do save
    intermediate = weakref.ref(next(n for n in nodes if n.name == "softmax").saved_tensors[0])
    y.backward()
    assert all(n.saved_tensors is None for n in nodes)
    del nodes, saving, y
    assert intermediate() is None


def test_retain_graph_keeps_saved_arrays_until_a_backward_without_it():
    x = leaf([0.5, 1.5])
    y = (ag.exp(x) * x).sum()
    nodes = graph_nodes(y)
    y.backward(retain_graph=True)
    assert all(n.saved_tensors is not None for n in nodes)
    y.backward()
    assert all(n.saved_tensors is None for n in nodes)
    np.testing.assert_allclose(x.grad.data, 2 * (np.exp([0.5, 1.5]) * ([0.5, 1.5] + np.ones(2))))
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_autograd_grad_releases_too_unless_asked():
    x = leaf([0.5, 1.5])
    y = (ag.sin(x) * x).sum()
    nodes = graph_nodes(y)
    ag.autograd.grad(y, [x], retain_graph=True)
    assert all(n.saved_tensors is not None for n in nodes)
    ag.autograd.grad(y, [x])
    assert all(n.saved_tensors is None for n in nodes)


# ---- long training loops stay flat --------------------------------------------------------------
def test_ten_thousand_steps_of_a_tiny_mlp_keep_objects_and_memory_flat(no_gc):
    rng = np.random.default_rng(0)
    xb = ag.Tensor(rng.normal(size=(8, 2)))
    yb = ag.Tensor(np.sin(xb.data[:, :1]))
    params = [leaf(rng.normal(size=s) * 0.5) for s in [(2, 8), (8,), (8, 1), (1,)]]
    counts, rss = {}, {}
    for step in range(1, 10_001):
        w1, b1, w2, b2 = params
        out = ag.tanh(xb @ w1 + b1) @ w2 + b2
        loss = ((out - yb) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with ag.no_grad():
            for p in params:
                p -= 0.05 * p.grad
        if step in (1000, 5000, 10_000):
            counts[step] = live_graph_objects()
            rss[step] = rss_kib()
    assert counts[1000] == counts[5000] == counts[10_000], counts
    if rss[1000] is not None:
        # a leaked graph per step (a few KiB) would add tens of MiB over 9,000 steps
        assert rss[10_000] - rss[1000] < 4 * 1024, rss


def test_create_graph_steps_keep_objects_flat(no_gc):
    x = leaf([0.3, -0.7, 1.1])
    counts = []
    for step in range(300):
        y = (ag.tanh(x) ** 3).sum()
        (g,) = ag.autograd.grad(y, [x], create_graph=True)
        (h,) = ag.autograd.grad((g * g).sum(), [x])
        if step in (50, 299):
            counts.append(live_graph_objects())
    assert counts[0] == counts[1]


def test_module_and_optimizer_loop_keeps_objects_flat(no_gc):
    nn = pytest.importorskip("autograd_nn.nn")
    optim = pytest.importorskip("autograd_nn.optim")
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 3, rng=1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    xb = ag.Tensor(rng.normal(size=(16, 2)))
    yb = rng.integers(0, 3, size=16)
    counts = []
    for step in range(1, 1501):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        if step in (300, 1500):
            counts.append(live_graph_objects())
    assert counts[0] == counts[1]


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(prog=programs(max_steps=5), second_order=st.booleans())
def test_no_op_makes_a_reference_cycle(prog, second_order):
    """Random graphs over every op (tests/strategies_graphs.py), first or second order: with
    the collector off, every node and tensor of the graph dies with the last reference."""
    was = gc.isenabled()
    gc.disable()
    try:
        leaves, nodes, loss = prog.build("ag")
        if second_order:
            gs = ag.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
            total = sum((g * g).sum() for g in gs if g is not None and g.requires_grad)
            if isinstance(total, ag.Tensor):
                total.backward()
        else:
            loss.backward()
        refs = [weakref.ref(t) for t in nodes.values()]
        refs += [weakref.ref(n) for n in graph_nodes(loss)]
        del nodes, loss, leaves
        if second_order:
            del gs, total
        alive = [r() for r in refs if r() is not None]
        assert not alive, f"kept alive: {alive[:3]}\n{prog}"
    finally:
        if was:
            gc.enable()
