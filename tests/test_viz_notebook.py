"""What a notebook shows: print_graph once, HTML tables for traces, gradient checks and
gradient tables, traces indexed by name, graphs as SVG (or their DOT text and the install hint
when Graphviz's dot is missing, never a traceback)."""

import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
from test_viz import build_r1, hand_r1

import autograd_nn as ag
from autograd_nn.gradcheck import check_three_way, compare_gradients

IPython = pytest.importorskip("IPython")


class Cells(HTMLParser):
    """The text of every <td>/<th> of an HTML table, row by row, and the caption."""

    def __init__(self, text):
        super().__init__()
        self.rows, self.caption, self._cell, self._in_caption = [], "", None, False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell)
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._in_caption:
            self.caption += data


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    yield sh
    InteractiveShell.clear_instance()


def test_print_graph_as_the_last_line_of_a_cell_shows_once(shell, capsys):
    r = build_r1()
    shell.user_ns.update(ag=ag, J=r["J"], params=r["params"])
    shell.run_cell("ag.print_graph(J, params)", store_history=True)
    out = capsys.readouterr().out
    assert out.count("t0 J  () float64  [output]") == 1
    assert "Out[" not in out


def test_trace_indexed_by_name_and_an_informative_repr():
    r = build_r1()
    tr = ag.trace_backward(r["J"], params=r["params"])
    h = hand_r1(r["X"], r["y"], r["W"])
    np.testing.assert_allclose(tr["z4"], h["d4"], rtol=1e-12)
    np.testing.assert_array_equal(tr["W1"], tr[r["params"]["W1"]])
    assert tr[0].label == "J" and tr["t1"].shape == ()  # ids of unnamed tensors work too
    with pytest.raises(KeyError, match="no tensor .* called 'zz'; names: J, "):
        tr["zz"]
    with pytest.raises(TypeError, match="a tensor's name"):
        tr[1.5]
    text = repr(tr)
    assert "13 steps" in text and "z4" in text and "trace['name']" in text and "to_html" in text


def test_html_table_of_a_trace_matches_its_steps():
    r = build_r1()
    tr = ag.trace_backward(r["J"], params=r["params"])
    cells = Cells(tr._repr_html_())
    head, body = cells.rows[0], cells.rows[1:]
    assert head[:3] == ["step", "tensor", "op"] and "13 steps" in cells.caption
    assert len(body) == 12 + 3  # one row per gradient sent, one per leaf
    starts = [row for row in body if row[0]]
    assert [row[1] for row in starts] == [s.label for s in tr]
    (z4,) = [row for row in starts if row[1] == "z4"]
    nums = [float(v) for v in z4[3].split("[", 1)[1].rstrip("]").split()]
    np.testing.assert_allclose(nums, tr["z4"].ravel(), rtol=1e-3)


def test_html_tables_of_gradchecks_and_gradient_tables():
    x = ag.Tensor(np.array([0.3, -0.5, 0.8]), requires_grad=True)
    ok = ag.gradcheck(lambda t: (t * t).sum(), [x])
    cells = Cells(ok._repr_html_())
    assert cells.caption == "gradcheck passed" and cells.rows[1][4] == "ok"

    class Wrong(ag.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * 3.3 * a ** 2

    bad = ag.gradcheck(lambda t: Wrong.apply(t).sum(), [x], raise_exception=False)
    text = bad._repr_html_()
    cells = Cells(text)
    assert cells.caption.startswith("gradcheck FAILED") and "FAILED" in cells.rows[1][4]
    assert "#ffcdd2" in text  # the failed row is red
    a = {"w": np.ones(3), "v": np.zeros(2)}
    b = {"w": np.ones(3), "v": np.array([0.0, 1.0])}
    rows = Cells(compare_gradients(a, b)._repr_html_()).rows
    assert rows[1][0] == "w" and rows[1][4] == "yes" and rows[2][4] == "NO"
    r = build_r1()
    h = hand_r1(r["X"], r["y"], r["W"])
    table = check_three_way(None, r["params"],
                            {"W1": h["dW1"], "W2": h["dW2"], "W3": h["dW3"]},
                            engine={"W1": h["dW1"], "W2": h["dW2"], "W3": h["dW3"]},
                            numerical={"W1": h["dW1"], "W2": h["dW2"], "W3": h["dW3"]})
    cells = Cells(table._repr_html_())
    assert [row[0] for row in cells.rows[1:]] == ["W1", "W2", "W3"]
    assert all(row[-1] == "yes" for row in cells.rows[1:])


def test_a_graph_without_dot_displays_its_source_and_the_hint(shell, tmp_path, monkeypatch):
    r = build_r1()
    g = ag.draw_graph(r["J"], r["params"])
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot`
    data, _ = shell.display_formatter.format(g)
    assert "image/svg+xml" not in data
    assert "apt-get install graphviz" in data["text/plain"] and g.source in data["text/plain"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is missing")
def test_a_graph_displays_as_svg(shell):
    r = build_r1()
    data, _ = shell.display_formatter.format(ag.draw_graph(r["J"], r["params"]))
    assert data["image/svg+xml"].lstrip().startswith("<?xml") and "W1" in data["image/svg+xml"]
