"""The benchmark runner: ``python -m benchmarks`` or ``python benchmarks/run.py`` (repo root).

For every workload and engine it starts a fresh worker process, which first checks that the
engine's loss and gradients after one step agree with the hand-written numpy baseline's (from the
same initial arrays), and only then times it. It prints medians, spreads and each engine's ratio
to the numpy baseline measured in the same run, with the issue's targets and whether they are met.
Timings are never asserted; the exit status is non-zero only if an engine disagrees with the
baseline or a worker fails.

Timed workloads run all their engines' processes at once, but only one of them runs at any
moment: the runner asks each in turn for one sample (see ``benchmarks/worker.py --serve``).

Clock: a sample is the worker process's CPU time by default (``--clock cpu``), not elapsed
time: on a shared machine a process that is descheduled for a while loses no CPU time, so the
medians depend far less on what else runs. With one thread per worker the two agree on an idle
machine; ``--clock wall`` measures elapsed time (the default with ``--threads`` > 1).

Threads: every worker runs with one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1 and
``torch.set_num_threads(1)``; change with ``--threads``): the engines are then compared on the
same single core, numpy's BLAS and torch's kernels alike, and the machine's other core absorbs
the noise of the rest of the system.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import report  # noqa: E402
from benchmarks.workloads import BASELINE, ENGINES, WORKLOADS  # noqa: E402
from benchmarks.workloads.common import OPTIONAL  # noqa: E402
from benchmarks.workloads.importtime import time_import  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MARK = "BENCH-RESULT "  # the worker's result line (benchmarks/worker.py)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Check, time and compare autograd_nn against hand-written numpy and PyTorch.",
    )
    p.add_argument("--quick", "--smoke", action="store_true",
                   help="one step of every workload per engine: correctness only, no timings")
    p.add_argument("--only", default="",
                   help=f"comma-separated workloads (of {','.join(WORKLOADS)})")
    p.add_argument("--engines", default=",".join(ENGINES),
                   help="comma-separated engines (numpy always runs: it is the baseline)")
    p.add_argument("--repeat", type=int, default=7, help="samples per (workload, engine)")
    p.add_argument("--sample-time", type=float, default=0.2,
                   help="seconds per sample (the inner loop is sized to reach it)")
    p.add_argument("--threads", type=int, default=1, help="threads per worker (BLAS, torch)")
    p.add_argument("--clock", choices=("cpu", "wall"), default=None,
                   help="what a sample measures: the worker's CPU time (default with one "
                        "thread: robust on a shared machine) or elapsed time (default otherwise)")
    p.add_argument("--import-runs", type=int, default=7, help="fresh processes per import time")
    p.add_argument("--jobs", type=int, default=2, help="parallel workers in --quick mode")
    p.add_argument("--json", metavar="PATH", help="write all raw results to PATH")
    p.add_argument("--markdown", action="store_true", help="print markdown tables")
    p.add_argument("--from-json", metavar="PATH",
                   help="print the tables of a run saved with --json (runs nothing)")
    a = p.parse_args(argv)
    keys = [k.strip() for k in a.only.split(",") if k.strip()] or list(WORKLOADS)
    lower = {k.lower(): k for k in WORKLOADS}
    unknown = [k for k in keys if k.lower() not in lower]
    if unknown:
        p.error(f"--only: unknown workload(s) {', '.join(unknown)}; choose from "
                f"{', '.join(WORKLOADS)}")
    a.keys = [lower[k.lower()] for k in keys]
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        p.error(f"--engines: unknown engine(s) {', '.join(bad)}; choose from {', '.join(ENGINES)}")
    # an engine whose library is not installed is left out (torch; jax: the `bench` extra)
    engines = [e for e in engines
               if e not in OPTIONAL or importlib.util.find_spec(OPTIONAL[e]) is not None]
    if a.clock is None:
        a.clock = "cpu" if a.threads == 1 else "wall"
    elif a.clock == "cpu" and a.threads > 1:
        p.error("--clock cpu adds up the CPU time of all threads; use --clock wall with --threads")
    a.engine_list = [BASELINE] + [e for e in engines if e != BASELINE]
    if a.repeat < 1 or a.sample_time <= 0 or a.threads < 1 or a.import_runs < 1:
        p.error("--repeat, --threads and --import-runs must be >= 1, --sample-time > 0")
    return a


def worker_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def run_worker(engine: str, keys: list[str], a: argparse.Namespace) -> dict:
    """One fresh process for ``engine`` running ``keys``; its results by workload."""
    cmd = [sys.executable, "-m", "benchmarks.worker", "--engine", engine,
           "--workloads", ",".join(keys), "--scale", "quick" if a.quick else "full",
           "--repeat", str(a.repeat), "--sample-time", str(a.sample_time),
           "--threads", str(a.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=worker_env(a.threads),
                          cwd=ROOT)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    tail = (proc.stderr or proc.stdout).strip()[-2000:]
    return {k: {"error": f"worker exited with status {proc.returncode}:\n{tail}"} for k in keys}


class Served:
    """A worker in ``--serve`` mode: one engine, one timed workload, commands over a pipe."""

    def __init__(self, engine: str, key: str, a: argparse.Namespace) -> None:
        self.engine = engine
        self.err = tempfile.TemporaryFile(mode="w+")
        cmd = [sys.executable, "-m", "benchmarks.worker", "--serve", "--engine", engine,
               "--workloads", key, "--sample-time", str(a.sample_time),
               "--threads", str(a.threads), "--clock", a.clock]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, env=worker_env(a.threads),
                                     cwd=ROOT)
        self.result: dict | None = None

    def ask(self, command: str | None) -> dict:
        """Send ``command`` (None: just read) and return the worker's next message."""
        try:
            if command is not None:
                self.proc.stdin.write(command + "\n")
                self.proc.stdin.flush()
            for line in self.proc.stdout:
                if line.startswith(MARK):
                    msg = json.loads(line[len(MARK):])
                    if "done" in msg:
                        self.close(msg["done"])
                    return msg
        except (BrokenPipeError, OSError):
            pass
        self.proc.wait()
        self.err.seek(0)
        tail = self.err.read().strip()[-2000:]
        msg = {"done": {"error": f"worker exited with status {self.proc.returncode}:\n{tail}"}}
        self.close(msg["done"])
        return msg

    def close(self, result: dict) -> None:
        self.result = result
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self.proc.wait()
        self.err.close()


def run_interleaved(key: str, a: argparse.Namespace) -> dict[str, Any]:
    """Time ``key`` on every engine, one process each, their samples taken in turns (the
    engine order rotating every round) so that drifting background load hits all alike."""
    workers = [Served(e, key, a) for e in engines_for(key, a)]
    live = [w for w in workers if "ready" in w.ask(None)]
    for w in list(live):
        if "done" in w.ask("calibrate"):
            live.remove(w)
    for r in range(a.repeat):
        for w in live[r % len(live):] + live[: r % len(live)] if live else []:
            if "done" in w.ask("sample"):
                live.remove(w)
    for w in live:
        w.ask("finish")
    return {w.engine: w.result for w in workers}


def engines_for(key: str, a: argparse.Namespace) -> list[str]:
    """The requested engines that have an implementation of workload ``key``."""
    builders = WORKLOADS[key].builders
    return [e for e in a.engine_list if e in builders or not builders]


def run_all(a: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Results as {workload: {engine: result}}, engines in baseline-first order."""
    keys = [k for k in a.keys if WORKLOADS[k].kind != "import"]
    results: dict[str, dict[str, Any]] = {k: {} for k in keys}
    if a.quick:  # one process per engine for all workloads, in parallel
        with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
            futures = {e: pool.submit(run_worker, e, keys, a) for e in a.engine_list}
        for e in a.engine_list:
            for k, r in futures[e].result().items():
                results[k][e] = r
        return results
    for k in keys:  # one process per (workload, engine)
        if WORKLOADS[k].kind == "timed":
            t0 = time.perf_counter()
            results[k] = run_interleaved(k, a)
            for e, r in results[k].items():
                log(f"{k:6} {e:12} {report.problem(r) or 'done'}\n")
            log(f"{k:6} took {time.perf_counter() - t0:.1f} s\n")
            continue
        for e in engines_for(k, a):  # memory and survival: one process at a time
            t0 = time.perf_counter()
            r = run_worker(e, [k], a)[k]
            results[k][e] = r
            log(f"{k:6} {e:12} {report.problem(r) or 'done'} ({time.perf_counter() - t0:.1f} s)\n")
    return results


def run_imports(a: argparse.Namespace) -> dict[str, Any]:
    if "import" not in a.keys:
        return {}
    runs = 1 if a.quick else a.import_runs
    labels = ["numpy", "autograd_nn", "autograd_nn after numpy"]
    if "torch" in a.engine_list and not a.quick:
        labels.append("torch")
    env = worker_env(a.threads)
    out = {}
    for label in labels:
        log(f"import {label} ...\n")
        out[label] = time_import(label, runs if label != "torch" else min(runs, 3), env, str(ROOT))
    return out


def environment(a: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    import numpy as np

    meta: dict[str, Any] = {
        "command": "python -m benchmarks " + " ".join(argv),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(), "numpy": np.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {cpu_model()}",
        "threads": a.threads, "clock": a.clock, "quick": a.quick, "repeat": a.repeat,
        "sample_time": a.sample_time, "engines": a.engine_list,
    }
    for lib in sorted({OPTIONAL[e] for e in a.engine_list if e in OPTIONAL}):
        meta[lib] = version_of(lib)
    try:
        meta["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                        capture_output=True, text=True).stdout.strip()
    except OSError:
        meta["commit"] = ""
    return meta


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def version_of(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def log(msg: str) -> None:
    sys.stderr.write(msg)
    sys.stderr.flush()


def failures(results: dict) -> list[str]:
    """(workload, engine) pairs whose worker failed or whose results disagree with numpy."""
    bad = []
    for key, per_engine in results.items():
        for engine, r in per_engine.items():
            if "error" in r or ("check" in r and not r["check"]["ok"]):
                bad.append(f"{key}/{engine}")
    return bad


def print_report(meta: dict, results: dict, imports: dict, markdown: bool) -> None:
    head = "" if markdown else "# "  # in markdown, plain lines (a '#' would make headings)
    cmd = f"`{meta['command']}`" if markdown else meta["command"]
    print(f"{head}{cmd}")
    print(f"{head}{meta['date']}  commit {meta.get('commit', '')}  Python {meta['python']}  "
          f"numpy {meta['numpy']}"
          + "".join(f"  {lib} {meta[lib]}" for lib in ("torch", "jax") if lib in meta)
          + f"  {meta['machine']}  threads={meta['threads']}")
    if meta["quick"]:
        print(f"{head}quick (smoke) mode: one step per workload and engine; correctness only, "
              "no timings")
    else:
        clock = "CPU time" if meta.get("clock") == "cpu" else "elapsed time"
        print(f"{head}medians of {meta['repeat']} samples of ~{meta['sample_time']} s each "
              f"({clock} per step, engines sampled in turns); ratios to the numpy baseline of "
              "this run")
    if not markdown:
        print("\n".join(report.check_summary(results)))
    print()
    print(report.render(results, imports, meta, markdown))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    a = parse_args(argv)
    if a.from_json:  # re-render a saved run
        saved = json.loads(Path(a.from_json).read_text())
        print_report(saved["meta"], saved["results"], saved["imports"], a.markdown)
        return 1 if saved["failures"] else 0
    meta = environment(a, argv)
    results = run_all(a)
    imports = run_imports(a)
    print_report(meta, results, imports, a.markdown)
    bad = failures(results)
    if a.json:
        Path(a.json).write_text(json.dumps({"meta": meta, "results": results,
                                            "imports": imports, "failures": bad}, indent=1))
    if bad:
        print(f"\nFAILED: {', '.join(bad)}", file=sys.stderr)
        for key, per_engine in results.items():
            for engine, r in per_engine.items():
                if "error" in r:
                    print(f"--- {key}/{engine}:\n{r['error']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
