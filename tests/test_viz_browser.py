"""The backward-pass stepper page in a real headless browser (Debian's chromium driven by
playwright): it opens from file:// with no network, steps with the buttons and the arrow keys,
and shows the trace's own numbers. Skipped only when chromium or playwright is missing."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.reference import r1

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                        else None)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def numbers(page, selector):
    """The numbers of the matrix table ``selector`` as shown, as a float array."""
    rows = page.eval_on_selector(selector, "t => [...t.rows].map(r => [...r.cells].map("
                                           "c => c.textContent))")
    return np.array([[float(v) for v in row] for row in rows])


def check_step(page, trace, k, hand=None, graph=True):
    """The page shows step k (0-based) of ``trace``: title, highlighted node, numbers."""
    s = trace.steps[k]
    assert page.inner_text("#where") == f"step {k + 1} / {len(trace)}"
    assert page.inner_text("#step-title").startswith(f"step {k + 1}: {s.label}")
    shown = numbers(page, "table[data-role=upstream]")
    np.testing.assert_allclose(shown.ravel(), s.upstream.ravel(), rtol=1e-5, atol=1e-300)
    current = page.eval_on_selector_all(
        "#graph g.node.current", "gs => gs.map(g => g.querySelector('title').textContent)")
    assert (trace.key_of(s.tensor) in current) == graph
    sends = [i for i, g in enumerate(s.sent) if g is not None]
    blocks = page.query_selector_all("div[data-role=send]")
    assert len(blocks) == len(sends)
    for block, i in zip(blocks, sends):
        assert block.get_attribute("data-operand") == s.operands[i]
        sent = block.eval_on_selector("table[data-role=sent]", "t => [...t.rows].map(r => "
                                      "[...r.cells].map(c => Number(c.textContent)))")
        np.testing.assert_allclose(np.array(sent).ravel(), s.sent[i].ravel(), rtol=1e-5)
        assert block.query_selector("p[data-role=rule]").inner_text() == s.local[i].rule
    if hand is not None:
        np.testing.assert_allclose(numbers(page, "table[data-role=hand]").ravel(),
                                   hand.ravel(), rtol=1e-5)
        assert "identical bit for bit" in page.inner_text("p[data-role=hand-diff]")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is missing")
def test_r1_stepper_from_the_demo(browser, tmp_path):
    out = tmp_path / "r1.html"
    done = subprocess.run([sys.executable, "-m", "autograd_nn", "demo", "--epochs", "2",
                           "--no-progress", "--out", str(tmp_path), "--html", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    step = r1.first_step()
    trace, deltas = step["trace"], step["deltas"]
    page = browser.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.resolve().as_uri())
    assert requests == [out.resolve().as_uri()]  # nothing else is fetched
    check_step(page, trace, 0)
    assert page.is_disabled("#prev") and not page.is_disabled("#next")
    page.click("#next")
    check_step(page, trace, 1)
    for k in range(2, len(trace)):
        page.keyboard.press("ArrowRight")
        label = trace.steps[k].label
        hand = deltas[f"delta{label[1]}"] if label in ("z4", "z3", "z2") else None
        check_step(page, trace, k, hand)
    assert page.is_disabled("#next")
    page.keyboard.press("ArrowRight")  # stays on the last step
    check_step(page, trace, len(trace) - 1)
    page.keyboard.press("ArrowLeft")
    page.click("#prev")
    check_step(page, trace, len(trace) - 3)
    done_nodes = page.eval_on_selector_all("#graph g.node.done", "gs => gs.length")
    assert done_nodes == len(trace) - 3
    assert not errors
    page.close()


def test_stepper_without_dot_shows_the_hint_and_the_numbers(browser, tmp_path, monkeypatch):
    x = ag.Tensor([0.5, -1.5], requires_grad=True, name="x")
    y = (ag.tanh(x) * x).sum()
    y.name = "L"
    trace = ag.trace_backward(y)
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot`
    path = trace.to_html(tmp_path / "t.html", hand={"x": ("by hand", trace["x"])})
    page = browser.new_page()
    page.goto(path.resolve().as_uri())
    assert "apt-get install graphviz" in page.inner_text("#graph")
    check_step(page, trace, 0, graph=False)
    for k in range(1, len(trace)):
        page.keyboard.press("ArrowRight")
        check_step(page, trace, k, trace["x"] if trace.steps[k].label == "x" else None,
                   graph=False)
    page.close()
