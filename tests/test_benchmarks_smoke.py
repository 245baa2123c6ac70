"""The benchmark runner's smoke mode, and the correctness of what it measures against.

No timing is asserted anywhere. The runner trusts its numpy baselines as the reference, so the
baselines are checked here against central differences written in this file (float64)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402
from benchmarks.timing import summarize  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402
from benchmarks.workloads.common import compare_results  # noqa: E402
from benchmarks.workloads.w2 import LR as MLP_LR  # noqa: E402
from benchmarks.workloads.w2 import NumpyMLP, data_maker  # noqa: E402
from benchmarks.workloads.w3 import NumpyChain  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_JAX = importlib.util.find_spec("jax") is not None  # the `bench` extra


# ---- the runner end to end -------------------------------------------------------------------
def test_quick_mode_runs_every_workload_on_every_engine_and_all_agree(tmp_path):
    out = tmp_path / "quick.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["failures"] == []
    engines = (["numpy", "autograd_nn"] + (["torch"] if HAS_TORCH else [])
               + (["jax", "jaxjit"] if HAS_JAX else []))
    assert [e for e in ("torch", "jax", "jaxjit") if e in data["meta"]["engines"]] == \
        [e for e in engines if e in ("torch", "jax", "jaxjit")]  # absent libraries: left out
    worker_keys = [k for k, w in WORKLOADS.items() if w.kind != "import"]
    assert sorted(data["results"]) == sorted(worker_keys)
    for key in worker_keys:
        for engine in engines:
            if engine not in WORKLOADS[key].builders and WORKLOADS[key].builders:
                continue  # e.g. no jax version of W3-1M or of the RSS workload
            r = data["results"][key][engine]
            assert "error" not in r, (key, engine, r)
            if WORKLOADS[key].kind != "memory":
                assert r["check"]["ok"], (key, engine, r["check"])
    assert data["imports"]["autograd_nn"]["median"] > 0
    assert "agrees with numpy" in proc.stdout and "DISAGREES" not in proc.stdout


def test_script_form_markdown_and_only():
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--smoke", "--only", "w1,W4",
         "--engines", "autograd_nn", "--markdown"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| W1 | numpy |" in proc.stdout and "| W4 | numpy |" in proc.stdout
    assert "W2" not in proc.stdout.replace("W2,", "")  # only what was asked for ran
    assert "torch" not in proc.stdout.split("\n", 3)[-1]


def test_timed_mode_interleaves_samples_and_reports_ratios(tmp_path):
    out = tmp_path / "timed.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "W1", "--engines", "autograd_nn",
         "--repeat", "3", "--sample-time", "0.01", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())["results"]["W1"]
    for engine in ("numpy", "autograd_nn"):
        timing = data[engine]["timing"]
        assert len(timing["samples"]) == 3 and timing["inner"] >= 1
        assert timing["min"] <= timing["median"] <= timing["max"]
    assert "1.00x" in proc.stdout and "<= 1.5x numpy" in proc.stdout


def test_engines_of_missing_libraries_are_left_out(monkeypatch):
    from benchmarks import run

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("jax", "torch") else real(name, *a))
    a = run.parse_args(["--quick"])
    assert a.engine_list == ["numpy", "autograd_nn", "compiled"]


def test_importing_the_benchmarks_loads_no_engine_library():
    code = ("import sys, benchmarks.run, benchmarks.worker, autograd_nn; "
            "print(sorted(m for m in ('jax', 'torch') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_jaxjit_skips_the_full_chain_with_its_reason():
    from benchmarks.workloads.common import Skip

    wl = WORKLOADS["W3"]
    with pytest.raises(Skip, match="10,000-op chain"):  # raised before jax is imported
        wl.builders["jaxjit"](wl.make_data("full"))
    assert report.problem({"skipped": "why"}) == "skipped: why"
    from benchmarks.run import failures

    assert failures({"W3": {"jaxjit": {"skipped": "why"}}}) == []


@pytest.mark.skipif(not HAS_JAX, reason="jax is not installed (the `bench` extra)")
@pytest.mark.parametrize("engine", ["jax", "jaxjit"])
def test_jax_engines_agree_with_numpy_in_a_one_thread_worker(engine):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", "--engine", engine, "--workloads", "W1,W2s,W4",
         "--scale", "quick", "--threads", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith("BENCH-RESULT ")][-1]
    res = json.loads(line[len("BENCH-RESULT "):])
    for key in ("W1", "W2s", "W4"):
        check = res[key]["check"]
        assert check["ok"] and check["tolerance"] == 1e-10, (key, check)  # float64 throughout
        assert "loss" in check["keys"] and {"dW1", "da"} & set(check["keys"]), check["keys"]
        assert ("compile_seconds" in res[key]) == (engine == "jaxjit")


@pytest.mark.skipif(not HAS_JAX, reason="jax is not installed (the `bench` extra)")
def test_load_jax_enables_float64_and_one_xla_thread_before_import():
    code = ("import os, sys; from benchmarks.workloads.jaxeng import load_jax; "
            "assert 'jax' not in sys.modules; jax = load_jax(1); "
            "print(os.environ['XLA_FLAGS']); print(jax.numpy.ones(2).dtype)")
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    flags, dtype = proc.stdout.split()[-3:-1], proc.stdout.split()[-1]
    assert flags == ["--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"]
    assert dtype == "float64"


def test_unknown_workload_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "W9"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown workload" in proc.stderr and "W9" in proc.stderr


# ---- the agreement check ---------------------------------------------------------------------
def _one_step(key, engine, scale="check"):
    wl = WORKLOADS[key]
    impl = wl.builders[engine](wl.make_data(scale))
    impl.step()
    return impl.results()


def test_agreement_check_catches_a_small_gradient_error():
    ref = _one_step("W1", "numpy")
    got = _one_step("W1", "autograd_nn")
    ok, errors, _ = compare_results(got, ref, np.float64)
    assert ok and max(errors.values()) < 1e-12
    bad = dict(got, dW2=got["dW2"] * (1 + 1e-7))
    ok, errors, tol = compare_results(bad, ref, np.float64)
    assert not ok and errors["dW2"] > tol and errors["dW1"] <= tol
    missing = {k: v for k, v in got.items() if k != "dW3"}
    assert not compare_results(missing, ref, np.float64)[0]
    nan = dict(got, loss=np.array(np.nan))
    assert not compare_results(nan, ref, np.float64)[0]


def test_report_flags_disagreement_and_errors():
    results = {"W1": {
        "numpy": {"check": {"ok": True, "errors": {}, "tolerance": 0.0, "keys": []},
                  "timing": summarize([1e-5, 1.2e-5, 1.1e-5]) | {"samples": [], "inner": 1}},
        "autograd_nn": {"check": {"ok": False, "errors": {"dW1": 3e-3}, "tolerance": 1e-10,
                                  "keys": ["dW1"]}},
        "torch": {"error": "Traceback ..."},
    }}
    from benchmarks.run import failures

    assert failures(results) == ["W1/autograd_nn", "W1/torch"]
    rows = report.timing_rows(results, quick=False)
    text = " ".join(" ".join(r) for r in rows)
    assert "DISAGREES" in text and "dW1" in text and "ERROR" in text


def test_report_ratio_and_target():
    def timed(median):
        return {"check": {"ok": True, "errors": {}, "tolerance": 0.0, "keys": []},
                "timing": summarize([median] * 3) | {"samples": [median] * 3, "inner": 1}}

    results = {"W1": {"numpy": timed(10e-6), "autograd_nn": timed(14e-6), "torch": timed(13e-6)}}
    row = report.timing_rows(results, quick=False)[1]
    assert row[5] == "1.40x"
    assert row[7] == "NO"  # within 1.5x of numpy, but slower than torch
    results["W1"]["torch"] = timed(40e-6)
    assert report.timing_rows(results, quick=False)[1][7] == "yes"


def test_summarize_quartiles():
    s = summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["median"], s["q1"], s["q3"], s["min"], s["max"]) == (3.0, 2.0, 4.0, 1.0, 5.0)


# ---- the baselines against central differences (independent oracle) ------------------------
def _central_diff(f, arrays, name, index, eps=1e-6):
    a = arrays[name]
    old = a[index]
    a[index] = old + eps
    fp = f(arrays)
    a[index] = old - eps
    fm = f(arrays)
    a[index] = old
    return (fp - fm) / (2 * eps)


def _sample_indices(shape, k, rng):
    flat = rng.choice(int(np.prod(shape)), size=min(k, int(np.prod(shape))), replace=False)
    return [np.unravel_index(i, shape) for i in flat]


def test_w1_baseline_matches_finite_differences_and_updates():
    d = WORKLOADS["W1"].make_data("check")

    def J(p):  # R1's cost, written from the specification
        def s(z):
            return 1 / (1 + np.exp(-z))

        yhat = s(s(s(p["X"] @ p["W1"]) @ p["W2"]) @ p["W3"])
        return float(np.sum(0.5 * (p["y"] - yhat) ** 2))

    res = _one_step("W1", "numpy")
    p = {k: v.copy() for k, v in d.items()}
    assert res["loss"] == pytest.approx(J(p), rel=1e-14)
    for name in ("W1", "W2", "W3"):
        fd = np.zeros_like(p[name])
        for idx in np.ndindex(p[name].shape):
            fd[idx] = _central_diff(J, p, name, idx)
        np.testing.assert_allclose(res["d" + name], fd, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(res[name], d[name] - 0.1 * res["d" + name], rtol=1e-15)


@pytest.mark.parametrize("key", ["W2s", "W2"])
def test_mlp_baseline_matches_finite_differences(key, rng):
    # the float32 W2 baseline is checked on the same network in float64 (same code path)
    sizes = {"W2s": (784, 16, 10), "W2": (784, 256, 128, 10)}[key]
    batch = {"W2s": 1, "W2": 8}[key]
    d = data_maker(sizes, batch, np.float64)("check")

    def loss(p):
        h = p["X"]
        n = len(sizes) - 1
        for i in range(1, n + 1):
            h = h @ p[f"W{i}"] + p[f"b{i}"]
            if i < n:
                h = np.where(h > 0, h, 0.0)
        m = h.max(axis=1, keepdims=True)
        logp = h - m - np.log(np.exp(h - m).sum(axis=1, keepdims=True))
        return float(-np.mean(logp[np.arange(batch), p["labels"]]))

    impl = NumpyMLP(d)
    impl.step()
    res = impl.results()
    p = {k: v.copy() for k, v in d.items()}
    assert res["loss"] == pytest.approx(loss(p), rel=1e-12)
    for name in [k for k in d if k[0] in "Wb"]:
        for idx in _sample_indices(p[name].shape, 12, rng):
            fd = _central_diff(loss, p, name, idx)
            assert res["d" + name][idx] == pytest.approx(fd, rel=1e-5, abs=1e-8), (name, idx)
        np.testing.assert_allclose(res[name], d[name] - MLP_LR * res["d" + name], rtol=1e-14)


@pytest.mark.parametrize("n_ops", [29, 30, 31])
def test_w3_baseline_matches_finite_differences(n_ops):
    x0 = 0.5

    def chain(x):  # the op sequence, written out
        for i in range(n_ops):
            if i % 3 == 0:
                x = x * 1.0001
            elif i % 3 == 1:
                x = x + 0.0001
            else:
                x = np.tanh(x)
        return x

    impl = NumpyChain({"x0": np.array([x0]), "n_ops": np.array(n_ops)})
    impl.step()
    res = impl.results()
    assert res["loss"][0] == pytest.approx(chain(x0), rel=1e-14)
    fd = (chain(x0 + 1e-6) - chain(x0 - 1e-6)) / 2e-6
    assert res["dx0"][0] == pytest.approx(fd, rel=1e-7)


def test_w4_baseline_matches_finite_differences(rng):
    d = WORKLOADS["W4"].make_data("check")

    def loss(p):
        return float(np.sum(1 / (1 + np.exp(-(p["a"] * p["b"] + p["c"])))))

    res = _one_step("W4", "numpy")
    p = {k: v.copy() for k, v in d.items()}
    assert res["loss"] == pytest.approx(loss(p), rel=1e-13)
    for name in "abc":
        for idx in _sample_indices(p[name].shape, 10, rng):
            fd = _central_diff(loss, p, name, idx, eps=1e-4)  # the loss sums 1000 terms
            assert res["d" + name][idx] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_profile_aggregation_splits_python_and_native_time(tmp_path):
    from benchmarks.profile import aggregate, part_of

    raw = tmp_path / "p.raw"
    raw.write_text(
        "<module> (x.py:1);EngineW1.step (benchmarks/workloads/w1.py:80);"
        "Function.apply (autograd_nn/function.py:99) 6\n"
        "<module> (x.py:1);EngineW1.step (benchmarks/workloads/w1.py:80);"
        "Function.apply (autograd_nn/function.py:99);MatMul.forward (autograd_nn/ops/a.py:9);"
        "dgemm_kernel (libopenblas.so) 3\n"
        "<module> (x.py:1);setup (x.py:5) 100\n"
    )
    total, py, nat = aggregate(str(raw))
    assert total == 9
    assert py[("autograd_nn/function.py", "Function.apply")] == 6
    assert nat[("autograd_nn/ops/a.py", "MatMul.forward")] == 3
    assert part_of("autograd_nn/engine.py", "run_backward").startswith("run_backward")
    assert part_of("/x/numpy/_core/numeric.py", "ones_like").startswith("numpy")
