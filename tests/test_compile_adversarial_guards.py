"""Adversarial tests of ``ag.compile`` on plain functions, part 2: guards on value-dependent
control flow, refusals naming the user's line, the compiled node inside bigger eager graphs,
random graphs traced on one set of values and run on others, captured tensors in the
signature, what rewrites of the generated code must keep, and module attributes.

The oracle is the same function run eagerly, float64 central differences (tests/fd_oracle.py)
or a hand derivation; bugs found are kept as ``xfail(strict=True, reason="BUG: ...")``.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
from compile_adversarial_helpers import close, grads_after
from fd_oracle import fd_gradients
from hypothesis import given
from hypothesis import strategies as st
from strategies_graphs import programs

import autograd_nn as ag
from autograd_nn import Tensor, nn
from autograd_nn.nn import functional as F


# ---- guards: value-dependent Python control flow ----------------------------------------------
def test_dropout_before_a_guard_stays_in_the_eager_random_stream():
    def run(compiled):
        gen = np.random.default_rng(7)

        def f(x):
            h = F.dropout(x, 0.5, rng=gen)
            if h.sum() > 0:
                return (h * 2.0).sum()
            return (h * 3.0).sum()

        fn = ag.compile(f) if compiled else f
        data = np.random.default_rng(1)
        return [float(fn(Tensor(data.normal(size=6), requires_grad=True))) for _ in range(10)]

    eager = run(False)
    assert len(set(eager)) == 10
    assert run(True) == eager


SIGNS = st.lists(st.tuples(st.sampled_from([-1.0, 1.0]), st.sampled_from([-1.0, 1.0])),
                 min_size=1, max_size=8)


@given(SIGNS)
def test_nested_guards_follow_every_branch_change(signs):
    def f(a, b):
        s = a.sum()
        if s > 0:
            out = a * b
            if (b.sum() < 0):
                out = out * 3.0
        else:
            out = ag.tanh(a) + b
        top = max(a.sum(), b.sum())  # builtin max: a comparison, then bool()
        return (out * out).sum() + top * 2.0

    cf = ag.compile(f)
    rng = np.random.default_rng(len(signs))
    for sa, sb in signs:
        a = Tensor(sa * (np.abs(rng.normal(size=3)) + 0.1), requires_grad=True)
        b = Tensor(sb * (np.abs(rng.normal(size=3)) + 0.1), requires_grad=True)
        got = grads_after(cf, (a, b), [a, b])
        want = grads_after(f, (a, b), [a, b])
        close(got[0], want[0])
        for g, w in zip(got[1], want[1]):
            close(g, w)
    assert cf.trace_count <= len({(sa, sb) for sa, sb in signs}) * 2


def test_a_value_dependent_loop_is_not_replayed_with_a_stale_trip_count():
    def f(x):
        y = x
        while (y.sum() > 0):
            y = y - 1.0
        return (y * y).sum()

    cf = ag.compile(f)
    for start in (2.5, 2.5, 0.5, 4.5, 2.5, -1.0):
        x = Tensor(np.array([start, 0.25]), requires_grad=True)
        got = grads_after(cf, (x,), [x])
        want = grads_after(f, (x,), [x])
        close(got[0], want[0])
        close(got[1][0], want[1][0])


def test_indexing_with_a_tensor_derived_index_follows_the_values():
    def f(a):
        return a[(a.argmax() + 1) % 3] * 2.0 + a[a.argmin()]

    cf = ag.compile(f)
    for v in ([1.0, 5.0, 2.0], [9.0, 0.0, 1.0], [0.0, 3.0, 7.0], [1.0, 5.0, 2.0]):
        a = Tensor(np.array(v), requires_grad=True)
        got = grads_after(cf, (a,), [a])
        want = grads_after(f, (a,), [a])
        close(got[0], want[0])
        close(got[1][0], want[1][0])


def _line_of(marker: str) -> int:
    src, start = inspect.getsourcelines(_READS)
    return start + next(i for i, line in enumerate(src) if marker in line)


def _READS(kind, x):  # noqa: N802 - a table of reads, one per line
    if kind == "float":
        return x * float(x.sum())  # read:float
    if kind == "int-index":
        return x[int(x.argmax())]  # read:int-index
    if kind == "range":
        return sum(x for _ in range(int(x.sum())))  # read:range
    if kind == "asarray-no-grad":
        return x * np.asarray(x * 1.0).sum()  # read:asarray-no-grad
    if kind == "item-compare":
        return x * 2.0 if x.sum().item() > 0 else x  # read:item-compare
    if kind == "bool-input":
        return x * 2.0 if x else x  # read:bool-input
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["float", "int-index", "range", "asarray-no-grad",
                                  "item-compare", "bool-input"])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_value_reads_are_refused_naming_the_exact_user_line(kind, requires_grad):
    cf = ag.compile(lambda x: _READS(kind, x).sum())
    x = Tensor(np.array(1.5) if kind == "bool-input" else np.array([1.5, 2.5]),
               requires_grad=requires_grad)
    with pytest.raises(ag.CompileError) as info:
        cf(x)
    assert f"{Path(__file__).name}:{_line_of('read:' + kind)}:" in str(info.value)
    assert cf.trace_count == 0 or not cf._cache


# ---- the compiled node inside the eager graph -------------------------------------------------
def test_a_compiled_function_inside_a_bigger_eager_diamond_graph():
    def inner(a, w):
        return ag.tanh(a * w) * a

    cf = ag.compile(inner)
    rng = np.random.default_rng(8)
    a0, w0 = rng.normal(size=4), rng.normal(size=4)

    def outer(fn, a, w):
        y = fn(a, w)
        z = fn(y, w)  # the compiled node feeds itself: a chain
        return (y * z + ag.exp(y) + fn(a, w)).sum()  # and fans out: a diamond

    def outer_np(a, w):
        y = np.tanh(a * w) * a
        z = np.tanh(y * w) * y
        return (y * z + np.exp(y) + y).sum()

    a = Tensor(a0.copy(), requires_grad=True)
    w = Tensor(w0.copy(), requires_grad=True)
    outer(cf, a, w)
    got = grads_after(lambda a, w: outer(cf, a, w), (a, w), [a, w])
    want = grads_after(lambda a, w: outer(inner, a, w), (a, w), [a, w])
    close(got[0], want[0])
    fd = fd_gradients(outer_np, [a0, w0])
    for g, e, d in zip(got[1], want[1], fd):
        close(g, e)
        np.testing.assert_allclose(g, d, rtol=1e-6, atol=1e-8)


def test_gradcheck_of_a_compiled_function_of_several_float64_inputs():
    def f(x, W, b):
        return ag.softmax(x @ W + b, axis=-1) * ag.sigmoid(b)

    cf = ag.compile(f)
    rng = np.random.default_rng(9)
    x = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    W = Tensor(rng.normal(size=(4, 2)), requires_grad=True)
    b = Tensor(rng.normal(size=(2,)), requires_grad=True)
    cf(x, W, b)
    assert ag.gradcheck(cf, (x, W, b))
    assert cf.trace_count == 1


def test_retain_graph_and_a_second_backward_behave_as_eager():
    def f(x):
        return (ag.sigmoid(x) * x).sum()

    cf = ag.compile(f)
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    cf(x)
    out = cf(x)
    out.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    out.backward()
    close(x.grad.numpy(), 2 * once)
    s = 1 / (1 + np.exp(-x.numpy()))
    close(once, s + x.numpy() * s * (1 - s))
    eager = f(x)
    eager.backward()
    with pytest.raises(RuntimeError, match="second time"):
        eager.backward()
    with pytest.raises(RuntimeError):
        out.backward()  # the saved arrays were released, as in eager mode


def test_no_grad_regions_inside_and_around_a_compiled_function():
    def f(x):
        with ag.no_grad():
            c = x * x  # a constant for the gradient
        return (x * c + ag.exp(x)).sum()

    cf = ag.compile(f)
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with ag.no_grad():
        quiet = [cf(x), cf(x)]
    assert not any(q.requires_grad for q in quiet)
    got = grads_after(cf, (x,), [x])
    close(got[1][0], x.numpy() ** 2 + np.exp(x.numpy()))
    for q in quiet:
        close(q.numpy(), got[0])


def test_hooks_on_inputs_and_on_the_compiled_output_added_after_the_first_call():
    cf = ag.compile(lambda x, w: (x * w).sum() * 3.0)
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    cf(x, w)
    cf(x, w)
    seen = []
    handle = w.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10.0)
    out = cf(x, w)
    out.register_hook(lambda g: g * 2.0)
    out.backward()
    close(seen[0], 2.0 * 3.0 * x.numpy())
    close(w.grad.numpy(), 10.0 * 2.0 * 3.0 * x.numpy())
    close(x.grad.numpy(), 2.0 * 3.0 * w.numpy())
    handle.remove()
    w.grad = None
    cf(x, w).backward()
    close(w.grad.numpy(), 3.0 * x.numpy())
    assert len(seen) == 1


def test_an_in_place_change_of_a_saved_captured_weight_raises_or_keeps_the_recorded_gradient():
    model = nn.Linear(2, 1, rng=0)
    opt = ag.optim.SGD(model.parameters(), lr=0.1)
    x = Tensor(np.array([[1.0, 2.0], [-0.5, 0.25], [3.0, -1.0]]), requires_grad=True)
    cf = ag.compile(lambda m, x: ag.tanh(m(x)).sum())
    cf(model, x).backward()
    W0, b0 = model.weight.numpy().copy(), model.bias.numpy().copy()
    y = cf(model, x)
    x.grad = None
    model.zero_grad()
    opt.zero_grad()
    for p in model.parameters():
        p.grad = Tensor(np.ones(p.shape))
    opt.step()  # changes the saved weight in place, as eager mode sees it
    model.zero_grad()
    try:
        y.backward()
    except RuntimeError as e:
        assert "modified in place" in str(e)
        return
    t = np.tanh(x.numpy() @ W0.T + b0)
    close(x.grad.numpy(), (1 - t ** 2) @ W0)  # the gradient of the graph that was recorded


# ---- random graphs, traced on one set of values and run on others ------------------------------
def _as_function(prog):
    steps, weights_, leaves = prog.steps, prog.weights, sorted(prog.inputs)

    def fn(*xs):
        nodes = dict(zip(leaves, xs))
        for node, op, args, kw in steps:
            nodes[node] = op.ag(*[nodes[a] for a in args], **kw)
        total = None
        for k, r in weights_.items():
            term = (nodes[k] * r).sum()
            total = term if total is None else total + term
        return total

    return fn


@given(programs(max_steps=6), st.integers(0, 2**31 - 1))
def test_random_graphs_run_on_new_values_keep_every_result_apart(prog, seed):
    fn = _as_function(prog)
    rng = np.random.default_rng(seed)
    values = [[prog.inputs[k].copy() for k in sorted(prog.inputs)]]
    for _ in range(2):
        values.append([v * (1 + 0.05 * rng.standard_normal(v.shape)) for v in values[0]])
    cf = ag.compile(fn)
    runs = []
    with np.errstate(all="ignore"):
        for vs in values:
            leaves = [Tensor(v, requires_grad=True) for v in vs]
            out = cf(*leaves)
            out.backward()
            runs.append((leaves, out.numpy(), [t.grad.numpy() if t.grad is not None else None
                                               for t in leaves]))
        for leaves, out, grads in runs:  # checked after all calls: nothing was overwritten
            fresh = [Tensor(t.numpy().copy(), requires_grad=True) for t in leaves]
            want = grads_after(fn, fresh, fresh)
            close(out, want[0])
            for g, w in zip(grads, want[1]):
                assert (g is None) == (w is None)
                if g is not None:
                    close(g, w)


# ---- the captured tensors are part of the signature ---------------------------------------------
def test_a_captured_tensor_that_starts_requiring_grad_after_tracing_gets_its_gradient():
    W = Tensor(np.array([1.0, -2.0, 0.5]))
    cf = ag.compile(lambda x: (ag.tanh(x * W) * W).sum())
    x = Tensor(np.array([0.2, 0.4, -0.6]), requires_grad=True)
    cf(x)
    cf(x)
    W.requires_grad = True
    got = grads_after(cf, (x,), [x, W])
    t = np.tanh(x.numpy() * W.numpy())
    assert got[1][1] is not None
    close(got[1][1], (1 - t ** 2) * x.numpy() * W.numpy() + t)
    W.requires_grad = False
    got = grads_after(cf, (x,), [x, W])
    assert got[1][1] is None
    close(got[1][0], (1 - t ** 2) * W.numpy() ** 2)


def test_a_captured_bias_that_changes_its_broadcast_shape_is_traced_again():
    b = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    cf = ag.compile(lambda x: ((x + b) ** 2).sum())
    x = Tensor(np.ones((2, 3)))
    cf(x)
    cf(x)
    b.data = np.array([0.5])  # (1,) broadcasts against (2, 3) as (3,) did
    got = grads_after(cf, (x,), [b])
    close(got[0], np.asarray(6 * 1.5 ** 2))
    close(got[1][0], np.array([2 * 1.5 * 6]))


# ---- what rewrites of the generated code must keep (folding, x*ones, @ as dot, 0-d scalars) ------
def test_writing_into_a_gradient_array_does_not_change_later_gradients():
    x = Tensor(np.ones(3), requires_grad=True)
    cf = ag.compile(lambda x: (x * 2.0).sum() + x.sum())  # a constant gradient: 3
    cf(x)
    x.grad = None
    cf(x).backward()
    first = x.grad.numpy()
    first[...] = -100.0  # e.g. clipping a gradient in place
    x.grad = None
    cf(x).backward()
    close(x.grad.numpy(), np.full(3, 3.0))
    with ag.no_grad():
        x.grad.mul_(0.5)  # in place through the API
    x.grad = None
    cf(x).backward()
    close(x.grad.numpy(), np.full(3, 3.0))


def test_a_hook_that_changes_its_gradient_in_place_affects_only_its_call():
    x = Tensor(np.ones(3), requires_grad=True)
    cf = ag.compile(lambda x: (x * 2.0).sum())
    cf(x)
    def scale_in_place(g):
        g.numpy()[...] *= 10.0

    handle = x.register_hook(scale_in_place)
    x.grad = None
    cf(x).backward()
    close(x.grad.numpy(), np.full(3, 20.0))
    handle.remove()
    x.grad = None
    cf(x).backward()
    close(x.grad.numpy(), np.full(3, 2.0))


MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((4, 2, 3), (3, 5)),
                 ((4, 2, 3), (4, 3, 2)), ((1, 2, 3), (5, 3, 2)), ((2, 3), (3, 2))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
@pytest.mark.parametrize("layout", ["C", "transposed", "float32"])
def test_matmul_of_every_rank_and_layout(shapes, layout):
    rng = np.random.default_rng(sum(map(len, shapes)))

    def make(shape):
        if layout == "transposed" and len(shape) >= 2:
            a = rng.normal(size=shape[::-1]).T  # a non-contiguous view
            return Tensor(a, requires_grad=True)
        a = rng.normal(size=shape)
        return Tensor(a.astype(np.float32) if layout == "float32" else a, requires_grad=True)

    def f(a, b):
        return ag.sigmoid(a @ b)

    a, b = make(shapes[0]), make(shapes[1])
    cf = ag.compile(f)
    cf(a, b)
    rtol = 1e-6 if layout == "float32" else 1e-12
    for scale in (1.0, -0.5):
        a2 = Tensor(a.numpy() * scale, requires_grad=True)
        outs = [cf(a2, b), f(a2, b)]
        close(outs[0].numpy(), outs[1].numpy(), rtol)
        got = grads_after(lambda a, b: (cf(a, b) * 3.0).sum(), (a2, b), [a2, b])
        want = grads_after(lambda a, b: (f(a, b) * 3.0).sum(), (a2, b), [a2, b])
        for g, w in zip(got[1], want[1]):
            close(g, w, rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("k", [0.5, 0.1, 1e-300, 3, 2**60, float("inf")])
def test_python_scalars_keep_values_and_dtypes(dtype, k):
    def f(x):
        return (x + k) * 2.0 - k / 4.0 + x * k + 1.0 / (x + 10.0)

    cf = ag.compile(f)
    with np.errstate(all="ignore"):
        cf(Tensor(np.array([1.0, 2.0, -3.0]).astype(dtype)))
        x = Tensor((np.array([1.0, 2.0, -3.0]) * 3).astype(dtype))
        got, want = cf(x), f(x)
    close(got.numpy(), want.numpy(), 1e-6 if dtype is np.float32 else 1e-12)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1, 3)])
def test_multiplying_by_a_ones_constant_keeps_shape_and_does_not_alias(shape):
    def f(x):
        return (x * ag.ones(shape) / ag.ones(shape) + 0.0 * x) * 1.0

    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    cf = ag.compile(f)
    cf(x)
    got = grads_after(lambda x: (cf(x) * 2.0).sum(), (x,), [x])
    want = grads_after(lambda x: (f(x) * 2.0).sum(), (x,), [x])
    close(got[0], want[0])
    close(got[1][0], want[1][0])
    out = cf(x)
    assert out.shape == f(x).shape and not np.shares_memory(out.numpy(), x.numpy())


# ---- module attributes (hyperparameters) changed after tracing --------------------------------
@pytest.mark.parametrize("which", ["dropout-p", "leaky-slope"])
def test_module_hyperparameters_changed_after_tracing(which):
    if which == "dropout-p":
        model = nn.Sequential(nn.Linear(3, 4, rng=1), nn.Dropout(0.5, rng=3))
        x = Tensor(np.ones((5, 3)))
    else:
        model = nn.Sequential(nn.Linear(3, 4, rng=1), nn.LeakyReLU(0.1))
        x = Tensor(-np.ones((5, 3)))

    def f(m, x):
        return m(x).sum()

    cf = ag.compile(f)
    cf(model, x)
    cf(model, x)
    if which == "dropout-p":
        model[1].p = 0.0  # a dropout schedule
    else:
        model[1].negative_slope = 0.5
    want = float(f(model, x))
    try:
        got = float(cf(model, x))
    except ag.CompileError:
        return
    assert got == want


# ---- two threads tracing at the same time ------------------------------------------------------
@pytest.fixture
def restore_patched_methods():
    """Put back every attribute a trace may swap (a failed overlap can leave them swapped)."""
    from autograd_nn import autograd as autograd_module
    from autograd_nn import engine, optim
    from autograd_nn import tensor as tensor_module
    from autograd_nn.nn import losses

    owners = [Tensor, tensor_module, F, losses, engine, autograd_module, optim.Optimizer,
              *optim.Optimizer.__subclasses__(), nn.Module]
    saved = [(o, dict(vars(o))) for o in owners]
    yield
    for owner, before in saved:
        now = dict(vars(owner))
        for k in now.keys() - before.keys():
            delattr(owner, k)
        for k, v in before.items():
            if now.get(k) is not v:
                setattr(owner, k, v)


def test_overlapping_traces_in_two_threads_still_refuse_value_reads(restore_patched_methods):
    import threading

    a_in, b_in, a_done = threading.Event(), threading.Event(), threading.Event()

    def fa(x):
        a_in.set()
        b_in.wait(10)
        return (x * 2.0).sum()

    def fb(x):
        b_in.set()
        a_done.wait(10)
        if float(x.sum()) > 0:  # must be refused
            return (x * 2.0).sum()
        return (x * 3.0).sum()

    ca, cb = ag.compile(fa), ag.compile(fb)
    outcome: dict = {}
    before = dict(vars(Tensor))

    def run_a():
        ca(Tensor(np.ones(2), requires_grad=True))
        a_done.set()

    def run_b():
        try:
            cb(Tensor(np.ones(2), requires_grad=True))
            outcome["b"] = "traced"
        except ag.CompileError:
            outcome["b"] = "refused"

    ta = threading.Thread(target=run_a)
    ta.start()
    assert a_in.wait(10)
    tb = threading.Thread(target=run_b)
    tb.start()
    ta.join(10)
    tb.join(10)
    assert dict(vars(Tensor)) == before  # both traces ended: the original methods are back
    if outcome.get("b") == "traced":  # then at least the compiled code must follow the branch
        neg = Tensor(-np.ones(2), requires_grad=True)
        assert float(cb(neg)) == float(fb(neg)) == -6.0
    else:
        assert outcome.get("b") == "refused"


def test_eager_value_reads_in_another_thread_work_while_a_trace_runs(restore_patched_methods):
    import threading

    inside, release = threading.Event(), threading.Event()

    def slow(x):
        inside.set()
        release.wait(10)
        return (x * 2.0).sum()

    cf = ag.compile(slow)
    t = threading.Thread(target=lambda: cf(Tensor(np.ones(2), requires_grad=True)))
    t.start()
    try:
        assert inside.wait(10)
        y = Tensor(np.array([1.5, 2.5]), requires_grad=True)
        z = (y * y).sum()
        assert float(z) == 8.5 and z.item() == 8.5 and bool(z > 0)  # not refused here
        z.backward()
        assert y.grad.numpy().tolist() == [3.0, 5.0]
    finally:
        release.set()
        t.join(10)
    assert cf.trace_count == 1


class _Scaled(nn.Module):
    """Reads its own Python attributes in forward (not through a child module)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = 2.0
        self.rng = np.random.default_rng(0)

    def forward(self, x):
        y = x * self.scale if self.training else x
        return F.dropout(y, 0.5, rng=self.rng).sum()


@pytest.mark.parametrize("how", ["compile(m.forward)", "compile(m)", "closure"])
def test_a_modules_own_attributes_and_mode_are_followed(how):
    m = _Scaled()
    fn = {"compile(m.forward)": lambda: ag.compile(m.forward), "compile(m)": lambda: ag.compile(m),
          "closure": lambda: ag.compile(lambda x: m(x))}[how]()
    x = Tensor(np.arange(1.0, 7.0))
    fn(x)
    for change in ["none", "scale", "rng", "eval"]:
        if change == "scale":
            m.scale = 3.0
        elif change == "rng":
            m.rng = np.random.default_rng(1)
        elif change == "eval":
            m.eval()
        state = m.rng.bit_generator.state
        got = float(fn(x))
        m.rng.bit_generator.state = state
        assert got == float(m(x))  # eager, from the same generator state
    assert fn.trace_count == 4  # the first trace, then one per change


def test_a_value_read_inside_a_layer_names_the_layer_in_the_refusal(monkeypatch):
    # no layer of autograd_nn reads a value any more (batch norm's statistics are tensor ops):
    # a forward that does, written as if in autograd_nn/nn/layers.py
    from pathlib import Path

    layers = Path(ag.__file__).parent / "nn" / "layers.py"
    ns: dict = {}
    exec(compile("def forward(self, x):\n    return x * x.data.sum()\n", str(layers),  # noqa: S102
                 "exec"), ns)
    monkeypatch.setattr(nn.Tanh, "forward", ns["forward"])
    model = nn.Sequential(nn.Linear(3, 4, rng=1), nn.Tanh())
    cf = ag.compile(lambda x: model(x).sum())
    with pytest.raises(ag.CompileError) as e:
        cf(Tensor(np.ones((5, 3))))
    msg = str(e.value)
    assert msg.startswith(__file__)  # the user's line first
    assert "t.data in Tanh.forward (autograd_nn/nn/layers.py:2)" in msg
    assert "autograd_nn's own code" in msg


def test_a_value_read_on_the_users_line_names_no_layer():
    cf = ag.compile(lambda x: x * float(x.sum()))
    with pytest.raises(ag.CompileError) as e:
        cf(Tensor(np.ones(2)))
    assert " in " not in str(e.value).split(" reads ")[0] and "own code" not in str(e.value)
