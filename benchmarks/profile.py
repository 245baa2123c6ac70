"""Where an engine's time goes on a workload: ``python -m benchmarks.profile W1 W3``.

Runs the workload's step in a loop for a few seconds under py-spy (a sampling profiler, so the
Python code runs at full speed) and splits the samples of the step by the innermost Python frame:
time the interpreter spends in that function itself ("python") and time in C code it called
directly ("native": numpy's ufunc machinery and kernels, BLAS, libm; needs ``--native``, which
slows sampling down but not the ratios). The same samples are also summed by part of the engine
(apply, the backward loop, Tensor methods, the ops' rules, numpy's Python wrappers). Times are
given per step and per recorded op, from the step time and op count measured in a run of the
same step without the profiler (sampling slows the process; the shares are what it measures).

Like the benchmark's workers, the profiled process runs with one BLAS thread.
Without py-spy, falls back to cProfile (deterministic, so it inflates Python-heavy code).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.workloads import WORKLOADS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY_FRAME = re.compile(r"(.*) \((.*\.py):(\d+)\)$")
PARTS = (  # (part, test on the innermost Python frame's file and function)
    ("Function.apply (record a node)", lambda f, fn: f.endswith("autograd_nn/function.py")),
    ("run_backward (engine loop)", lambda f, fn: f.endswith("autograd_nn/engine.py")),
    ("Tensor methods (operators, backward(), in-place, creation)",
     lambda f, fn: f.endswith(("autograd_nn/tensor.py", "autograd_nn/tensor_methods.py"))),
    ("ops: forward/backward rules (Python part)", lambda f, fn: "autograd_nn/ops/" in f),
    ("grad mode (no_grad) and other engine code", lambda f, fn: "autograd_nn/" in f),
    ("numpy's Python-level functions", lambda f, fn: "numpy/" in f),
    ("the workload's own code", lambda f, fn: "benchmarks/" in f),
)


def child(key: str, engine: str, seconds: float, out: str) -> None:
    """Loop the step for ``seconds``; write steps, wall time and per-step call counts."""
    wl = WORKLOADS[key]
    impl = wl.builders[engine](wl.make_data("full"))
    impl.step()
    prof = cProfile.Profile()
    prof.runcall(impl.step)
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    counts = collections.Counter()
    for (file, _, func), (_, ncalls, *_rest) in stats.items():
        if "autograd_nn" in file:
            counts[func if func != "apply" else "Function.apply"] += ncalls
    steps, t0 = 0, time.process_time()  # CPU time: what the step costs on a busy machine
    while time.process_time() - t0 < seconds:
        impl.step()
        steps += 1
    wall = time.process_time() - t0
    Path(out).write_text(json.dumps({"steps": steps, "seconds": wall,
                                     "applies": counts.get("Function.apply", 0),
                                     "calls": counts.most_common(12)}))


def aggregate(raw: str) -> tuple[int, collections.Counter, collections.Counter]:
    """Samples inside ``step``: total, and per innermost Python frame the python and native
    shares (keys are (file, function)); ``nat[("lib", name)]`` also counts native samples by
    the library of the innermost native frame."""
    py, nat, total = collections.Counter(), collections.Counter(), 0
    for line in Path(raw).read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        start = next((i for i, f in enumerate(frames) if ".step (" in f), None)
        if start is None:
            continue
        frames, count = frames[start:], int(n)
        total += count
        j = max(i for i, f in enumerate(frames) if PY_FRAME.match(f))
        m = PY_FRAME.match(frames[j])
        key = (m.group(2), m.group(1))
        (py if j == len(frames) - 1 else nat)[key] += count
        if j < len(frames) - 1:
            lib = re.search(r"\(([^()]*)\)$", frames[-1])
            name = lib.group(1) if lib else "?"
            name = re.split(r"[-.]cpython|\.so|-[0-9a-f]{8}", name.split("/")[-1])[0]
            nat[("lib", name)] += count
    return total, py, nat


def part_of(file: str, func: str) -> str:
    return next((name for name, test in PARTS if test(file, func)), "other")


def report(key: str, info: dict, total: int, py: collections.Counter,
           nat: collections.Counter, top: int, native: bool) -> str:
    step_us = info["seconds"] / info["steps"] * 1e6
    ops = info["applies"] or 1
    us = step_us / max(total, 1)  # µs per sample, per step

    lines = [f"== {key}: {step_us:.1f} µs/step (CPU time), {info['applies']} Function.apply calls "
             "per step "
             f"({step_us / ops:.2f} µs per applied op, forward+backward+update); "
             f"{total} samples" + ("" if native else " (python only: run with --native to "
                                   "separate numpy's C time)")]
    by_part: collections.Counter = collections.Counter()
    for (file, func), n in py.items():
        by_part[part_of(file, func)] += n
    libs = {k[1]: n for k, n in nat.items() if k[0] == "lib"}
    nat = collections.Counter({k: n for k, n in nat.items() if k[0] != "lib"})
    nat_total = sum(nat.values())
    lines.append(f"{'part (python time in the innermost frame)':58} {'µs/step':>8} {'µs/op':>7} "
                 f"{'share':>6}")
    for name, n in by_part.most_common():
        lines.append(f"{name:58} {n * us:8.1f} {n * us / ops:7.2f} {100 * n / total:5.1f}%")
    if native:
        lines.append(f"{'native C (numpy ufuncs + kernels, BLAS, libm)':58} {nat_total * us:8.1f} "
                     f"{nat_total * us / ops:7.2f} {100 * nat_total / total:5.1f}%")
        for name, n in sorted(libs.items(), key=lambda kv: -kv[1])[:5]:
            lines.append(f"{'    of which ' + name:58} {n * us:8.1f} {n * us / ops:7.2f} "
                         f"{100 * n / total:5.1f}%")
    lines.append("")
    lines.append(f"{'function (innermost Python frame)':58} {'python':>8} {'native':>8}  µs/step")
    keys = sorted(set(py) | set(nat), key=lambda k: -(py[k] + nat[k]))
    for file, func in keys[:top]:
        short = file.split("site-packages/")[-1]
        lines.append(f"{func + ' (' + short + ')':58} {py[(file, func)] * us:8.1f} "
                     f"{nat[(file, func)] * us:8.1f}")
    lines.append("calls per step: " + ", ".join(f"{f} {n}" for f, n in info["calls"]))
    return "\n".join(lines)


def profile_one(key: str, engine: str, seconds: float, native: bool, rate: int, top: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        info_path, raw = os.path.join(tmp, "info.json"), os.path.join(tmp, "profile.raw")
        cmd = [sys.executable, "-m", "benchmarks.profile", "--child", key, "--engine", engine,
               "--seconds", str(seconds), "--info", info_path]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"  # as in the benchmark's workers (and CPU time counts every thread)
        spy = shutil.which("py-spy")
        if spy is None:
            return fallback(key, engine, top)
        prof_cmd = [spy, "record", "-r", str(rate), "-f", "raw", "-o", raw]
        prof_cmd += ["--native"] if native else []
        proc = subprocess.run(prof_cmd + ["--", *cmd], cwd=ROOT, env=env, capture_output=True,
                              text=True)
        if proc.returncode != 0 or not os.path.exists(raw):
            return f"py-spy failed ({proc.returncode}): {proc.stderr.strip()[-1000:]}"
        total, py, nat = aggregate(raw)
        # the step time from a run without the profiler (sampling, --native above all, slows
        # the process down; the shares it measures are what is kept)
        cmd[cmd.index("--seconds") + 1] = str(min(seconds, 2.0))
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        info = json.loads(Path(info_path).read_text())
        return report(key, info, total, py, nat, top, native)


def fallback(key: str, engine: str, top: int) -> str:
    """cProfile of 200 steps (no py-spy on PATH)."""
    wl = WORKLOADS[key]
    impl = wl.builders[engine](wl.make_data("full"))
    impl.step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(200 if key != "W3" else 5):
        impl.step()
    prof.disable()
    import io

    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return f"== {key} (cProfile: py-spy not found)\n" + buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workloads", nargs="*", default=["W1", "W2s", "W3"])
    p.add_argument("--engine", default="autograd_nn", choices=("autograd_nn", "numpy", "torch"))
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--native", action="store_true", help="sample C frames too (numpy's time)")
    p.add_argument("--rate", type=int, default=1000, help="samples per second")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--info", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        child(a.child, a.engine, a.seconds, a.info)
        return 0
    bad = [k for k in a.workloads if k not in WORKLOADS or WORKLOADS[k].kind != "timed"]
    if bad:
        timed = [k for k, w in WORKLOADS.items() if w.kind == "timed"]
        p.error(f"not a timed workload: {', '.join(bad)} (choose from {', '.join(timed)})")
    for key in a.workloads:
        print(profile_one(key, a.engine, a.seconds, a.native, a.rate, a.top), flush=True)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
