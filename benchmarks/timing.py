"""Timing in the style of ``timeit``: an inner loop long enough for one sample to take about
``sample_time`` seconds, then ``repeat`` samples, each the mean time of one call in that loop.

The garbage collector stays enabled (unlike timeit's default): an autograd engine creates many
objects per step, and the collections they cause are part of what a user pays.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def autorange(fn: Callable[[], None], sample_time: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... calls that takes at least ``sample_time``."""
    n = 1
    while True:
        for k in (1, 2, 5):
            calls = n * k
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            if time.perf_counter() - t0 >= sample_time:
                return calls
        n *= 10


def sample(fn: Callable[[], None], sample_time: float, repeat: int) -> dict:
    """``repeat`` samples of the time per call of ``fn`` (seconds), with the inner loop size."""
    inner = autorange(fn, sample_time)
    gc.collect()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return {"samples": samples, "inner": inner, **summarize(samples)}


def summarize(samples: list[float]) -> dict:
    """Median, quartiles (inclusive method) and extremes of a list of samples."""
    if len(samples) >= 2:
        q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    else:
        q1 = q3 = samples[0]
    return {"median": statistics.median(samples), "q1": q1, "q3": q3,
            "min": min(samples), "max": max(samples)}
