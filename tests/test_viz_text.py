"""print_graph: the graph as an indented text tree, no Graphviz needed."""

import io
import re
import sys

import numpy as np
import pytest
from test_viz import build_r1, hand_r1

import autograd_nn as ag
from autograd_nn.viz import format_graph, print_graph


def test_r1_tree(capsys):
    r = build_r1()
    r["J"].backward(retain_graph=True)  # keep the graph to draw it
    assert print_graph(r["J"], r["params"]) is None  # a notebook shows the tree once
    text = format_graph(r["J"], r["params"])
    assert capsys.readouterr().out == text + "\n"
    lines = text.splitlines()
    assert lines[0].startswith("t0 J  () float64  [output]")
    assert lines[0].endswith("<- multiply")
    # every tensor once (15), the two number constants, nothing referenced twice
    assert len(lines) == 17 and "(see above)" not in text
    assert sum(1 for ln in lines if "<- " in ln) == 10
    ops = sorted(ln.rsplit("<- ", 1)[1] for ln in lines if "<- " in ln)
    assert ops == ["matmul"] * 3 + ["multiply", "power", "sigmoid", "sigmoid", "sigmoid",
                                    "subtract", "sum"]
    for name in ("W1", "W2", "W3"):
        (ln,) = [x for x in lines if re.search(rf"t\d+ {name} ", x)]
        assert "[parameter]" in ln and " grad " in ln
    assert sum(1 for ln in lines if "[constant]" in ln) == 4  # 0.5, 2, X, y
    # W3 (5 elements) printed in full, with its gradient
    (w3,) = [x for x in lines if " W3 " in x]
    value = [float(v) for v in w3.split("value [")[1].split("]")[0].split()]
    grad = [float(v) for v in w3.split("grad [")[1].split("]")[0].split()]
    h = hand_r1(r["X"], r["y"], r["W"])
    np.testing.assert_allclose(value, r["W"][2].ravel(), rtol=1e-3)
    np.testing.assert_allclose(grad, h["dW3"].ravel(), rtol=1e-3)
    # indentation: z2 sits three levels below z3, under a2's branch
    depth = {m[2]: len(m[1]) for m in (re.match(r"^([│├└─ ]*)t\d+ (\w+)", x) for x in lines)
             if m}
    assert depth["z2"] > depth["a2"] > depth["z3"] > depth["a3"] > depth["z4"]


def test_shared_tensor_printed_once_then_referred_to():
    x = ag.Tensor([0.5, 1.0], requires_grad=True, name="x")
    a = ag.exp(x)
    a.name = "a"
    out = ((a * 3 + a) * a).sum()
    text = format_graph(out)
    assert sum(1 for ln in text.splitlines() if re.search(r"t\d+ a  ", ln)) == 1
    assert text.count("a (see above)") == 2
    assert sum(1 for ln in text.splitlines() if " x " in ln) == 1


def test_file_argument_and_switches():
    r = build_r1()
    buf = io.StringIO()
    print_graph(r["J"], file=buf, show_data=False)
    text = format_graph(r["J"], show_data=False)
    assert buf.getvalue() == text + "\n" and "value" not in text
    assert format_graph(r["J"], max_elements=100).count("min") == 0
    assert "min" in format_graph(r["J"], max_elements=2)
    with pytest.raises(TypeError, match="format_graph"):
        print_graph(r["J"], file=None)


def test_deep_chain_needs_no_recursion_and_is_cut_at_max_depth():
    x = ag.Tensor(0.3, requires_grad=True, name="x")
    y = x
    for _ in range(20_000):
        y = ag.tanh(y)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    short = x
    for _ in range(1_000):
        short = ag.tanh(short)
    try:
        text = format_graph(y)
        full = format_graph(short, max_depth=5_000, show_data=False)
    finally:
        sys.setrecursionlimit(limit)
    lines = text.splitlines()
    assert len(lines) == 102 and "max_depth=100" in lines[-1]
    assert len(full.splitlines()) == 1_001
    assert re.match(r"\[depth 1000\] [ └─]+t1000 x ", full.splitlines()[-1])
