"""examples/scipy_optimize.py: scipy.optimize.minimize(jac=True) with value_and_grad on
objectives written with numpy calls reaches the same minima as scipy's finite-difference run,
in fewer evaluations. Skipped without scipy (the ``scipy`` extra)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("scipy")
SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "scipy_optimize.py"


def test_scipy_example_matches_scipys_finite_difference_run(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "reaches the minimum at (1, ..., 1): True" in out
    assert "agrees with numpy.linalg.lstsq: True" in out
    gaps = [float(g) for g in re.findall(r"difference between the two minimisers: (\S+)", out)]
    assert len(gaps) == 3 and max(gaps) < 1e-4
    exact = [int(n) for n in re.findall(r"engine gradient\): .* (\d+) evaluations", out)]
    numeric = [int(n) for n in re.findall(r"differences\):\s+f = .* (\d+) evaluations", out)]
    assert len(exact) == len(numeric) == 3
    assert all(e < n for e, n in zip(exact, numeric))
