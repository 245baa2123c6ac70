"""The benchmark workloads, in report order (see each module's docstring)."""

from __future__ import annotations

from .common import BASELINE, ENGINES, Target, Workload
from .importtime import IMPORT
from .memory import MEMORY
from .w1 import WORKLOAD as W1
from .w2 import W2, W2S
from .w3 import W3, W3_BIG
from .w4 import W4

WORKLOADS: dict[str, Workload] = {
    w.key: w for w in (W1, W2S, W2, W3, W3_BIG, W4, MEMORY, IMPORT)
}

__all__ = ["BASELINE", "ENGINES", "Target", "WORKLOADS", "Workload"]
