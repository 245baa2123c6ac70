"""The benchmark workloads, in report order (see each module's docstring)."""

from __future__ import annotations

from dataclasses import replace

from .common import BASELINE, ENGINES, Target, Workload
from .compiled import CompiledChain, CompiledMLP, CompiledW1, CompiledW4
from .conv import C1, C2
from .importtime import IMPORT
from .jaxeng import builders as jax_builders
from .memory import MEMORY
from .w1 import WORKLOAD as W1
from .w2 import W2, W2S
from .w3 import W3, W3_BIG
from .w4 import W4


def _with_compiled(w: Workload, impl: type) -> Workload:
    return replace(w, builders={**w.builders, "compiled": impl})


W1, W2S, W2, W3, W4 = (_with_compiled(w, c) for w, c in (
    (W1, CompiledW1), (W2S, CompiledMLP), (W2, CompiledMLP), (W3, CompiledChain),
    (W4, CompiledW4)))


def _with_jax(w: Workload) -> Workload:
    return replace(w, builders={**w.builders, **jax_builders(w.key)})


W1, W2S, W2, W3, W4, C1, C2 = (_with_jax(w) for w in (W1, W2S, W2, W3, W4, C1, C2))

WORKLOADS: dict[str, Workload] = {
    w.key: w for w in (W1, W2S, W2, W3, W3_BIG, W4, C1, C2, MEMORY, IMPORT)
}

__all__ = ["BASELINE", "ENGINES", "Target", "WORKLOADS", "Workload"]
