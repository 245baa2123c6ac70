"""draw_graph and render: the DOT source is parsed and checked (nodes, edges, labels, styles,
clusters, collapsed modules, highlighting, deep graphs); real SVG/PNG files when `dot` exists."""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.mode import STATE
from autograd_nn.viz import draw_graph, render

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="graphviz's dot program is not installed")

# ---- a small DOT parser (independent of the renderer) -------------------------------------
_NODE = re.compile(r"^\s*(\w+) \[(.*)\]$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"\]]+)')
_NUM = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def _attrs(text):
    out = {}
    for k, v in _ATTR.findall(text or ""):
        out[k] = v[1:-1].replace('\\"', '"') if v.startswith('"') else v
    return out


def parse_dot(src):
    """nodes {id: attrs, cluster}, edges [(src, dst, attrs)], clusters {name: {label, parent}}."""
    nodes, edges, clusters, stack = {}, [], {}, []
    for line in src.splitlines():
        s = line.strip()
        m = re.match(r"subgraph (\w+) \{$", s)
        if m:
            clusters[m[1]] = {"label": None, "parent": stack[-1] if stack else None}
            stack.append(m[1])
            continue
        if s == "}":
            if stack:
                stack.pop()
            continue
        if s.startswith(("graph [", "node [", "edge [", "digraph")):
            if s.startswith("graph [") and stack:
                clusters[stack[-1]]["label"] = _attrs(s[7:-1]).get("label")
            continue
        m = _EDGE.match(line)
        if m:
            edges.append((m[1], m[2], _attrs(m[3])))
            continue
        m = _NODE.match(line)
        if m:
            nodes[m[1]] = {**_attrs(m[2]), "cluster": stack[-1] if stack else None}
    return nodes, edges, clusters


def lines_of(label):
    return [x for x in label.split("\\l") if x]


def block_numbers(label, title):
    """The numbers of the 'value' or 'grad' block of a tensor label."""
    lines = lines_of(label)
    out, inside = [], False
    for ln in lines[1:]:
        head = ln.split(" ", 1)[0]
        if head in ("value", "grad"):
            inside = head == title
            ln = ln[len(head):]
        if inside:
            out.extend(float(x) for x in _NUM.findall(ln))
    return np.array(out)


def by_label(nodes, prefix):
    found = [k for k, a in nodes.items() if a.get("label", "").startswith(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


# ---- the reference network R1, built from ops -------------------------------------------
def build_r1():
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    np.random.seed(1)
    W = [np.random.randn(3, 4), np.random.randn(4, 5), np.random.randn(5, 1)]
    W1, W2, W3 = (ag.Tensor(w, requires_grad=True) for w in W)
    Xt, yt = ag.Tensor(X, name="X"), ag.Tensor(y, name="y")
    z2 = Xt @ W1
    a2 = ag.sigmoid(z2)
    z3 = a2 @ W2
    a3 = ag.sigmoid(z3)
    z4 = a3 @ W3
    yhat = ag.sigmoid(z4)
    J = 0.5 * ((yt - yhat) ** 2).sum()
    for t, n in [(z2, "z2"), (a2, "a2"), (z3, "z3"), (a3, "a3"), (z4, "z4"), (yhat, "yhat"),
                 (J, "J")]:
        t.name = n
    params = {"W1": W1, "W2": W2, "W3": W3}
    return dict(X=X, y=y, W=W, params=params, J=J, z2=z2, z3=z3, z4=z4, a2=a2, a3=a3, yhat=yhat)


def hand_r1(X, y, W):
    """R1's forward and hand-derived backward in plain numpy."""
    W1, W2, W3 = W
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    z2 = X @ W1
    a2 = s(z2)
    z3 = a2 @ W2
    a3 = s(z3)
    z4 = a3 @ W3
    yhat = s(z4)
    d4 = -(y - yhat) * (yhat * (1 - yhat))
    d3 = (d4 @ W3.T) * (a3 * (1 - a3))
    d2 = (d3 @ W2.T) * (a2 * (1 - a2))
    return dict(z2=z2, a2=a2, z3=z3, a3=a3, z4=z4, yhat=yhat, d4=d4, d3=d3, d2=d2,
                dW3=a3.T @ d4, dW2=a2.T @ d3, dW1=X.T @ d2, J=0.5 * np.sum((y - yhat) ** 2))


# ---- structure and labels ------------------------------------------------------------------
def test_r1_nodes_edges_and_labels():
    r = build_r1()
    r["J"].backward(retain_graph=True)  # keep the graph to draw it
    h = hand_r1(r["X"], r["y"], r["W"])
    nodes, edges, clusters = parse_dot(draw_graph(r["J"], r["params"]).source)
    assert not clusters
    ops = {k: a for k, a in nodes.items() if a.get("shape") == "ellipse"}
    # 15 tensors (J, sum, square, difference, y, yhat, z4, a3, W3, z3, a2, W2, z2, X, W1),
    # 10 ops, 2 number constants (0.5 and 2)
    assert len(nodes) == 27 and len(ops) == 10
    names = sorted(a["label"] for a in ops.values())
    assert names == ["matmul"] * 3 + ["multiply", "power", "sigmoid", "sigmoid", "sigmoid",
                                      "subtract", "sum"]
    # every op: one edge per operand in, one edge out
    assert len(edges) == 26
    for k in ops:
        assert sum(1 for s, d, _ in edges if s == k) == 1
    w1 = by_label(nodes, "W1 ")
    assert "(3, 4) float64" in lines_of(nodes[w1]["label"])[0]
    np.testing.assert_allclose(block_numbers(nodes[w1]["label"], "value"), r["W"][0].ravel(),
                               rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(block_numbers(nodes[w1]["label"], "grad"), h["dW1"].ravel(),
                               rtol=1e-3, atol=1e-4)
    j = by_label(nodes, "J ")
    assert block_numbers(nodes[j]["label"], "value") == pytest.approx(h["J"], rel=1e-3)
    # W1 -> matmul -> z2, and X feeds the same matmul
    (mm,) = [d for s, d, _ in edges if s == w1]
    assert nodes[mm]["label"] == "matmul"
    assert {s for s, d, _ in edges if d == mm} == {w1, by_label(nodes, "X ")}
    (out,) = [d for s, d, _ in edges if s == mm]
    assert nodes[out]["label"].startswith("z2 ")


def test_styles_distinguish_roles():
    r = build_r1()
    nodes, _, _ = parse_dot(draw_graph(r["J"], r["params"]).source)
    fill = {k: a.get("fillcolor") for k, a in nodes.items()}
    params = [by_label(nodes, f"W{i} ") for i in (1, 2, 3)]
    out, x, z3 = by_label(nodes, "J "), by_label(nodes, "X "), by_label(nodes, "z3 ")
    consts = [k for k, a in nodes.items() if a["label"].rstrip("\\l") in ("0.5", "2")]
    assert len(consts) == 2 and len({fill[p] for p in params}) == 1
    assert len({fill[params[0]], fill[out], fill[x], fill[z3], "#ffffff"}) == 4  # z3 white
    assert fill[z3] == "#ffffff" and "bold" in nodes[out]["style"]
    for c in consts + [x]:
        assert "dashed" in nodes[c]["style"] and fill[c] == fill[x]
    # a leaf that requires grad but is not a parameter has its own colour
    v = ag.Tensor([1.0, 2.0], requires_grad=True, name="v")
    n2, _, _ = parse_dot(draw_graph((v * v).sum()).source)
    assert n2[by_label(n2, "v ")]["fillcolor"] not in {fill[params[0]], fill[out], fill[x],
                                                       "#ffffff"}


def test_op_labels_show_keyword_parameters():
    x = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = ag.leaky_relu(x.sum(axis=0), 0.2).sum() + x.sum(axis=1, keepdims=True).mean()
    ops = sorted(a["label"] for a in parse_dot(draw_graph(y).source)[0].values()
                 if a.get("shape") == "ellipse")
    assert "sum(axis=0)" in ops and "sum(axis=1, keepdims=True)" in ops
    assert "leaky_relu(negative_slope=0.2)" in ops and "mean" in ops and "add" in ops


def test_small_values_in_full_big_ones_summarised():
    rng = np.random.default_rng(0)
    big = ag.Tensor(rng.standard_normal((10, 10)), requires_grad=True, name="big")
    small = ag.Tensor(rng.standard_normal(6), requires_grad=True, name="small")
    y = (big * 2).sum() + small.sum()
    y.backward(retain_graph=True)  # keep the graph to draw it
    nodes, _, _ = parse_dot(draw_graph(y, max_elements=20).source)
    lb = nodes[by_label(nodes, "big ")]["label"]
    value_line = [ln for ln in lines_of(lb) if ln.startswith("value")][0]
    mn, mean, mx = (float(v) for v in re.findall(r"(?:min|mean|max) (\S+)", value_line))
    d = big.data
    assert mn == pytest.approx(d.min(), rel=1e-2) and mx == pytest.approx(d.max(), rel=1e-2)
    assert mean == pytest.approx(d.mean(), rel=1e-2, abs=1e-3)
    grad_line = [ln for ln in lines_of(lb) if ln.startswith("grad")][0]
    assert re.findall(r"(?:min|mean|max) (\S+)", grad_line) == ["2", "2", "2"]
    ls = nodes[by_label(nodes, "small ")]["label"]
    np.testing.assert_allclose(block_numbers(ls, "value"), small.data, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(block_numbers(ls, "grad"), np.ones(6))
    # raising max_elements shows all 100 values
    nodes, _, _ = parse_dot(draw_graph(y, max_elements=100).source)
    lb = nodes[by_label(nodes, "big ")]["label"]
    np.testing.assert_allclose(block_numbers(lb, "value"), d.ravel(), rtol=1e-3, atol=1e-4)


def test_show_data_and_show_grad_switch_blocks_off():
    r = build_r1()
    r["J"].backward(retain_graph=True)  # keep the graph to draw it
    src = draw_graph(r["J"], r["params"], show_data=False, show_grad=False).source
    assert "value" not in src and "grad" not in src
    src = draw_graph(r["J"], r["params"], show_data=False).source
    assert "value" not in src and "grad" in src


def test_names_from_params_dict_pairs_and_tensor_name():
    a = ag.Tensor([1.0, 2.0], requires_grad=True, name="own")
    b = ag.Tensor([3.0, 4.0], requires_grad=True)
    y = (a * b).sum()
    labels = [v["label"] for v in parse_dot(draw_graph(y).source)[0].values()]
    assert any(lb.startswith("own ") for lb in labels)
    for params in ({"alpha": a, "beta": b}, [("alpha", a), ("beta", b)]):
        nodes, _, _ = parse_dot(draw_graph(y, params).source)
        assert "parameter" not in nodes  # sanity: parser keys are ids
        by_label(nodes, "alpha ")  # the params name wins over tensor.name
        by_label(nodes, "beta ")


def test_bad_arguments_raise_clear_errors():
    x = ag.Tensor([1.0], requires_grad=True)
    y = x * 2
    with pytest.raises(TypeError, match="root must be a Tensor"):
        draw_graph(np.ones(3))
    with pytest.raises(TypeError, match="params"):
        draw_graph(y, params=42)
    with pytest.raises(TypeError, match="names to Tensors"):
        draw_graph(y, params={"w": np.ones(1)})
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(y, rankdir="up")
    with pytest.raises(ValueError, match="max_elements"):
        draw_graph(y, max_elements=-1)
    assert "rankdir=TB" in draw_graph(y, rankdir="TB").source


def test_shared_nodes_once_and_repeated_operands_keep_their_edges():
    x = ag.Tensor([0.5, 1.0], requires_grad=True, name="x")
    a = ag.exp(x)
    a.name = "a"
    d = (a * 3 + a) * a  # a feeds three ops
    sq = a * a  # both operands are a
    out = d.sum() + sq.sum()
    nodes, edges, _ = parse_dot(draw_graph(out).source)
    ka = by_label(nodes, "a ")
    targets = [nodes[d_]["label"] for s, d_, _ in edges if s == ka]
    assert len(targets) == 5 and targets.count("multiply") == 4 and targets.count("add") == 1
    assert sum(1 for v in nodes.values() if v["label"].startswith("x ")) == 1


def test_constants_array_once_numbers_per_use_and_hidden():
    r = build_r1()
    data = np.array([1.0, 2.0, 3.0])
    x = ag.Tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = (x * data).sum() + (x + data).sum() + (x ** 2).sum() * 0.5
    nodes, edges, _ = parse_dot(draw_graph(y).source)
    arrays = [k for k, a in nodes.items() if "dashed" in a.get("style", "")
              and "[1 2 3]" in a["label"]]
    assert len(arrays) == 1
    assert sum(1 for s, _, _ in edges if s == arrays[0]) == 2
    # hide_constants: no constant nodes, numbers folded into the op labels
    nodes, edges, _ = parse_dot(draw_graph(r["J"], r["params"], hide_constants=True).source)
    assert not any("dashed" in a.get("style", "") for a in nodes.values())
    ops = {a["label"] for a in nodes.values() if a.get("shape") == "ellipse"}
    assert {"multiply(0.5, ·)", "power(·, 2)", "subtract(y, ·)", "matmul(X, ·)"} <= ops
    assert len(nodes) == 27 - 4  # X, y, 0.5 and 2 are gone
    assert all(s in nodes and d in nodes for s, d, _ in edges)


def test_several_roots():
    x = ag.Tensor([1.0, 2.0], requires_grad=True, name="x")
    a, b = ag.sin(x), ag.cos(x)
    nodes, edges, _ = parse_dot(draw_graph([a, b]).source)
    assert len(nodes) == 5 and len(edges) == 4
    assert sum(1 for v in nodes.values() if "bold" in v.get("style", "")) == 2


# ---- modules: clusters and collapsing ------------------------------------------------------
class StandIn:
    """A minimal Module-like object: named_modules/named_parameters, pushes its scope."""

    def __init__(self, name_to_child=None, params=None):
        self.children = name_to_child or {}
        self.params = params or {}

    def named_modules(self, prefix=""):
        yield prefix, self
        for n, c in self.children.items():
            yield from c.named_modules(f"{prefix}.{n}" if prefix else n)

    def named_parameters(self):
        for mn, m in self.named_modules():
            for n, p in m.params.items():
                yield (f"{mn}.{n}" if mn else n), p

    def __call__(self, fn, *args):
        outer = STATE.scope
        STATE.scope = outer + (self,)
        try:
            return fn(*args)
        finally:
            STATE.scope = outer


class Linear(StandIn):
    pass


class Net(StandIn):
    pass


def test_clusters_from_scope_with_stand_in_modules():
    rng = np.random.default_rng(1)
    w1 = ag.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w2 = ag.Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    hidden, out = Linear(params={"weight": w1}), Linear(params={"weight": w2})
    net = Net({"hidden": hidden, "out": out})
    x = ag.Tensor(rng.standard_normal((5, 3)), name="x")

    def forward(x):
        h = hidden(lambda v: ag.tanh(v @ w1), x)
        return out(lambda v: v @ w2, h)

    loss = (net(forward, x) ** 2).mean()
    nodes, edges, clusters = parse_dot(draw_graph(loss, net).source)
    labels = {c["label"]: name for name, c in clusters.items()}
    assert set(labels) == {"Net", "hidden (Linear)", "out (Linear)"}
    assert clusters[labels["hidden (Linear)"]]["parent"] == labels["Net"]
    assert clusters[labels["out (Linear)"]]["parent"] == labels["Net"]
    in_hidden = sorted(a["label"].split("\\l")[0] for a in nodes.values()
                       if a["cluster"] == labels["hidden (Linear)"])
    assert in_hidden == ["(5, 4) float64", "(5, 4) float64", "hidden.weight  (3, 4) float64",
                         "matmul", "tanh"]
    # the loss ops and the input are outside every cluster
    assert nodes[by_label(nodes, "x ")]["cluster"] is None
    assert {a["label"] for a in nodes.values() if a["cluster"] is None
            and a.get("shape") == "ellipse"} == {"power", "mean"}
    # without module names (params a dict) the clusters are labelled by class
    _, _, clusters = parse_dot(draw_graph(loss, {"w1": w1}).source)
    assert sorted(c["label"] for c in clusters.values()) == ["Linear", "Linear", "Net"]


def mlp(sizes, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(i, o), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    x = ag.Tensor(rng.standard_normal((batch, sizes[0])), name="x")
    target = rng.integers(0, sizes[-1], batch)
    loss = nn.functional.cross_entropy(model(x), target)
    return model, x, loss


def test_clusters_with_real_nn_modules():
    model, x, loss = mlp([4, 3, 2])
    nodes, edges, clusters = parse_dot(draw_graph(loss, model).source)
    labels = {c["label"]: n for n, c in clusters.items()}
    assert set(labels) >= {"Sequential", "0 (Linear)", "1 (ReLU)", "2 (Linear)"}
    for sub in ("0 (Linear)", "1 (ReLU)", "2 (Linear)"):
        assert clusters[labels[sub]]["parent"] == labels["Sequential"]
    w = by_label(nodes, "0.weight ")
    assert nodes[w]["cluster"] == labels["0 (Linear)"]
    assert nodes[w]["fillcolor"] == nodes[by_label(nodes, "2.bias ")]["fillcolor"]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(3, 4)
            self.out = nn.Linear(4, 1)

        def forward(self, x):
            return self.out(ag.sigmoid(self.hidden(x)))

    m = Model()
    y = m(ag.Tensor(np.ones((2, 3)))).sum()
    _, _, clusters = parse_dot(draw_graph(y, m).source)
    assert sorted(c["label"] for c in clusters.values()) == [
        "Model", "hidden (Linear)", "out (Linear)"]


def test_collapse_all_turns_a_784_256_128_10_mlp_into_a_readable_picture():
    model, x, loss = mlp([784, 256, 128, 10], batch=16)
    full, _, _ = parse_dot(draw_graph(loss, model).source)
    nodes, edges, clusters = parse_dot(draw_graph(loss, model, collapse=True).source)
    boxes = {k: a for k, a in nodes.items() if a.get("shape") == "box3d"}
    assert len(boxes) == 5 and len(nodes) < len(full) and len(nodes) <= 25
    box_text = {lines_of(a["label"])[0]: lines_of(a["label"]) for a in boxes.values()}
    assert set(box_text) == {"0 (Linear)", "1 (ReLU)", "2 (Linear)", "3 (ReLU)", "4 (Linear)"}
    assert box_text["0 (Linear)"][1:5] == ["weight (784, 256)", "bias (256,)", "in (16, 784)",
                                           "out (16, 256)"]
    assert box_text["4 (Linear)"][1:5] == ["weight (128, 10)", "bias (10,)", "in (16, 128)",
                                           "out (16, 10)"]
    assert not any(a["label"].startswith(("0.weight", "2.bias")) for a in nodes.values())
    # the boxes sit in the Sequential cluster, joined through visible tensors
    (seq,) = [n for n, c in clusters.items() if c["label"] == "Sequential"]
    assert all(a["cluster"] == seq for a in boxes.values())
    b0 = [k for k, a in boxes.items() if a["label"].startswith("0 (Linear)")][0]
    assert [s for s, d, _ in edges if d == b0] == [by_label(nodes, "x ")]
    (h,) = [d for s, d, _ in edges if s == b0]
    assert lines_of(nodes[h]["label"])[0] == "(16, 256) float64"
    assert [nodes[d]["label"].split("\\l")[0] for s, d, _ in edges if s == h] == ["1 (ReLU)"]


def test_collapsed_box_shows_the_norm_of_each_parameter_gradient():
    model, x, loss = mlp([6, 4, 3])
    loss.backward(retain_graph=True)  # keep the graph to draw it
    nodes, _, _ = parse_dot(draw_graph(loss, model, collapse="0").source)
    (box,) = [lines_of(a["label"]) for a in nodes.values() if a.get("shape") == "box3d"]
    norms = {ln.split()[0]: float(ln.split("|grad| ")[1]) for ln in box if "|grad|" in ln}
    assert norms["weight"] == pytest.approx(np.sqrt(np.sum(model[0].weight.grad.data ** 2)),
                                            rel=5e-3)  # 3 digits
    assert norms["bias"] == pytest.approx(np.sqrt(np.sum(model[0].bias.grad.data ** 2)),
                                          rel=5e-3)
    nodes, _, _ = parse_dot(draw_graph(loss, model, collapse="0", show_grad=False).source)
    assert "|grad|" not in "".join(a["label"] for a in nodes.values())


def test_collapse_by_name_class_module_and_errors():
    model, x, loss = mlp([5, 4, 3, 2])

    def boxes(spec):
        nodes, _, _ = parse_dot(draw_graph(loss, model, collapse=spec).source)
        return sorted(lines_of(a["label"])[0] for a in nodes.values()
                      if a.get("shape") == "box3d")

    assert boxes("0") == ["0 (Linear)"]
    assert boxes(["0", "4"]) == ["0 (Linear)", "4 (Linear)"]
    assert boxes("Linear") == ["0 (Linear)", "2 (Linear)", "4 (Linear)"]
    assert boxes(model[2]) == ["2 (Linear)"]
    assert boxes("all") == boxes(True) and len(boxes(True)) == 5
    assert boxes("") == ["Sequential"]  # the whole model in one box
    with pytest.raises(ValueError, match=r"names no module.*0 \(Linear\)"):
        boxes("decoder")
    with pytest.raises(ValueError, match="not a module"):
        boxes(nn.Linear(2, 2))


def test_collapse_keeps_a_parameter_used_outside_its_module_visible():
    model, x, _ = mlp([4, 3, 2])
    w = model[0].weight
    loss = model(x).sum() + (w * w).sum()  # weight decay on the first layer's weight
    nodes, edges, _ = parse_dot(draw_graph(loss, model, collapse=True).source)
    kw = by_label(nodes, "0.weight ")
    box = [k for k, a in nodes.items() if a["label"].startswith("0 (Linear)")][0]
    assert "weight" not in nodes[box]["label"]
    assert (kw, box) in {(s, d) for s, d, _ in edges}


# ---- highlighting --------------------------------------------------------------------------
class FakeGradcheckResult:
    def __init__(self, nodes):
        self.failed_nodes = nodes


def test_highlight_gradcheck_like_result_and_node_sets():
    r = build_r1()
    bad = r["a3"].grad_fn  # pretend the second sigmoid's backward is wrong
    nodes, _, _ = parse_dot(draw_graph(r["J"], r["params"],
                                       highlight=FakeGradcheckResult([bad])).source)
    red = [k for k, a in nodes.items() if a.get("penwidth") == "3"]
    assert len(red) == 1 and nodes[red[0]]["label"].startswith("sigmoid")
    assert "gradcheck" in nodes[red[0]]["label"]
    (z3,) = [k for k, a in nodes.items() if a["label"].startswith("z3 ")]
    assert nodes[red[0]]["fillcolor"] != nodes[z3]["fillcolor"]
    # a set of tensors and nodes
    nodes, _, _ = parse_dot(draw_graph(r["J"], highlight={r["z4"], r["z2"].grad_fn}).source)
    red = sorted(a["label"].split("\\l")[0] for a in nodes.values() if a.get("penwidth") == "3")
    assert red == ["matmul", "z4  (4, 1) float64"]
    # a passing check paints nothing
    src = draw_graph(r["J"], highlight=FakeGradcheckResult([])).source
    assert "penwidth" not in src
    with pytest.raises(TypeError, match="highlight"):
        draw_graph(r["J"], highlight=[1, 2])
    with pytest.raises(TypeError, match="highlight"):
        draw_graph(r["J"], highlight=3.5)
    other = ag.sin(ag.Tensor([1.0], requires_grad=True))
    with pytest.raises(ValueError, match="part of this graph"):
        draw_graph(r["J"], highlight=[other.grad_fn])


def test_highlight_inside_a_collapsed_module_paints_its_box():
    model, x, loss = mlp([4, 3, 2])
    node = model[0].weight  # absorbed into box "0 (Linear)"
    nodes, _, _ = parse_dot(draw_graph(loss, model, collapse=True, highlight=[node]).source)
    red = [a["label"].split("\\l")[0] for a in nodes.values() if a.get("penwidth") == "3"]
    assert red == ["0 (Linear)"]


class WrongCube(ag.Function):
    """x ** 3 with a wrong derivative (2 x² instead of 3 x²)."""

    name = "wrong_cube"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x ** 2


def test_real_gradcheck_failure_is_painted_red():
    x = ag.Tensor(np.array([0.5, -1.2, 2.0]), requires_grad=True)
    result = ag.gradcheck(lambda v: (ag.sin(WrongCube.apply(v)) * 2).sum(), [x],
                          raise_exception=False)
    assert not result.passed
    nodes, _, _ = parse_dot(draw_graph(result.outputs[0], highlight=result).source)
    red = [a["label"] for a in nodes.values() if a.get("penwidth") == "3"]
    assert len(red) == 1 and red[0].startswith("wrong_cube")


# ---- deep graphs, purity, legend -----------------------------------------------------------
@pytest.fixture(scope="module")
def deep_chain():
    x = ag.Tensor(0.3, requires_grad=True, name="x")
    y = x
    for _ in range(100_000):
        y = ag.sin(y)
    return x, y


def test_deep_chain_walk_is_iterative(deep_chain):
    x, y = deep_chain
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)  # a recursive walk would fail long before 100,000 levels
    try:
        src = draw_graph(y, show_data=False).source
    finally:
        sys.setrecursionlimit(limit)
    lines = src.splitlines()
    node_lines = [ln for ln in lines if re.match(r"^\t\w+ \[label=", ln)]
    edge_lines = [ln for ln in lines if " -> " in ln]
    assert len(node_lines) == 200_001 and len(edge_lines) == 200_000
    assert sum(1 for ln in node_lines if 'label="sin"' in ln) == 100_000
    assert sum(1 for ln in node_lines if 'label="x  () float64' in ln) == 1
    # the chain is connected end to end: every tensor but x feeds one op, every op one tensor
    sources = {ln.split()[0] for ln in edge_lines}
    assert len(sources) == 200_000


def test_draw_graph_is_pure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = build_r1()
    g = draw_graph(r["J"], r["params"], collapse=None, legend=True)
    _ = g.source
    assert list(tmp_path.iterdir()) == []
    assert r["params"]["W1"].grad is None
    r["J"].backward()  # the graph (saved arrays) is intact
    np.testing.assert_allclose(r["params"]["W1"].grad.data,
                               hand_r1(r["X"], r["y"], r["W"])["dW1"], rtol=1e-12)


def test_legend_matches_the_styles_used():
    r = build_r1()
    nodes, _, clusters = parse_dot(draw_graph(r["J"], r["params"], legend=True).source)
    assert any(c["label"] == "legend" for c in clusters.values())
    assert nodes["legend_parameter"]["fillcolor"] == nodes[by_label(nodes, "W1 ")]["fillcolor"]
    assert nodes["legend_output"]["fillcolor"] == nodes[by_label(nodes, "J ")]["fillcolor"]
    assert nodes["legend_constant"]["style"] == nodes[by_label(nodes, "X ")]["style"]


def test_graphviz_is_imported_lazily():
    code = ("import sys, autograd_nn as ag, autograd_nn.viz; assert 'graphviz' not in sys.modules;"
            "x = ag.Tensor([1.0], requires_grad=True); ag.draw_graph(x * 2);"
            "assert 'graphviz' in sys.modules; assert ag.draw_graph is autograd_nn.viz.draw_graph")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- rendering -----------------------------------------------------------------------------
@needs_dot
def test_render_real_svg_and_png(tmp_path):
    r = build_r1()
    r["J"].backward(retain_graph=True)  # keep the graph to draw it
    g = draw_graph(r["J"], r["params"], legend=True)
    svg = render(g, tmp_path / "r1.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    texts = "".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "W1" in texts and "matmul" in texts
    png = render(g, tmp_path / "r1.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert render(g, format="svg").lstrip().startswith(b"<?xml")
    # graphviz's own API on the returned Digraph works too (and Jupyter's hook)
    out = g.render(tmp_path / "direct", format="pdf", cleanup=True)
    assert open(out, "rb").read(5) == b"%PDF-"
    assert "image/svg+xml" in g._repr_mimebundle_()


@needs_dot
def test_render_collapsed_mlp_svg(tmp_path):
    model, x, loss = mlp([784, 256, 128, 10], batch=4)
    svg = render(draw_graph(loss, model, collapse=True), tmp_path / "mlp.svg")
    assert ET.parse(svg).getroot().tag.endswith("svg")


def test_missing_dot_says_how_to_install(tmp_path, monkeypatch):
    import graphviz

    r = build_r1()
    g = draw_graph(r["J"], r["params"])
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    assert "matmul" in g.source  # the DOT text needs no binary
    for attempt in (lambda: render(g, tmp_path / "x.png"), lambda: g.pipe(format="svg"),
                    lambda: g.render(tmp_path / "y", format="png"),
                    lambda: render(graphviz.Digraph(), tmp_path / "z.svg")):
        with pytest.raises(RuntimeError, match="apt-get install graphviz") as err:
            attempt()
        assert isinstance(err.value, graphviz.ExecutableNotFound)
        assert "brew install graphviz" in str(err.value)
    assert not (tmp_path / "x.png").exists()
    with pytest.raises(ValueError, match="format"):
        render(g, tmp_path / "noext")
