"""Import time: ``import autograd_nn`` in a fresh interpreter (numpy's own import included, since
a user pays for it), measured inside that process as elapsed time and as CPU time (robust on a
busy machine), median of several runs, after one untimed run that lets Python write the
bytecode caches an installed package would have.
numpy's import alone, autograd_nn's on top of an already imported numpy, and torch's (for
reference) are measured the same way."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from .common import Target, Workload

SNIPPETS = {
    "numpy": ("", "import numpy"),
    "autograd_nn": ("", "import autograd_nn"),
    "autograd_nn after numpy": ("import numpy", "import autograd_nn"),
    "torch": ("", "import torch"),
}

_CODE = """
import time
{pre}
t0, c0 = time.perf_counter(), time.process_time()
{stmt}
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def time_import(label: str, runs: int, env: dict | None = None, cwd: str | None = None) -> dict:
    """Median, min and max of ``runs`` fresh-interpreter import times for ``SNIPPETS[label]``
    (elapsed time; the same for CPU time under "cpu")."""
    pre, stmt = SNIPPETS[label]
    code = _CODE.format(pre=pre, stmt=stmt)
    env = dict(env or os.environ)
    # one untimed import that may write bytecode caches, as an installed package has them
    # (PYTHONDONTWRITEBYTECODE would otherwise make every run recompile changed sources)
    warm = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", stmt], capture_output=True, env=warm, cwd=cwd,
                   timeout=120)
    times, cpu = [], []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, cwd=cwd, timeout=120)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
        wall, cpu_time = proc.stdout.strip().splitlines()[-1].split()
        times.append(float(wall))
        cpu.append(float(cpu_time))
    return {**_stats(times), "cpu": _stats(cpu)}


def _stats(xs: list[float]) -> dict:
    return {"samples": xs, "median": statistics.median(xs), "min": min(xs), "max": max(xs)}


IMPORT = Workload(
    key="import",
    title="import time of autograd_nn (fresh process, numpy included)",
    make_data=lambda scale: {},
    builders={},
    kind="import",
    target=Target("< 0.15 s"),
)


if __name__ == "__main__":  # pragma: no cover - manual use
    print(json.dumps({k: time_import(k, 5) for k in SNIPPETS}, indent=1))
