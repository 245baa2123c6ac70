"""The compiled speed-up the ``autograd-nn demo`` command reports, measured on the spot."""

from __future__ import annotations

import time

import numpy as np


def r1_speedup(steps: int = 300) -> str:
    """Train R1 for ``steps`` steps eagerly and compiled from the same start; one line with both
    times per step and whether the two runs ended with identical weights."""
    from .. import optim
    from ..datasets import truth_table_r1
    from ..reference import r1
    from ..tensor import Tensor
    from .api import compile

    X, y = (Tensor(a) for a in truth_table_r1())
    per_step, weights = {}, {}
    for mode in ("eager", "compiled"):
        model = r1.engine_model()
        opt = optim.SGD(model.parameters(), lr=r1.LEARNING_RATE)

        def step(m, X, y, opt=opt):  # noqa: ANN001, ANN202
            opt.zero_grad()
            J = r1.engine_cost(m, X, y)
            J.backward()
            opt.step()
            return J

        fn = compile(step) if mode == "compiled" else step
        fn(model, X, y)  # the compiled version traces here
        t0 = time.perf_counter()
        for _ in range(steps):
            fn(model, X, y)
        per_step[mode] = (time.perf_counter() - t0) / steps
        weights[mode] = [p.numpy().copy() for p in model.parameters()]
    same = all(np.array_equal(a, b) for a, b in zip(weights["eager"], weights["compiled"]))
    e, c = per_step["eager"] * 1e6, per_step["compiled"] * 1e6
    return (f"ag.compile: the same R1 training step takes {e:.0f} µs eager and {c:.0f} µs "
            f"compiled ({e / c:.1f}x faster on this machine); weights after {steps + 1} steps "
            f"identical: {same}")
