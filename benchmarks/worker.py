"""The child process of the runner: for one engine, check each workload against the numpy
baseline, then time it (or run it once, or measure its memory), and print one JSON line.

``python -m benchmarks.worker --engine autograd_nn --workloads W1,W3 --scale full``

With ``--serve`` (one timed workload) the worker checks, warms up, prints a ready line and then
takes commands on stdin, one per line: ``calibrate`` (size the inner loop), ``sample`` (time one
sample), ``finish`` (print the result and exit). The runner uses this to interleave the samples
of all engines of a workload in time, so that a change in the machine's background load hits
every engine alike instead of whichever ran at that moment.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import traceback
from typing import Any

import numpy as np

from .timing import autorange, sample, summarize
from .workloads import BASELINE, WORKLOADS, Workload
from .workloads.common import Skip, compare_results
from .workloads.memory import current_rss_bytes, peak_rss_bytes

MARK = "BENCH-RESULT "


def check(wl: Workload, engine: str, data: dict) -> dict:
    """One step of the engine and of the baseline from the same initial arrays, compared."""
    ref_impl = wl.builders[BASELINE](data)
    ref_impl.step()
    ref = ref_impl.results()
    if engine == BASELINE:
        finite = all(np.all(np.isfinite(v)) for v in ref.values())
        return {"ok": bool(finite), "errors": {}, "tolerance": 0.0, "keys": sorted(ref)}
    impl = wl.builders[engine](data)
    impl.step()
    dtype = next(v.dtype for v in ref.values() if v.dtype.kind == "f")
    ok, errors, tol = compare_results(impl.results(), ref, dtype)
    return {"ok": ok, "errors": errors, "tolerance": tol, "keys": sorted(ref)}


def run_timed(wl: Workload, engine: str, scale: str, repeat: int, sample_time: float) -> dict:
    data = wl.make_data(scale)
    out: dict[str, Any] = {"check": check(wl, engine, data)}
    if not out["check"]["ok"]:
        return out
    impl = wl.builders[engine](data)
    if hasattr(impl, "compile_seconds"):
        out["compile_seconds"] = impl.compile_seconds
    if wl.ops is not None:
        out["ops"] = wl.ops(data)
    if scale == "full":
        impl.step()  # warm-up (first-call costs: imports, caches, allocator)
        out["timing"] = sample(impl.step, sample_time, repeat)
    else:
        t0 = time.perf_counter()
        impl.step()
        out["one_step"] = time.perf_counter() - t0
    return out


def run_once(wl: Workload, engine: str, scale: str) -> dict:
    """Check on the small 'check' size, then one run at ``scale``: wall time and peak RSS."""
    out: dict[str, Any] = {"check": check(wl, engine, wl.make_data("check"))}
    if not out["check"]["ok"]:
        return out
    data = wl.make_data(scale)
    impl = wl.builders[engine](data)
    rss0 = current_rss_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    impl.step()
    t1, c1 = time.perf_counter(), time.process_time()
    result = impl.results()
    del impl  # frees the whole graph: must not overflow the stack either
    t2, c2 = time.perf_counter(), time.process_time()
    out.update({
        "ops": wl.ops(data) if wl.ops else None, "seconds": t1 - t0, "free_seconds": t2 - t1,
        "cpu_seconds": c1 - c0, "cpu_free_seconds": c2 - c1,
        "rss_before": rss0, "peak_rss": peak_rss_bytes(),
        "finite": bool(all(np.all(np.isfinite(v)) for v in result.values())),
    })
    return out


def run_memory(wl: Workload, engine: str, scale: str) -> dict:
    """Build the engine's W2 and run its steps; nothing else in the process."""
    data = wl.make_data(scale)
    steps = int(data.pop("steps"))
    impl = wl.builders[engine](data)
    rss_import = current_rss_bytes()
    for _ in range(steps):
        impl.step()
    return {"steps": steps, "rss_after_setup": rss_import, "peak_rss": peak_rss_bytes()}


def emit(message: dict) -> None:
    print(MARK + json.dumps(message), flush=True)


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def serve(engine: str, key: str, sample_time: float, threads: int, clock: str) -> None:
    """Check and warm up ``key`` on ``engine``, then time samples as the runner asks, with the
    process's CPU time ("cpu") or elapsed time ("wall")."""
    timer = CLOCKS[clock]
    wl = WORKLOADS[key]
    try:
        setup_engine(engine, threads)
        data = wl.make_data("full")
        result: dict[str, Any] = {"check": check(wl, engine, data)}
        if wl.ops is not None:
            result["ops"] = wl.ops(data)
        if not result["check"]["ok"]:
            emit({"done": result})
            return
        impl = wl.builders[engine](data)
        if hasattr(impl, "compile_seconds"):
            result["compile_seconds"] = impl.compile_seconds
        impl.step()  # warm-up (first-call costs: imports, caches, allocator)
        impl.step()
    except ImportError as e:
        emit({"done": {"unavailable": str(e)}})
        return
    except Skip as e:
        emit({"done": {"skipped": str(e)}})
        return
    except Exception:  # noqa: BLE001 - reported to the runner, which fails the run
        emit({"done": {"error": traceback.format_exc()}})
        return
    emit({"ready": True})
    inner, samples = 1, []
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "calibrate":
            inner = autorange(impl.step, sample_time)
            gc.collect()
            emit({"inner": inner})
        elif cmd == "sample":
            step = impl.step
            t0 = timer()
            for _ in range(inner):
                step()
            samples.append((timer() - t0) / inner)
            emit({"sample": samples[-1]})
        elif cmd == "finish":
            result["timing"] = {"samples": samples, "inner": inner, **summarize(samples)}
            emit({"done": result})
            return


def setup_engine(engine: str, threads: int) -> None:
    """Import the engine's library (if it has one) with ``threads`` threads: torch's own
    setting; XLA's flags for jax (which must be set before jax's first import)."""
    if engine == "torch":
        import torch

        torch.set_num_threads(threads)
    elif engine in ("jax", "jaxjit"):
        from .workloads.jaxeng import load_jax

        load_jax(threads)


def run(engine: str, keys: list[str], scale: str, repeat: int, sample_time: float,
        threads: int) -> dict:
    try:
        setup_engine(engine, threads)
    except Exception as e:  # noqa: BLE001 - any failure means the library is not usable here
        return {k: {"unavailable": f"import for {engine} failed: {e}"} for k in keys}
    results = {}
    for key in keys:
        wl = WORKLOADS[key]
        if engine not in wl.builders and wl.builders:
            continue  # e.g. no compiled version of this workload
        try:
            if wl.kind == "timed":
                results[key] = run_timed(wl, engine, scale, repeat, sample_time)
            elif wl.kind == "once":
                results[key] = run_once(wl, engine, scale)
            elif wl.kind == "memory":
                results[key] = run_memory(wl, engine, scale)
            else:
                raise ValueError(f"workload {key} of kind {wl.kind!r} does not run in a worker")
        except Skip as e:
            results[key] = {"skipped": str(e)}
        except Exception:  # noqa: BLE001 - reported to the runner, which fails the run
            results[key] = {"error": traceback.format_exc()}
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--engine", required=True)
    p.add_argument("--workloads", required=True)
    p.add_argument("--scale", choices=("quick", "full"), default="full")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--sample-time", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--serve", action="store_true", help="interleaved timing (see module doc)")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    a = p.parse_args(argv)
    if a.serve:
        serve(a.engine, a.workloads, a.sample_time, a.threads, a.clock)
        return 0
    res = run(a.engine, a.workloads.split(","), a.scale, a.repeat, a.sample_time, a.threads)
    emit(res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
