"""trace_backward: the engine's own backward pass, recorded step by step. For R1 the gradients
at z4, z3, z2 are the hand-derived deltas δ4, δ3, δ2."""

import numpy as np
import pytest
from test_viz import build_r1, hand_r1, lines_of, parse_dot

import autograd_nn as ag
from autograd_nn import engine
from autograd_nn.viz import draw_graph, trace_backward


def test_r1_replay_gives_the_hand_derived_deltas():
    r = build_r1()
    tr = trace_backward(r["J"], params=r["params"])
    h = hand_r1(r["X"], r["y"], r["W"])  # numpy only: its own sigmoid, forward and deltas
    for z, d in (("z4", "d4"), ("z3", "d3"), ("z2", "d2")):
        np.testing.assert_allclose(tr[r[z]], h[d], rtol=1e-12, atol=0)
        np.testing.assert_allclose(tr.grad_of(r[z]), h[d], rtol=1e-12, atol=0)
    for i in (1, 2, 3):
        np.testing.assert_allclose(tr[r["params"][f"W{i}"]], h[f"dW{i}"], rtol=1e-12, atol=0)
        # backward really ran: the leaves' .grad hold the same numbers
        np.testing.assert_array_equal(r["params"][f"W{i}"].grad.data, tr[r["params"][f"W{i}"]])


def test_r1_replay_is_bitwise_the_hand_formulas_on_the_engine_activations():
    r = build_r1()
    tr = trace_backward(r["J"])
    y, (_, W2, W3) = r["y"], r["W"]
    a2, a3, yhat = r["a2"].data, r["a3"].data, r["yhat"].data
    d4 = -(y - yhat) * (yhat * (1 - yhat))
    d3 = (d4 @ W3.T) * (a3 * (1 - a3))
    d2 = (d3 @ W2.T) * (a2 * (1 - a2))
    for t, d in ((r["z4"], d4), (r["z3"], d3), (r["z2"], d2)):
        assert np.array_equal(tr[t], d)


def test_steps_follow_the_engine_order():
    r = build_r1()
    seen = []
    real = engine.run_backward

    def spy(*args, **kwargs):
        assert kwargs.get("tracer") is not None
        inner = kwargs["tracer"]
        kwargs["tracer"] = lambda t, *rest: (seen.append(t), inner(t, *rest))
        return real(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(engine, "run_backward", spy)
    try:
        tr = trace_backward(r["J"], params=r["params"])
    finally:
        mp.undo()
    assert [s.tensor for s in tr] == seen  # the engine's order, one step per callback
    # 13 tensors require grad: J, 0.5*sum's operand, the square, the difference, yhat, z4, a3,
    # W3, z3, a2, W2, z2, W1
    assert len(tr) == 13 and len({id(s.tensor) for s in tr}) == 13
    assert tr[0].tensor is r["J"] and tr[0].upstream == 1.0
    assert [s.index for s in tr] == list(range(1, 14))
    pos = {id(s.tensor): k for k, s in enumerate(tr)}
    for s in tr:  # every tensor comes after all the ops that use it
        if s.node is not None:
            for a in s.node.inputs:
                if isinstance(a, ag.Tensor) and id(a) in pos:
                    assert pos[id(a)] > pos[id(s.tensor)]
    leaves = [s for s in tr if s.node is None]
    assert sorted(s.label for s in leaves) == ["W1", "W2", "W3"]
    assert all(s.op == "leaf" and s.sent == () for s in leaves)


def test_local_derivatives_and_sent_gradients():
    r = build_r1()
    tr = trace_backward(r["J"], params=r["params"])
    W3, yhat, a3 = r["W"][2], r["yhat"].data, r["a3"].data
    s_yhat = tr.step_of(r["yhat"])
    (loc,) = s_yhat.local
    assert s_yhat.op == "sigmoid" and loc.kind == "elementwise"
    assert loc.rule == "g ⊙ σ(z4)·(1 - σ(z4))"
    np.testing.assert_allclose(loc.value, yhat * (1 - yhat), rtol=1e-14)
    np.testing.assert_allclose(s_yhat.sent[0], s_yhat.upstream * yhat * (1 - yhat), rtol=1e-14)
    s_z4 = tr.step_of(r["z4"])
    la, lw = s_z4.local
    assert s_z4.operands == ("a3", "W3") and la.kind == lw.kind == "matmul"
    assert la.rule == "g @ W3ᵀ" and lw.rule == "a3ᵀ @ g"
    np.testing.assert_array_equal(la.value, W3.T)
    np.testing.assert_array_equal(lw.value, a3.T)
    np.testing.assert_allclose(s_z4.sent[0], s_z4.upstream @ W3.T, rtol=1e-14)
    np.testing.assert_allclose(s_z4.sent[1], a3.T @ s_z4.upstream, rtol=1e-14)
    # J = 0.5 * S: the constant gets nothing, S gets 0.5
    s_j = tr[0]
    assert s_j.op == "multiply" and s_j.local[0] is None and s_j.sent[0] is None
    assert s_j.local[1].rule == "g ⊙ 0.5" and s_j.sent[1] == 0.5
    s_sum = tr[1]
    assert s_sum.op == "sum" and s_sum.local[0].kind == "vjp"
    assert s_sum.local[0].rule == "broadcast g to (4, 1)"
    np.testing.assert_array_equal(s_sum.local[0].value, np.ones((4, 1)))
    np.testing.assert_array_equal(s_sum.sent[0], np.full((4, 1), 0.5))
    s_sub = tr[3]
    assert s_sub.op == "subtract" and s_sub.operands[0] == "y" and s_sub.local[0] is None
    assert s_sub.local[1].rule == "-g"
    np.testing.assert_array_equal(s_sub.local[1].value, -np.ones((4, 1)))


def test_broadcast_mean_and_custom_function_steps():
    x = ag.Tensor(np.arange(3.0).reshape(3, 1), requires_grad=True, name="x")
    b = ag.Tensor(np.array([1.0, -1.0, 2.0, 0.5]), requires_grad=True, name="b")
    s = x * b  # (3, 4): b is broadcast over rows
    out = s.mean()
    tr = trace_backward(out)
    step = tr.step_of(s)
    lx, lb = step.local
    np.testing.assert_array_equal(np.broadcast_to(lx.value, (3, 4)),
                                  np.broadcast_to(b.data, (3, 4)))
    # the gradient sent to b is summed over the broadcast axis
    np.testing.assert_allclose(step.sent[1], np.full(4, x.data.sum() / 12), rtol=1e-14)
    np.testing.assert_allclose(step.sent[0], np.full((3, 1), b.data.sum() / 12), rtol=1e-14)
    np.testing.assert_allclose(tr[b], np.full(4, x.data.sum() / 12), rtol=1e-14)
    m = tr[0]
    assert m.local[0].rule == "broadcast g/12 to (3, 4)"
    np.testing.assert_allclose(m.local[0].value, np.full((3, 4), 1 / 12))

    class Cube(ag.Function):
        name = "cube"

        @staticmethod
        def forward(ctx, v):
            ctx.save_for_backward(v)
            return v ** 3

        @staticmethod
        def backward(ctx, g):
            (v,) = ctx.saved_tensors
            return g * 3 * v ** 2

    c = Cube.apply(x).sum()
    tr = trace_backward(c)
    step = tr[1]
    assert step.op == "cube" and step.local[0].rule == "cube.backward(g)"
    np.testing.assert_allclose(step.local[0].value, 3 * x.data ** 2)


def test_hooks_act_in_the_traced_pass():
    r = build_r1()
    h = hand_r1(r["X"], r["y"], r["W"])
    r["z4"].register_hook(lambda g: g * 2)
    tr = trace_backward(r["J"])
    np.testing.assert_allclose(tr[r["z4"]], 2 * h["d4"], rtol=1e-12)
    np.testing.assert_allclose(tr[r["z3"]], 2 * h["d3"], rtol=1e-12)


def test_accumulate_retain_graph_and_grad_argument():
    r = build_r1()
    W1 = r["params"]["W1"]
    tr = trace_backward(r["J"], accumulate=False, retain_graph=True)
    assert W1.grad is None
    tr2 = trace_backward(r["J"])  # the graph was retained
    np.testing.assert_array_equal(tr2[W1], tr[W1])
    np.testing.assert_array_equal(W1.grad.data, tr[W1])
    with pytest.raises(RuntimeError, match="retain_graph"):
        trace_backward(r["J"])  # released by the second pass
    # a non-scalar root needs a gradient, as backward() does
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="single element"):
        trace_backward(y)
    tr = trace_backward(y, grad=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(tr[x], [2.0, 40.0])
    with pytest.raises(TypeError, match="root must be a Tensor"):
        trace_backward([y])


def test_lookup_errors_and_table_text():
    r = build_r1()
    tr = trace_backward(r["J"], params=r["params"])
    stranger = ag.Tensor([1.0], requires_grad=True, name="stranger")
    with pytest.raises(KeyError, match="'stranger' received no gradient"):
        tr[stranger]
    with pytest.raises(KeyError):
        tr.grad_of(ag.Tensor(r["X"]))
    assert "13 steps" in repr(tr)
    text = str(tr)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["step", "tensor", "op"] and set(lines[1]) <= {"-", " "}
    body = lines[2:]
    # one row per gradient sent, plus one per leaf: 12 sends (matmul sends two) + 3 leaves
    assert len(body) == 12 + 3
    assert [ln.split()[0] for ln in body if ln[:1].strip()] == [str(k) for k in range(1, 14)]
    assert "g @ W3ᵀ" in text and "a3ᵀ @ g" in text and "σ(z2)" in text
    row = [ln for ln in body if ln.split()[1:3] == ["z4", "matmul"]][0]
    nums = [float(v) for v in row.split("[", 1)[1].split("]", 1)[0].split()]
    np.testing.assert_allclose(nums, hand_r1(r["X"], r["y"], r["W"])["d4"].ravel(), rtol=1e-3)
    assert len(tr.format(max_elements=100).splitlines()) == len(lines)


def test_pictures_of_the_replay():
    r = build_r1()
    tr = trace_backward(r["J"], params=r["params"])
    h = hand_r1(r["X"], r["y"], r["W"])
    nodes, edges, _ = parse_dot(tr.draw(show_data=False).source)
    labelled = [(s, d, a["label"]) for s, d, a in edges if "label" in a]
    assert len(labelled) == sum(1 for st in tr for g in st.sent if g is not None) == 12
    z4 = [k for k, a in nodes.items() if a["label"].startswith("z4 ")][0]
    (edge,) = [lb for s, d, lb in labelled if s == z4]
    nums = [float(v) for v in edge.split("[", 1)[1].rstrip("]").split()]
    np.testing.assert_allclose(nums, h["d4"].ravel(), rtol=5e-3)  # 3 digits
    # the gradient of z3 sits in its box
    z3 = [k for k, a in nodes.items() if a["label"].startswith("z3 ")][0]
    grad_rows = lines_of(nodes[z3]["label"])[2:]
    got = np.array([[float(v) for v in ln.strip("[] ").split()] for ln in grad_rows])
    np.testing.assert_allclose(got, h["d3"], atol=6e-5)
    # step by step
    pics = tr.draw_steps(show_data=False)
    assert len(pics) == len(tr)
    for k, pic in enumerate(pics, start=1):
        nodes, edges, _ = parse_dot(pic.source)
        sends = sum(1 for st in tr.steps[:k] for g in st.sent if g is not None)
        assert sum(1 for e in edges if "label" in e[2]) == sends
        current = {a["label"].split("\\l")[0] for a in nodes.values()
                   if a.get("fillcolor") == "#ffcc80"}
        step = tr[k - 1]
        assert any(c.startswith(step.label) for c in current)
        assert f"backward step {k}/13" in pic.source
        grads = [a for a in nodes.values() if "grad" in a["label"]]
        assert len(grads) == k  # only the tensors processed so far show a gradient
    with pytest.raises(IndexError):
        tr.draw(step=0)
    with pytest.raises(TypeError, match="unexpected"):
        tr.draw(colour="red")


def test_draw_graph_with_trace_grads_shows_every_intermediate_gradient():
    r = build_r1()
    tr = trace_backward(r["J"], params=r["params"])
    nodes, _, _ = parse_dot(draw_graph(r["J"], r["params"], grads=tr).source)
    with_grad = [a["label"].split("  ")[0] for a in nodes.values() if "\\lgrad" in a["label"]]
    assert len(with_grad) == 13
    nodes, _, _ = parse_dot(draw_graph(r["J"], r["params"]).source)
    assert sum(1 for a in nodes.values() if "\\lgrad" in a["label"]) == 3  # W1..W3 only
    a3 = r["a3"]
    nodes, _, _ = parse_dot(draw_graph(r["J"], grads={a3: np.zeros((4, 5))}).source)
    label = [a["label"] for a in nodes.values() if a["label"].startswith("a3 ")][0]
    assert "grad\\l[[0 0 0 0 0]" in label  # zeros print as 0, never "0."
    with pytest.raises(TypeError, match="grads"):
        draw_graph(r["J"], grads=[1, 2])
