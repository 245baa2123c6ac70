"""ag.compile on plain functions of tensors: caching, the compiled node in the eager graph,
readable source, guards and refusals, randomness, and bit-for-bit agreement with eager mode."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies_graphs import OPS, programs

import autograd_nn as ag
from autograd_nn import Tensor
from autograd_nn.nn import functional as F


def mlp(x, W1, b1, W2):
    z1 = x @ W1 + b1
    z1.name = "z1"
    a1 = ag.sigmoid(z1)
    a1.name = "a1"
    return ((a1 @ W2) ** 2).mean() + ag.logsumexp(z1, axis=1).sum()


def params(rng, requires_grad=True):
    x = Tensor(rng.normal(size=(4, 3)))
    W1 = Tensor(rng.normal(size=(3, 5)), requires_grad=requires_grad)
    b1 = Tensor(rng.normal(size=(5,)), requires_grad=requires_grad)
    W2 = Tensor(rng.normal(size=(5, 2)), requires_grad=requires_grad)
    return x, W1, b1, W2


def grads_of(fn, args):
    for a in args:
        a.grad = None
    out = fn(*args)
    out.backward()
    return out.numpy().copy(), [None if a.grad is None else a.grad.numpy().copy() for a in args]


def test_second_call_runs_compiled_code_bit_for_bit(rng):
    args = params(rng)
    cf = ag.compile(mlp)
    first = cf(*args)
    assert first.grad_fn.name != "compiled"  # the first call is the eager trace
    second = cf(*args)
    assert second.grad_fn.name == "compiled" and cf.trace_count == 1
    value, grads = grads_of(cf, args)
    value_e, grads_e = grads_of(mlp, args)
    assert np.array_equal(value, value_e)
    for g, ge in zip(grads, grads_e):
        assert (g is None and ge is None) or np.array_equal(g, ge)


def test_new_signature_traces_again_and_cache_is_bounded(rng):
    cf = ag.compile(mlp, max_traces=2)
    x, W1, b1, W2 = params(rng)
    cf(x, W1, b1, W2)
    cf(x, W1, b1, W2)
    assert cf.trace_count == 1
    cf(Tensor(rng.normal(size=(6, 3))), W1, b1, W2)  # new shape
    assert cf.trace_count == 2
    W1.requires_grad = False  # new requires_grad
    cf(x, W1, b1, W2)
    assert cf.trace_count == 3
    assert sum(map(len, cf._cache.values())) == 2
    W1.requires_grad = True
    cf(x, W1, b1, W2)  # evicted: traced again
    assert cf.trace_count == 4


def test_static_python_arguments_are_part_of_the_signature(rng):
    cf = ag.compile(lambda x, k: (x * k).sum())
    x = Tensor(rng.normal(size=3), requires_grad=True)
    assert float(cf(x, 2.0)) == pytest.approx(float((x * 2.0).sum()))
    assert float(cf(x, 3.0)) == pytest.approx(float((x * 3.0).sum()))
    assert cf.trace_count == 2


def test_compiled_node_works_with_hooks_optimizers_and_gradcheck(rng):
    x, W1, b1, W2 = params(rng)
    cf = ag.compile(mlp)
    cf(x, W1, b1, W2)
    seen = []
    W1.register_hook(lambda g: seen.append(g.shape) or g * 2)
    out = cf(x, W1, b1, W2)
    out.backward()
    assert seen == [(3, 5)]
    W1.grad = None
    mlp(x, W1, b1, W2).backward()
    eager = W1.grad.numpy().copy()
    W1.grad = None
    cf(x, W1, b1, W2).backward()
    assert np.array_equal(W1.grad.numpy(), eager)  # the hook doubled both
    opt = ag.optim.SGD([W1, b1, W2], lr=0.1)
    before = W2.numpy().copy()
    opt.step()
    assert not np.array_equal(before, W2.numpy())
    xs = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    assert ag.gradcheck(lambda a: cf(a, W1, b1, W2), (xs,))


def test_source_is_readable_and_graph_drawable(rng):
    cf = ag.compile(mlp)
    cf(*params(rng))
    src = cf.source
    assert "def forward(x, W1, b1, W2):" in src
    assert "z1 = " in src and "a1 = " in src
    assert "def backward(" in src
    assert "# z1 = add(" in src  # backward lines say which op they differentiate
    assert "g_W1 = " in src and "g_z1" in src
    assert cf.fallbacks == []  # every op inlined as numpy
    pytest.importorskip("graphviz")
    from autograd_nn.viz import draw_graph

    assert "sigmoid" in draw_graph(cf.graph).source


def test_module_parameters_are_named_and_receive_gradients(rng):
    model = ag.nn.Sequential(ag.nn.Linear(3, 4, rng=1), ag.nn.Tanh(), ag.nn.Linear(4, 1, rng=2))
    x = Tensor(rng.normal(size=(5, 3)))
    cf = ag.compile(lambda m, x: (m(x) ** 2).mean())
    cf(model, x)
    assert "0_weight" in cf.source
    model.zero_grad()
    cf(model, x).backward()
    compiled = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    ((model(x) ** 2).mean()).backward()
    for g, p in zip(compiled, model.parameters()):
        assert np.array_equal(g, p.grad.numpy())


def test_training_mode_is_part_of_the_signature(rng):
    model = ag.nn.Sequential(ag.nn.Linear(3, 4, rng=1), ag.nn.Dropout(0.5, rng=3))
    x = Tensor(rng.normal(size=(5, 3)))
    cf = ag.compile(lambda m, x: m(x).sum())
    cf(model, x)
    model.eval()
    cf(model, x)
    assert cf.trace_count == 2
    assert float(cf(model, x)) == float(model(x).sum())


def test_guarded_branch_traces_again_when_the_condition_changes():
    def f(x):
        if (x.sum() > 0):
            return (x * 2).sum()
        return (x * 3).sum()

    cf = ag.compile(f)
    pos, neg = Tensor([1.0, 2.0], requires_grad=True), Tensor([-1.0, -2.0], requires_grad=True)
    assert float(cf(pos)) == 6.0
    assert float(cf(pos)) == 6.0 and cf.trace_count == 1
    assert float(cf(neg)) == -9.0 and cf.trace_count == 2
    assert float(cf(pos)) == 6.0 and float(cf(neg)) == -9.0 and cf.trace_count == 2
    assert "raise Retrace" in cf.source


@pytest.mark.parametrize("read", [
    lambda x: float(x.sum()), lambda x: x.sum().item(), lambda x: np.asarray(x),
    lambda x: x.numpy(), lambda x: x.tolist(), lambda x: Tensor(x), lambda x: x.data,
    lambda x: int(x[0]), lambda x: np.argsort(x),
])
def test_value_reads_are_refused_with_the_users_line(read):
    def f(x):
        read(x)
        return x.sum()

    cf = ag.compile(f)
    with pytest.raises(ag.CompileError, match=r"test_compile\.py:\d+"):
        cf(Tensor([1.0, 2.0], requires_grad=True))


def test_values_computed_outside_the_graph_are_recorded(rng):
    def f(x, y):
        mask = (x > 0) & (y < 0.5)
        picked = x[x.argmax()]
        return (x * mask).sum() + picked * y.detach().sum() + (np.sign(x) * y).sum()

    cf = ag.compile(f)
    for _ in range(3):
        x = Tensor(rng.normal(size=6), requires_grad=True)
        y = Tensor(rng.normal(size=6), requires_grad=True)
        out = cf(x, y)
        out.backward()
        gx, gy = x.grad.numpy().copy(), y.grad.numpy().copy()
        x.grad = y.grad = None
        ref = f(x, y)
        ref.backward()
        assert float(out) == float(ref)
        assert np.array_equal(gx, x.grad.numpy()) and np.array_equal(gy, y.grad.numpy())
    assert cf.trace_count == 1


def test_boolean_mask_index_from_inputs_is_refused():
    cf = ag.compile(lambda x: x[x > 0].sum())
    with pytest.raises(ag.CompileError, match="boolean mask"):
        cf(Tensor([1.0, -2.0], requires_grad=True))


def test_dropout_draws_fresh_masks_in_the_eager_stream(rng):
    x = Tensor(rng.normal(size=(50,)), requires_grad=True)
    cf = ag.compile(lambda x, g: F.dropout(x, 0.5, rng=g).sum())
    gen = np.random.default_rng(7)
    compiled = [float(cf(x, gen)) for _ in range(4)]
    gen = np.random.default_rng(7)
    eager = [float(F.dropout(x, 0.5, rng=gen).sum()) for _ in range(4)]
    assert compiled == eager and len(set(compiled)) == 4


def test_captured_tensors_get_gradients_and_are_read_each_call(rng):
    W = Tensor(rng.normal(size=(3, 2)), requires_grad=True, name="W")
    cf = ag.compile(lambda x: (x @ W).sum())
    x = Tensor(rng.normal(size=(4, 3)))
    cf(x)
    cf(x).backward()
    assert np.array_equal(W.grad.numpy(), np.broadcast_to(x.numpy().sum(0)[:, None], (3, 2)))
    with ag.no_grad():
        W -= 1.0
    assert float(cf(x)) == float((x @ W).sum())


def test_compiled_backward_under_create_graph_is_differentiable(rng):
    cf = ag.compile(lambda x: (x ** 3).sum())  # more in test_compile_higher.py
    x = Tensor(rng.normal(size=3), requires_grad=True)
    cf(x)
    (g,) = ag.autograd.grad(cf(x), x, create_graph=True)
    (h,) = ag.autograd.grad(g.sum(), x)
    assert np.allclose(h.numpy(), 6 * x.numpy(), rtol=1e-15, atol=0)


def test_in_place_change_of_a_saved_input_is_caught(rng):
    cf = ag.compile(lambda x, w: (x * w).sum())
    x, w = Tensor(rng.normal(size=3)), Tensor(rng.normal(size=3), requires_grad=True)
    cf(x, w)
    out = cf(x, w)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


def _as_function(prog):
    steps, weights, leaves = prog.steps, prog.weights, sorted(prog.inputs)

    def fn(*xs):
        nodes = dict(zip(leaves, xs))
        for node, op, args, kw in steps:
            nodes[node] = op.ag(*[nodes[a] for a in args], **kw)
        total = None
        for k, r in weights.items():
            term = (nodes[k] * r).sum()
            total = term if total is None else total + term
        return total

    return fn


def _check_program(prog):
    fn = _as_function(prog)
    leaves = [Tensor(prog.inputs[k].copy(), requires_grad=True) for k in sorted(prog.inputs)]
    cf = ag.compile(fn)
    with np.errstate(all="ignore"):
        cf(*leaves)
        value, grads = grads_of(cf, leaves)
        value_e, grads_e = grads_of(fn, leaves)
    assert np.array_equal(value, value_e, equal_nan=True), cf.source
    for g, ge in zip(grads, grads_e):
        assert (g is None and ge is None) or np.array_equal(g, ge, equal_nan=True), cf.source
    return cf


@given(programs(max_steps=6))
def test_random_graphs_compile_bit_for_bit(prog):
    _check_program(prog)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_compiles_bit_for_bit(name):
    @given(programs(required=name, max_steps=3))
    def check(prog):
        _check_program(prog)

    check()


def test_compile_r1_example_shows_the_deltas_are_the_generated_gradients(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / "compile_r1.py"
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "def backward(" in done.stdout and "delta4 = -(y - f[\"yhat\"])" in done.stdout
    for name in ("g_z4", "g_z3", "g_z2"):
        assert f"{name:18} identical" in done.stdout
    assert done.stdout.count(" identical  shape") == 6
    assert "DIFFERENT" not in done.stdout


def test_demo_line_reports_the_measured_speed_up():
    from autograd_nn.compile.demo import r1_speedup

    line = r1_speedup(steps=5)
    assert line.startswith("ag.compile: the same R1 training step takes ")
    assert line.endswith("weights after 6 steps identical: True")


def test_tensors_made_outside_the_recorded_ops_are_refused_when_used():
    cf = ag.compile(lambda x: (ag.sign(x) * x).sum())
    with pytest.raises(ag.CompileError, match=r"test_compile\.py:\d+.*outside the ops"):
        cf(Tensor([1.0, -2.0], requires_grad=True))


def test_constants_made_inside_from_python_data_are_fine(rng):
    cf = ag.compile(lambda x: (x * ag.tensor([1.0, 2.0, 3.0]) + ag.ones(3)).sum())
    x = Tensor(rng.normal(size=3), requires_grad=True)
    cf(x)
    assert float(cf(x)) == float((x * ag.tensor([1.0, 2.0, 3.0]) + ag.ones(3)).sum())


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_class_index_targets_follow_the_inputs(rng, dtype):
    logits = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    cf = ag.compile(lambda x, t: F.cross_entropy(x, t))
    for _ in range(3):
        target = Tensor(rng.integers(0, 3, size=5).astype(dtype))
        assert float(cf(logits, target)) == float(F.cross_entropy(logits, target))
    assert cf.trace_count == 1


def test_a_compiled_function_called_inside_another_joins_its_trace(rng):
    inner = ag.compile(lambda x: ag.tanh(x) * 2.0)
    outer = ag.compile(lambda x: (inner(x) ** 2).sum())
    for _ in range(3):
        x = Tensor(rng.normal(size=4), requires_grad=True)
        out = outer(x)
        out.backward()
        g = x.grad.numpy().copy()
        x.grad = None
        ref = ((ag.tanh(x) * 2.0) ** 2).sum()
        ref.backward()
        assert float(out) == float(ref) and np.array_equal(g, x.grad.numpy())
    assert outer.trace_count == 1
