"""Pictures never show something other than what they were given (issue 10, files and
pictures): every DOT label shows its text literally, and the text tree stays linear in the
graph's size at any depth."""

import io
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.viz import draw_graph, print_graph, trace_backward

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is missing")

# names Graphviz would read as escapes, entities, HTML or an unterminated string
NASTY = ["a\\N", "b\\G", "tail\\", "x &amp; y", "&lt;b&gt;", "<b>bold</b>", 'say "hi"',
         "c\\l\\n", "back\\\\slash"]


def svg_texts(source):
    """The text elements of the SVG that ``dot`` makes of ``source`` (it must accept it)."""
    done = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    root = ET.fromstring(done.stdout)
    return ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")]


def shown(texts, name):
    """Whether a line of the picture starts with exactly ``name``."""
    return any(t == name or t.startswith(name + "  ") or t.startswith(name + " ")
               for t in texts)


@needs_dot
@pytest.mark.parametrize("name", NASTY)
def test_tensor_and_parameter_names_are_shown_literally(name):
    x = ag.Tensor([1.0, 2.0], requires_grad=True, name=name)
    w = ag.Tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    y.name = name + "!"
    texts = svg_texts(draw_graph(y, params={name + "?": w}).source)
    assert shown(texts, name) and shown(texts, name + "?") and shown(texts, name + "!")


@needs_dot
@pytest.mark.parametrize("name", ["m\\N", "tail\\", "q &amp; r", 'k"v'])
def test_cluster_labels_are_shown_literally(name):
    Lin = type(name.replace("\\", "B").replace('"', "Q").replace("&", "A").replace(";", "")
               .replace(" ", "_"), (nn.Linear,), {})
    model = nn.Sequential(Lin(2, 3))
    model.add_module(name, nn.Linear(3, 1))  # a module attribute with a nasty name
    x = ag.Tensor(np.ones((4, 2)))
    out = model(x).sum()
    texts = svg_texts(draw_graph(out, params=model).source)
    assert f"{name} (Linear)" in texts, texts


@needs_dot
def test_nul_and_control_characters_are_shown_as_escapes_and_the_dot_stays_valid():
    x = ag.Tensor([1.0], requires_grad=True, name="nul\x00byte")
    y = x * 2
    y.name = "tab\there\nnewline\x1b"
    texts = svg_texts(draw_graph(y).source)
    assert shown(texts, "nul\\x00byte")
    assert shown(texts, "tab\\there\\nnewline\\x1b")


@needs_dot
def test_title_notes_and_trace_pictures_are_literal():
    x = ag.Tensor([1.0, 2.0], requires_grad=True, name="x\\G")
    y = (x * x).sum()
    y.name = "J&amp;"
    texts = svg_texts(draw_graph(y, title="step \\N & co\\", notes={x: "note \\E"}).source)
    assert "step \\N & co\\" in texts and "note \\E" in texts
    tr = trace_backward(y)
    for pic in (tr.draw(legend=True), tr.draw(step=3, legend=True)):
        texts = svg_texts(pic.source)
        assert shown(texts, "x\\G") and shown(texts, "J&amp;")
        assert any("grad = dJ&amp;/dx\\G" in t for t in texts)


def test_dot_source_of_a_trailing_backslash_is_balanced():
    """Without the dot program: the quoted strings of every line are closed."""
    x = ag.Tensor([1.0], requires_grad=True, name="end\\")
    model = nn.Sequential()
    model.add_module("mod\\", nn.Linear(1, 1))
    src = draw_graph(model(x).sum(), params=model, title="t\\").source
    for line in src.splitlines():
        body = line.replace("\\\\", "").replace('\\"', "")
        assert body.count('"') % 2 == 0, line


# ---- the text tree -------------------------------------------------------------------------
def chain(n):
    x = ag.Tensor(0.3, requires_grad=True, name="x")
    y = x
    for _ in range(n):
        y = ag.sin(y)
    return y


def test_text_tree_is_linear_in_the_chain_length():
    n = 5_000
    buf = io.StringIO()
    print_graph(chain(n), max_depth=10**6, show_data=False, show_grad=False, file=buf)
    lines = buf.getvalue().splitlines()
    assert len(lines) == n + 1
    # quadratic indentation would need ~3 * n**2 / 2 = 37.5 million characters
    assert len(buf.getvalue()) < 120 * (n + 1)
    assert max(len(ln) for ln in lines) <= 120
    assert lines[-1].startswith(f"[depth {n}] ") and lines[-1].endswith("x  () float64  [leaf]")


def test_text_tree_of_a_100000_op_chain_at_any_depth():
    n = 100_000
    buf = io.StringIO()
    print_graph(chain(n), max_depth=10**6, show_data=False, file=buf)
    text = buf.getvalue()
    assert text.count("\n") == n + 1 and len(text) < 120 * (n + 1)
    assert f"[depth {n // 2}] " in text
