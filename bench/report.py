"""Ratios against the targets, and the results as Markdown (docs/benchmarks.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.cases import BY_ID, Case

START = "<!-- bench:results:start (written by `python -m bench`; edit outside these marks) -->"
END = "<!-- bench:results:end -->"


def compare(case: Case, burble: dict[str, Any], pb: dict[str, Any]) -> dict[str, Any]:
    """Burble against PocketBase for one case, and whether the case's target is met."""
    b, p = burble["req_per_s"], pb["req_per_s"]
    ratio = b / p if p else None
    out: dict[str, Any] = {"req_per_s_ratio": None if ratio is None else round(ratio, 3)}
    if case.target_kind == "ratio" and case.target is not None:
        out["target"] = f"Burble req/s >= {case.target:g} x PocketBase's"
        out["met"] = ratio is not None and ratio >= case.target
    elif case.target_kind == "time" and case.target is not None:
        # Time per request under the same load: the inverse of the throughput.
        time_ratio = p / b if b else None
        out["time_ratio"] = None if time_ratio is None else round(time_ratio, 3)
        out["target"] = f"Burble's time <= {case.target:g} x PocketBase's"
        out["met"] = time_ratio is not None and time_ratio <= case.target
    return out


def compare_single(case: Case, alone: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """(e) with one connection: Burble's time per bulk over PocketBase's (p50 latency)."""
    b = alone["burble"]["latency_p50_ms"]
    p = alone["pocketbase"]["latency_p50_ms"]
    ratio = b / p if p else None
    return {
        "time_ratio_single_connection": None if ratio is None else round(ratio, 3),
        "met_single_connection": ratio is not None
        and case.target is not None
        and ratio <= case.target,
    }


def judge_p50(case: Case, under_load: dict[str, Any], single: dict[str, Any]) -> dict[str, Any]:
    assert case.target is not None
    return {
        "target": f"p50 < {case.target:g} ms",
        "met": under_load["latency_p50_ms"] < case.target,
        "met_single_connection": single["latency_p50_ms"] < case.target,
    }


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if digits == 0:
        return f"{value:,.1f}" if 0 < abs(value) < 10 else f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _verdict(met: bool | None) -> str:
    return "–" if met is None else ("**met**" if met else "not met")


def markdown(results: dict[str, Any]) -> str:
    """The results table, the targets and the notes, as Markdown."""
    s = results["settings"]
    m = results["machine"]
    v = results["versions"]
    lines = [
        f"Run of {results['date']} on `{m['hostname']}`: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB; {m['kernel']}. Burble {v['burble']} (Python {v['python']}), "
        f"PocketBase {v['pocketbase']}, wrk {v['wrk']}. "
        f"{s['records']:,} records; wrk {s['wrk_threads']} threads, {s['wrk_connections']} "
        f"connections, {s['rounds']} round(s) of {s['duration_s']:g} s per server after "
        f"{s['warmup_s']:g} s of warm-up"
        + (
            f"; Burble served by {s['burble_processes']} processes (`burble serve --workers`)"
            if s.get("burble_processes")
            else ""
        )
        + f"; the whole run took {results['elapsed_s']:.0f} s"
        + (" (**quick smoke run: not a measurement**)." if results["quick"] else "."),
        "",
        "| Case | Server | req/s | p50 ms | p99 ms | Errors | CPU µs/req | RSS MiB | Burble/PocketBase |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for case in results["cases"]:
        cid = case["id"]
        title = f"({cid.replace('_get', ' get').replace('_list', ' list')}) {case['title']}"
        if case["status"] != "measured":
            lines.append(f"| {title} | – | {case['status']} | | | | | | |")
            continue
        servers = case["servers"]
        comparison = case.get("comparison", {})
        for name, label in (("burble", "Burble"), ("pocketbase", "PocketBase")):
            if name not in servers:
                continue
            x = servers[name]
            ratio = ""
            if name == "burble" and "of_d" in comparison:
                ratio = f"{_num(comparison['of_d'], 2)}× Burble's (d)"
            if name == "burble" and "req_per_s_ratio" in comparison:
                ratio = f"{_num(comparison['req_per_s_ratio'], 2)}×"
                if "time_ratio" in comparison:
                    ratio += f" (time {_num(comparison['time_ratio'], 2)}×)"
            row_title = title if name == "burble" else ""
            if cid == "g" and name == "burble":
                row_title += f" — {case['records']:,} records"
                row_title += f", {s['wrk_connections']} connections"
            lines.append(
                f"| {row_title} | {label} | {_num(x['req_per_s'])} | {_num(x['latency_p50_ms'], 1)}"
                f" | {_num(x['latency_p99_ms'], 1)} | {x['errors']} | "
                f"{_num(x['cpu_us_per_request'])} | {_num(x['rss_mib'])} | {ratio} |"
            )
        if cid == "e" and "single_connection" in case:
            for name, label in (("burble", "Burble"), ("pocketbase", "PocketBase")):
                x = case["single_connection"][name]
                ratio = ""
                if name == "burble":
                    ratio = f"time {_num(comparison.get('time_ratio_single_connection'), 2)}×"
                lines.append(
                    f"| {'(e) the same, 1 connection' if name == 'burble' else ''} | {label} | "
                    f"{_num(x['req_per_s'], 1)} | {_num(x['latency_p50_ms'], 1)} | "
                    f"{_num(x['latency_p99_ms'], 1)} | {x['errors']} | "
                    f"{_num(x['cpu_us_per_request'])} | {_num(x['rss_mib'])} | {ratio} |"
                )
        if cid == "g":
            x = case["single_connection"]
            lines.append(
                f"| (g) the same, 1 connection | Burble | {_num(x['req_per_s'])} | "
                f"{_num(x['latency_p50_ms'], 1)} | {_num(x['latency_p99_ms'], 1)} | "
                f"{x['errors']} | {_num(x['cpu_us_per_request'])} | {_num(x['rss_mib'])} | |"
            )
    shares = [
        x.get("other_cpu_share", 0.0)
        for case in results["cases"]
        for x in [*case.get("servers", {}).values(), case.get("single_connection") or {}]
        if x
    ]
    if shares:
        lines += [
            "",
            f"Other processes used up to {max(shares):.0%} of the machine's CPU during a case's "
            "measured runs (0 % is a quiet machine; the two servers were measured in turn, "
            "so both were exposed to it).",
        ]
    lines += ["", "| Target | Measured | Verdict |", "|---|---|---|"]
    for case in results["cases"]:
        comparison = case.get("comparison") or {}
        if "target" not in comparison:
            continue
        cid = case["id"]
        if cid == "g":
            load = case["servers"]["burble"]["latency_p50_ms"]
            single = case["single_connection"]["latency_p50_ms"]
            measured = (
                f"p50 {load:.1f} ms at {s['wrk_connections']} connections, {single:.1f} ms at "
                f"1 connection ({case['records']:,} records)"
            )
            verdict = (
                f"{_verdict(comparison['met'])} under load; "
                f"{_verdict(comparison['met_single_connection'])} at 1 connection"
            )
        elif "time_ratio" in comparison:
            measured = (
                f"Burble's time per bulk = {_num(comparison['time_ratio'], 2)}× PocketBase's at "
                f"{s['wrk_connections']} connections"
            )
            verdict = _verdict(comparison["met"])
            if "time_ratio_single_connection" in comparison:
                alone = case["single_connection"]
                measured += (
                    f"; {_num(comparison['time_ratio_single_connection'], 2)}× at 1 connection "
                    f"({_num(alone['burble']['latency_p50_ms'])} ms against "
                    f"{_num(alone['pocketbase']['latency_p50_ms'])} ms)"
                )
                verdict = (
                    f"{verdict} under load; "
                    f"{_verdict(comparison['met_single_connection'])} at 1 connection"
                )
        else:
            measured = f"Burble/PocketBase req/s = {_num(comparison['req_per_s_ratio'], 2)}×"
            verdict = _verdict(comparison["met"])
        lines.append(f"| ({cid}) {comparison['target']} | {measured} | {verdict} |")
    for case in results["cases"]:
        if case["status"] != "measured":
            lines.append(f"| ({case['id']}) {BY_ID[case['id']].title} | {case['status']} | – |")
    if results["notes"]:
        lines += ["", *[f"- {note}" for note in results["notes"]]]
    return "\n".join(lines) + "\n"


def update_docs(path: Path, results: dict[str, Any], results_path: Path) -> None:
    """Rewrite the results section of `path` (between the marks), keeping the rest."""
    try:
        rel = os.path.relpath(results_path, path.parent)
    except ValueError:
        rel = str(results_path)
    section = f"{START}\n\n{markdown(results)}\nRaw figures (every round): [{results_path.name}]({rel}).\n\n{END}"
    text = path.read_text("utf-8") if path.exists() else ""
    if START in text and END in text:
        before = text[: text.index(START)]
        after = text[text.index(END) + len(END) :]
        text = before + section + after
    else:
        text = (text.rstrip() + "\n\n" if text else "# Benchmarks\n\n") + section + "\n"
    path.write_text(text, encoding="utf-8")
