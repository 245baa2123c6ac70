"""The viz examples run as written and produce what they promise."""

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is missing")


def run(script, *args, cwd):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


@needs_dot
def test_r1_graph_example_writes_a_png_and_an_svg(tmp_path):
    code, out = run("viz_r1_graph.py", cwd=tmp_path)
    assert code == 0, out
    png = (tmp_path / "r1_graph.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    code, out = run("viz_r1_graph.py", "--out", "r1.svg", cwd=tmp_path)
    assert code == 0, out
    text = "".join(t.text or "" for t in ET.parse(tmp_path / "r1.svg").iter())
    assert "W1" in text and "z4" in text and "grad" in text


def test_r1_graph_example_without_dot_writes_the_source(tmp_path):
    env_path = tmp_path / "bin"
    env_path.mkdir()
    done = subprocess.run([sys.executable, str(EXAMPLES / "viz_r1_graph.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": str(env_path), "HOME": str(tmp_path),
                               **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})
    assert done.returncode == 1
    assert "apt-get install graphviz" in done.stdout
    assert "matmul" in (tmp_path / "r1_graph.gv").read_text()


def test_r1_replay_example_shows_the_deltas_equal(tmp_path):
    code, out = run("viz_r1_replay.py", cwd=tmp_path)
    assert code == 0, out
    assert out.count("bitwise equal: True") == 3
    for k in (4, 3, 2):
        assert f"δ{k} (by hand, numpy)" in out and f"dJ/dz{k} (replay)" in out
    assert "g @ W3ᵀ" in out


@needs_dot
def test_digits_collapsed_example(tmp_path):
    code, out = run("viz_digits_collapsed.py", "--out", "mlp.svg", cwd=tmp_path)
    assert code == 0, out
    text = " ".join(t.text or "" for t in ET.parse(tmp_path / "mlp.svg").iter())
    for expected in ("0 (Linear)", "weight (64, 256)", "4 (Linear)", "weight (128, 10)",
                     "1 (ReLU)"):
        assert expected in text
