"""Peak memory: a fresh process that imports one engine and runs 20 W2 steps; its peak resident
set size (VmHWM) is compared with the same process running the numpy baseline. Nothing else runs
in that process (no agreement check: W2 checks the same code)."""

from __future__ import annotations

import sys

from .common import Target, Workload
from .w2 import W2

STEPS = {"check": 1, "quick": 2, "full": 20}


def peak_rss_bytes() -> int:
    """This process's peak resident set size: /proc/self/status VmHWM on Linux, else getrusage."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def current_rss_bytes() -> int:
    """This process's resident set size now (VmRSS; falls back to the peak)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return peak_rss_bytes()


def make_data(scale: str) -> dict:
    d = W2.make_data(scale)
    d["steps"] = STEPS[scale]
    return d


MEMORY = Workload(
    key="RSS",
    title="peak RSS of a process: import + 20 W2 steps",
    make_data=make_data,
    builders=W2.builders,
    kind="memory",
    target=Target("within 10 MiB of numpy"),
)
