"""Turn the workers' raw results into tables (plain text or markdown) with ratios to the numpy
baseline of the same run and a met / not-met column for each of the issue's targets."""

from __future__ import annotations

from typing import Any

from .workloads import BASELINE, WORKLOADS

MIB = 1024 * 1024
RSS_MARGIN_MIB = 10.0
IMPORT_LIMIT_S = 0.15


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _range(lo: float, hi: float, per: float) -> str:
    return f"{fmt_time(lo / per)} – {fmt_time(hi / per)}"


def _met(flag: bool | None) -> str:
    return "—" if flag is None else ("yes" if flag else "NO")


def _judge(wl: Any, t: dict, ratio: float | None, torch_t: dict | None) -> tuple[str, str]:
    """(target text, met) of the engine's timing ``t`` against the workload's target."""
    if wl.target is None:
        return "", ""
    target = wl.target.text
    vs = t["median"] / torch_t["median"] if torch_t is not None else None
    if wl.target.max_torch_ratio is not None:  # judged against torch alone
        ok = vs is not None and vs <= wl.target.max_torch_ratio
        target += f" (vs torch: {vs:.2f}x)" if vs is not None else " (torch did not run)"
        return target, _met(ok if vs is not None else None)
    ok = ratio is not None and wl.target.max_ratio is not None and ratio <= wl.target.max_ratio
    if wl.target.beat_torch and vs is not None:
        target += f" (vs torch: {vs:.2f}x)"
        ok = ok and vs < 1.0
    return target, _met(ok if ratio is not None else None)


def timing_rows(results: dict, quick: bool) -> list[list[str]]:
    """Rows: workload, engine, median, IQR, min–max, ratio to numpy, target, met."""
    rows = []
    for key, wl in WORKLOADS.items():
        if wl.kind != "timed" or key not in results:
            continue
        per_engine = results[key]
        base = per_engine.get(BASELINE, {}).get("timing")
        torch_t = per_engine.get("torch", {}).get("timing")
        for engine, r in per_engine.items():
            label = key if engine == BASELINE else ""
            status = problem(r)
            if status:
                rows.append([label, engine, status, "", "", "", "", ""])
                continue
            t = r.get("timing")
            if t is None:  # quick mode: one step, not a measurement
                rows.append([label, engine, f"ok (1 step: {fmt_time(r['one_step'])})",
                             "", "", "", "", ""])
                continue
            per, unit = (r["ops"], "/op") if r.get("ops") else (1, "/step")
            ratio = t["median"] / base["median"] if base else None
            target, met = _judge(wl, t, ratio, torch_t) if engine == "autograd_nn" else ("", "")
            if engine == "compiled" and "compile_seconds" in r:
                target = f"first call (trace + codegen) {fmt_time(r['compile_seconds'])}"
            if engine == "jaxjit" and "compile_seconds" in r:
                target = f"first call (trace + XLA compile) {fmt_time(r['compile_seconds'])}"
            rows.append([
                label, engine, fmt_time(t["median"] / per) + unit,
                _range(t["q1"], t["q3"], per), _range(t["min"], t["max"], per),
                f"{ratio:.2f}x" if ratio is not None else "—", target, met,
            ])
    return rows


def memory_rows(results: dict, quick: bool, cpu: bool) -> list[list[str]]:
    """Rows: workload, engine, time, peak RSS, growth, per op / vs numpy, target, met."""
    rows = []
    for key, wl in WORKLOADS.items():
        if wl.kind not in ("once", "memory") or key not in results:
            continue
        per_engine = results[key]
        base = per_engine.get(BASELINE, {})
        for engine, r in per_engine.items():
            label = key if engine == BASELINE else ""
            status = problem(r)
            if status:
                rows.append([label, engine, status, "", "", "", "", ""])
                continue
            peak = r["peak_rss"] / MIB
            target = wl.target.text if engine == "autograd_nn" and wl.target else ""
            if wl.kind == "once":
                growth = max(r["peak_rss"] - r["rss_before"], 0)
                per_op = f"{growth / r['ops']:.0f} B/op" if r.get("ops") else ""
                met = _met(r["finite"]) if target else ""
                pre = "cpu_" if cpu and "cpu_seconds" in r else ""
                took = (f"{fmt_time(r[pre + 'seconds'])} "
                        f"(+{fmt_time(r[pre + 'free_seconds'])} to free)")
                rows.append([label, engine, took,
                             f"{peak:.1f} MiB", f"+{growth / MIB:.1f} MiB", per_op, target, met])
            else:
                diff = (r["peak_rss"] - base["peak_rss"]) / MIB if "peak_rss" in base else None
                vs = f"{diff:+.1f} MiB" if diff is not None else "—"
                met = _met(diff <= RSS_MARGIN_MIB if diff is not None else None) if target else ""
                if quick:
                    met = "— (quick: not isolated)" if target else ""
                rows.append([label, engine, f"{r['steps']} steps", f"{peak:.1f} MiB",
                             f"+{(r['peak_rss'] - r['rss_after_setup']) / MIB:.1f} MiB in steps",
                             vs, target, met])
    return rows


def import_rows(imports: dict, cpu: bool) -> list[list[str]]:
    """Rows: what, median, min–max, runs, target, met."""
    rows = []
    for label, r in imports.items():
        if "error" in r:
            rows.append([label, f"error: {r['error']}", "", "", "", "", ""])
            continue
        wall = fmt_time(r["median"])
        r = r["cpu"] if cpu and "cpu" in r else r
        target = met = ""
        if label == "autograd_nn":
            target = f"< {IMPORT_LIMIT_S} s"
            met = _met(r["median"] < IMPORT_LIMIT_S)
        rows.append([label, fmt_time(r["median"]), f"{fmt_time(r['min'])} – {fmt_time(r['max'])}",
                     wall, str(len(r["samples"])), target, met])
    return rows


def problem(r: dict) -> str:
    """A short description of why a result has no numbers ('' if it has)."""
    if "unavailable" in r:
        return "unavailable"
    if "skipped" in r:
        return f"skipped: {r['skipped']}"
    if "error" in r:
        return "ERROR (see --json or stderr)"
    c = r.get("check")
    if c is not None and not c["ok"]:
        worst = max(c["errors"].items(), key=lambda kv: kv[1]) if c["errors"] else ("?", 0)
        return f"DISAGREES with numpy: {worst[0]} rel. error {worst[1]:.2e} > {c['tolerance']:g}"
    return ""


def check_summary(results: dict) -> list[str]:
    """One line per (workload, engine): agreement with the baseline and the worst error."""
    lines = []
    for key, per_engine in results.items():
        for engine, r in per_engine.items():
            if engine == BASELINE or "check" not in r:
                continue
            c = r["check"]
            worst = max(c["errors"].values()) if c["errors"] else 0.0
            verdict = "agrees" if c["ok"] else "DISAGREES"
            lines.append(f"{key:6} {engine:12} {verdict} with numpy: max rel. error {worst:.1e} "
                         f"(tolerance {c['tolerance']:g}; {', '.join(c['keys'])})")
    return lines


def table(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*headers), line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in rows]
    return "\n".join(s.rstrip() for s in out)


def render(results: dict, imports: dict, meta: dict[str, Any], markdown: bool) -> str:
    quick = meta["quick"]
    keys = [k for k in WORKLOADS if k in results or (k == "import" and imports)]
    legend = "- **{}**: {}" if markdown else "{:6} {}"
    parts = ["\n".join(legend.format(k, WORKLOADS[k].title) for k in keys)]
    t_rows = timing_rows(results, quick)
    if t_rows:
        parts.append(table(["Workload", "Engine", "Median", "IQR", "Min – max", "vs numpy",
                            "Target", "Met"], t_rows, markdown))
    cpu = meta.get("clock") == "cpu"
    m_rows = memory_rows(results, quick, cpu)
    if m_rows:
        headers = ["Workload", "Engine", "CPU time" if cpu else "Time", "Peak RSS", "Growth",
                   "Per op / vs numpy", "Target", "Met"]
        parts.append(table(headers, m_rows, markdown))
    if imports:
        what = "Import (fresh process" + (", CPU time)" if cpu else ")")
        parts.append(table([what, "Median", "Min – max", "Elapsed (median)", "Runs", "Target",
                            "Met"],
                           import_rows(imports, cpu), markdown))
    return "\n\n".join(parts)
