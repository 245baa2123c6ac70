"""The demo's picture explains itself: the first step (the one its table checks), titled
with the loss, W1..W3 as in the table, gradients in significant digits with dJ/dz headings
and δk marks, top to bottom, at most ~1,200 px wide; legends list only the kinds drawn;
replay pictures draw gradient edges the way the gradient flows."""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from test_viz import lines_of, parse_dot

import autograd_nn as ag
from autograd_nn.reference import r1

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is missing")


def hand_first_step():
    """R1's first step by hand, independently of the package: J and δ4, δ3, δ2."""
    X = np.array([[0, 0, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    np.random.seed(1)
    W1, W2, W3 = np.random.randn(3, 4), np.random.randn(4, 5), np.random.randn(5, 1)
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    a2 = s(X @ W1)
    a3 = s(a2 @ W2)
    yhat = s(a3 @ W3)
    d4 = -(y - yhat) * yhat * (1 - yhat)
    d3 = (d4 @ W3.T) * a3 * (1 - a3)
    d2 = (d3 @ W2.T) * a2 * (1 - a2)
    return 0.5 * np.sum((y - yhat) ** 2), {"z4": d4, "z3": d3, "z2": d2}


def test_first_step_graph_title_names_numbers_and_deltas():
    J, deltas = hand_first_step()
    src = r1.first_step_graph().source
    nodes, edges, clusters = parse_dot(src)
    assert "rankdir=TB" in src
    title = re.search(r'graph \[label="([^"]*)" labelloc=t', src)[1]
    assert "first training step" in title and f"J = {J:.6g}" in title
    labels = {lines_of(a["label"])[0].split("  ")[0]: lines_of(a["label"])
              for a in nodes.values() if "label" in a}
    for name in ("W1", "W2", "W3"):
        assert name in labels and not any("hidden1" in ln for ln in labels[name])
    for k in (4, 3, 2):
        body = labels[f"z{k}"]
        (i,) = [n for n, ln in enumerate(body) if ln.startswith("grad")]
        assert body[i] == f"grad = dJ/dz{k} = δ{k}"
        shown = np.array([float(v) for ln in body[i + 1:] for v in ln.strip("[] ").split()])
        np.testing.assert_allclose(shown, deltas[f"z{k}"].ravel(), rtol=6e-3)  # 3 digits
    numbers = re.findall(r"(?<![\w.])-?\d+\.?\d*(?:e[-+]\d+)?", " ".join(
        ln for body in labels.values() for ln in body[1:]))
    assert numbers and not [v for v in numbers if v.endswith(".")]  # never "0." or "-0."
    assert any("e-0" in v for v in numbers)  # small gradients in exponent form
    # the legend lists only what is drawn
    legend = {k for k in nodes if k.startswith("legend_")}
    assert legend == {"legend_output", "legend_parameter", "legend_intermediate",
                      "legend_constant", "legend_op"}


@needs_dot
def test_demo_writes_the_first_step_at_most_1200_px_wide(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograd_nn", "demo", "--epochs", "3",
                           "--no-progress", "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    root = ET.parse(tmp_path / "graph.svg").getroot()
    width_pt = float(root.get("width").removesuffix("pt"))
    height_pt = float(root.get("height").removesuffix("pt"))
    assert width_pt * 96 / 72 <= 1200 and height_pt > width_pt  # top to bottom
    texts = [t.text or "" for t in root.iter() if t.tag.endswith("text")]
    J, _ = hand_first_step()
    assert any(f"J = {J:.6g}" in t for t in texts)  # the first step, not the 3rd epoch
    assert any("grad = dJ/dz4 = δ4" in t for t in texts)
    assert not any("hidden1.weight" in t for t in texts)


def test_replay_pictures_point_gradient_edges_backward_with_a_legend():
    X = ag.Tensor(np.ones((2, 3)), name="X")
    W = ag.Tensor(np.full((3, 1), 0.5), requires_grad=True, name="W")
    J = ag.sigmoid(X @ W).sum()
    J.name = "J"
    tr = ag.trace_backward(J)
    for k in range(1, len(tr) + 1):
        nodes, edges, _ = parse_dot(tr.draw(step=k, legend=True).source)
        grad_edges = [e for e in edges if "label" in e[2] and not e[0].startswith("legend")]
        assert all(a.get("dir") == "back" for _, _, a in grad_edges)
        assert len(grad_edges) == sum(g is not None for s in tr.steps[:k] for g in s.sent)
        assert "legend_current" in nodes and "legend_parameter" not in nodes  # W is a leaf
        assert ("legend_grad_from" in nodes) == bool(grad_edges)
        assert nodes["legend_current"]["fillcolor"] == "#ffcc80"
    # the full picture has no current step, so no such legend entry
    nodes, _, _ = parse_dot(tr.draw(legend=True).source)
    assert "legend_current" not in nodes and "legend_parameter" not in nodes
