"""One measured run: a wrk warm-up, then wrk under load while the server's CPU time and memory
are read from /proc before and after."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs, wrk
from bench.targets import Target

MIB = 1024 * 1024


@dataclass(frozen=True)
class Load:
    duration_s: float
    warmup_s: float
    threads: int
    connections: int


@dataclass(frozen=True)
class Run:
    server: str
    round: int
    connections: int
    result: wrk.WrkResult
    cpu_s: float
    rss_bytes: int
    peak_rss_bytes: int
    wrk_cpu_s: float = 0.0
    other_cpu_s: float = 0.0  # the machine's busy time not spent by the server nor by wrk

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "server": self.server,
            "round": self.round,
            "connections": self.connections,
            "requests": r.requests,
            "duration_s": round(r.duration_s, 3),
            "req_per_s": round(r.req_per_s, 1),
            "latency_mean_ms": round(r.latency_mean_ms, 2),
            "latency_p50_ms": round(r.latency_p50_ms, 2),
            "latency_p90_ms": round(r.latency_p90_ms, 2),
            "latency_p99_ms": round(r.latency_p99_ms, 2),
            "latency_max_ms": round(r.latency_max_ms, 2),
            "errors": r.errors,
            "errors_detail": {
                "connect": r.errors_connect,
                "read": r.errors_read,
                "write": r.errors_write,
                "status": r.errors_status,
                "timeout": r.errors_timeout,
            },
            "cpu_s": round(self.cpu_s, 3),
            "cpu_us_per_request": round(self.cpu_s * 1e6 / r.requests, 1) if r.requests else None,
            "rss_mib": round(self.rss_bytes / MIB, 1),
            "peak_rss_mib": round(self.peak_rss_bytes / MIB, 1),
            "wrk_cpu_s": round(self.wrk_cpu_s, 3),
            "other_cpu_s": round(self.other_cpu_s, 3),
        }


def measure(
    wrk_bin: str,
    target: Target,
    script: Path,
    load: Load,
    round_number: int,
) -> Run:
    """Warm up for `load.warmup_s`, then measure for `load.duration_s` (once the server has
    finished what an earlier run left it)."""
    procs.wait_idle(target.pid)
    if load.warmup_s > 0:
        wrk.run(wrk_bin, target.base_url, script, load.warmup_s, load.threads, load.connections)
    before = procs.usage(target.pid)
    busy_before, wrk_before = procs.machine_busy_s(), procs.children_cpu_s()
    result = wrk.run(
        wrk_bin, target.base_url, script, load.duration_s, load.threads, load.connections
    )
    after = procs.usage(target.pid)
    busy, wrk_cpu = procs.machine_busy_s() - busy_before, procs.children_cpu_s() - wrk_before
    server_cpu = max(0.0, after.cpu_s - before.cpu_s)
    return Run(
        server=target.name,
        round=round_number,
        connections=load.connections,
        result=result,
        cpu_s=server_cpu,
        rss_bytes=after.rss_bytes,
        peak_rss_bytes=after.peak_rss_bytes,
        wrk_cpu_s=wrk_cpu,
        other_cpu_s=max(0.0, busy - server_cpu - wrk_cpu),
    )


def measure_one_by_one(target: Target, requests: list[wrk.HttpRequest], count: int) -> Run:
    """`count` requests sent one after the other (cycling through `requests`), each timed;
    the same figures as a wrk run with one connection, for a fixed amount of work."""
    procs.wait_idle(target.pid)
    before = procs.usage(target.pid)
    busy_before = procs.machine_busy_s()
    times: list[float] = []
    errors = 0
    started = time.perf_counter()
    for n in range(count):
        sent = time.perf_counter()
        response = target.send(requests[n % len(requests)])
        times.append(time.perf_counter() - sent)
        errors += not 200 <= response.status_code < 400
    duration = time.perf_counter() - started
    after = procs.usage(target.pid)
    server_cpu = max(0.0, after.cpu_s - before.cpu_s)
    ms = sorted(t * 1000.0 for t in times)

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(p / 100 * len(ms)))]

    result = wrk.WrkResult(
        requests=count,
        duration_s=duration,
        bytes_read=0,
        errors_connect=0,
        errors_read=0,
        errors_write=0,
        errors_status=errors,
        errors_timeout=0,
        latency_mean_ms=statistics.fmean(ms),
        latency_p50_ms=statistics.median(ms),
        latency_p90_ms=pct(90),
        latency_p99_ms=pct(99),
        latency_max_ms=ms[-1],
    )
    return Run(
        server=target.name,
        round=1,
        connections=1,
        result=result,
        cpu_s=server_cpu,
        rss_bytes=after.rss_bytes,
        peak_rss_bytes=after.peak_rss_bytes,
        other_cpu_s=max(0.0, procs.machine_busy_s() - busy_before - server_cpu),
    )


def summarize(runs: list[Run]) -> dict[str, Any]:
    """One server's figures for a case: means over its rounds (requests and CPU: totals)."""
    results = [r.result for r in runs]
    requests = sum(r.requests for r in results)
    cpu = sum(r.cpu_s for r in runs)
    rates = [r.req_per_s for r in results]
    return {
        "rounds": len(runs),
        "requests": requests,
        "req_per_s": round(statistics.fmean(rates), 1),
        "req_per_s_min": round(min(rates), 1),
        "req_per_s_max": round(max(rates), 1),
        "latency_p50_ms": round(statistics.fmean(r.latency_p50_ms for r in results), 2),
        "latency_p99_ms": round(statistics.fmean(r.latency_p99_ms for r in results), 2),
        "errors": sum(r.errors for r in results),
        "cpu_us_per_request": round(cpu * 1e6 / requests, 1) if requests else None,
        "rss_mib": round(max(r.rss_bytes for r in runs) / MIB, 1),
        "peak_rss_mib": round(max(r.peak_rss_bytes for r in runs) / MIB, 1),
        # Share of the machine's CPU (all cores) used by other processes while measuring.
        "other_cpu_share": round(
            sum(r.other_cpu_s for r in runs)
            / max(1e-9, sum(r.duration_s for r in results) * (os.cpu_count() or 1)),
            3,
        ),
    }
