"""`python -m bench`: Burble against PocketBase, every case on both servers in one run.

Everything runs in a temporary directory on loopback ports; every process it starts is stopped
at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from bench import report, tools
from bench.cases import BY_ID, CASES, Case, parse_cases, read_indexes, requests_for
from bench.dataset import USERS, Record, list_queries, new_records, records
from bench.measure import Load, Run, measure, measure_one_by_one, summarize
from bench.targets import BurbleTarget, PocketBaseTarget, Target
from bench.wrk import write_script

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
EXIT_TOOLS_MISSING = 3


@dataclass(frozen=True)
class Options:
    cases: list[Case]
    records: int
    big_records: int
    load: Load
    rounds: int
    budget_s: float
    quick: bool
    results_dir: Path
    docs: Path | None
    keep: bool
    profile_dir: Path | None
    burble_workers: int | None = None  # None: `burble serve`'s default (one per CPU core)
    alone_bulks: int = 30  # (e) with one connection: bulks timed one after the other


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> Options | None:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark Burble against PocketBase (docs/benchmarks.md).",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 200 records, 1-second runs, every case once (CI)")  # fmt: skip
    p.add_argument("--cases", default="a,b,c,d,e,f,g", help="cases to run: a,b,c (c_get,c_list),d,e,f,g (default: all)")  # fmt: skip
    p.add_argument("--duration", type=float, help="seconds of each measured run (default 15; --quick 1)")  # fmt: skip
    p.add_argument("--warmup", type=float, help="seconds of warm-up before each run (default 5; --quick 0)")  # fmt: skip
    p.add_argument("--rounds", type=int, help="measured runs per case and server, alternating (default 2; --quick 1)")  # fmt: skip
    p.add_argument("--records", type=int, help="records seeded in both servers (default 10000; --quick 200)")  # fmt: skip
    p.add_argument("--big-records", type=int, help="records for case g (default 1000000; --quick 2000)")  # fmt: skip
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--budget", type=float, help="seconds the whole run may take; case g's seeding is cut to fit (default 855)")  # fmt: skip
    p.add_argument("--results-dir", type=Path, help="where the results JSON goes (default bench/results; --quick: a temporary directory)")  # fmt: skip
    p.add_argument("--docs", type=Path, help=f"Markdown file whose results section is rewritten (default {DOCS.relative_to(ROOT)}; not with --quick)")  # fmt: skip
    p.add_argument("--no-docs", action="store_true", help="do not touch the Markdown file")
    p.add_argument("--alone-bulks", type=int, help="(e) with one connection: bulks sent one after the other on each server, from the seeded data (default 30; --quick 3)")  # fmt: skip
    p.add_argument("--burble-workers", type=int, metavar="N", help="processes of burble serve (its --workers; default: its own default, one per CPU core)")  # fmt: skip
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (servers' data and logs)")  # fmt: skip
    p.add_argument("--profile", type=Path, metavar="DIR", help="instead of benchmarking, profile Burble with py-spy under each case's load; flame graphs and top functions in DIR")  # fmt: skip
    p.add_argument("--render", type=Path, metavar="RESULTS_JSON", help="only rewrite the Markdown results section from a results file, then exit")  # fmt: skip
    p.add_argument("--install-only", action="store_true", help=f"install PocketBase and wrk if missing, then exit (status {EXIT_TOOLS_MISSING} when they cannot be)")  # fmt: skip
    args = p.parse_args(argv)
    if args.render is not None:
        render(args.render, args.docs or DOCS)
        raise SystemExit(0)
    if args.install_only:
        return None
    quick = bool(args.quick)

    def pick(value: Any, full: Any, smoke: Any) -> Any:
        return value if value is not None else (smoke if quick else full)

    try:
        cases = parse_cases(args.cases)
    except ValueError as exc:
        p.error(str(exc))
    docs: Path | None = None
    if not args.no_docs and (args.docs is not None or not (quick or args.profile)):
        docs = args.docs or DOCS
    return Options(
        cases=cases,
        records=pick(args.records, 10_000, 200),
        big_records=pick(args.big_records, 1_000_000, 2_000),
        load=Load(
            duration_s=pick(args.duration, 15.0, 1.0),
            warmup_s=pick(args.warmup, 5.0, 0.0),
            threads=args.threads,
            connections=args.connections,
        ),
        rounds=max(1, pick(args.rounds, 2, 1)),
        budget_s=pick(args.budget, 855.0, 300.0),
        quick=quick,
        results_dir=args.results_dir
        or (Path(tempfile.gettempdir()) / "burble-bench-quick" if quick else RESULTS_DIR),
        docs=docs,
        keep=bool(args.keep),
        profile_dir=args.profile,
        burble_workers=args.burble_workers,
        alone_bulks=max(1, pick(args.alone_bulks, 30, 3)),
    )


def render(results_path: Path, docs: Path) -> None:
    """Rewrite the results section of `docs` from a results file (no measuring)."""
    results = json.loads(results_path.read_text("utf-8"))
    print(report.markdown(results))
    report.update_docs(docs, results, results_path.resolve())
    log(f"updated {docs}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        pocketbase, wrk_bin = tools.pocketbase(), tools.wrk()
    except tools.ToolMissing as exc:
        log(str(exc))
        return EXIT_TOOLS_MISSING
    if options is None:
        log(f"PocketBase: {pocketbase}; wrk: {wrk_bin}")
        return 0
    # Ctrl-C and SIGTERM stop the run, and the finally below stops what it started (also when
    # started from a shell that ignores SIGINT in background jobs).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    bench = Benchmark(options, pocketbase, wrk_bin)
    try:
        if options.profile_dir is not None:
            bench.profile(options.profile_dir)
        else:
            bench.run()
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        bench.close()
    return 0


class Benchmark:
    def __init__(self, options: Options, pocketbase: Path, wrk_bin: str) -> None:
        self.o = options
        self.pocketbase = pocketbase
        self.wrk = wrk_bin
        self.started = time.monotonic()
        self.started_at = dt.datetime.now(dt.UTC)
        self.tmp = Path(tempfile.mkdtemp(prefix="burble-bench-"))
        self.targets: list[Target] = []
        self.notes: list[str] = []
        self.checks: list[dict[str, Any]] = []
        self.load_before = _loadavg()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def close(self) -> None:
        for target in self.targets:
            try:
                target.stop()
            except Exception as exc:  # keep stopping the others
                log(f"could not stop {target.label}: {exc}")
        self.targets.clear()
        if self.o.keep:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _start(self, target: Target) -> Target:
        self.targets.append(target)  # stopped by close(), whatever happens next
        started = time.monotonic()
        target.start()
        log(f"started {target.label} at {target.base_url} in {time.monotonic() - started:.1f} s")
        return target

    def _stop(self, target: Target) -> None:
        started = time.monotonic()
        target.stop()
        self.targets.remove(target)
        log(f"stopped {target.label} in {time.monotonic() - started:.1f} s")

    # --- the benchmark --------------------------------------------------------------------

    def run(self) -> None:
        o = self.o
        log(
            f"cases {','.join(c.id for c in o.cases)}; {o.records} records; "
            f"{o.rounds} round(s) of {o.load.duration_s:g} s after {o.load.warmup_s:g} s warm-up; "
            f"wrk {o.load.threads} threads, {o.load.connections} connections; data in {self.tmp}"
        )
        outcomes: list[dict[str, Any]] = []
        pair_cases = [c for c in o.cases if c.both and c.available]
        solo_cases = [c for c in o.cases if not c.both and c.available and c.id != "g"]
        seeded: list[Record] = []
        if pair_cases or solo_cases:
            burble = self._start(BurbleTarget(self.tmp / "burble", workers=o.burble_workers))
            targets: list[Target] = [burble]
            if pair_cases:
                pb = self._start(PocketBaseTarget(self.tmp / "pocketbase", self.pocketbase))
                targets.append(pb)
            seeded = list(records(o.records))
            for target in targets:
                created = target.seed(seeded)
                assert created == len(seeded), f"{target.label} seeded {created} of {len(seeded)}"
                log(f"seeded {target.label}: {created} records in {target.seed_seconds:.1f} s")
            if pair_cases:
                self._check_reads(burble, pb, seeded)
            if any(c.writes for c in pair_cases + solo_cases):
                for target in targets:
                    target.keep_seeded()
            for case in pair_cases:
                self._fresh_for(case, targets)
                outcomes.append(self._pair_case(case, burble, pb, seeded))
            for case in solo_cases:
                self._fresh_for(case, [burble])
                outcomes.append(self._solo_case(case, burble, seeded, outcomes))
            for target in targets:
                self._stop(target)
        for case in o.cases:
            if not case.available:
                outcomes.append({"id": case.id, "title": case.title, "status": "not available yet"})
        if BY_ID["g"] in o.cases:
            outcomes.append(self._big_case(BY_ID["g"]))
        order = [c.id for c in CASES]
        outcomes.sort(key=lambda x: order.index(x["id"]))
        self._write(outcomes)

    def _fresh_for(self, case: Case, targets: Sequence[Target]) -> None:
        """Each write case, and each of its measured rounds, starts from the seeded data on
        every server: otherwise the things created before (3 times as many on a server 3
        times as fast) would make one server's indexes larger than the other's, and the
        rounds would not repeat one experiment."""
        if not case.writes:
            return
        for target in targets:
            if target.written:
                started = time.monotonic()
                target.back_to_seeded()
                log(
                    f"{target.label}: back to the seeded data in {time.monotonic() - started:.1f} s"
                )
            target.written = True

    def _scripts(self, case: Case, target: Target, seeded: list[Record]) -> Path:
        path = self.tmp / f"{case.id}-{target.name}.lua"
        return write_script(path, requests_for(case, target, seeded))

    def _pair_case(
        self, case: Case, burble: Target, pb: Target, seeded: list[Record]
    ) -> dict[str, Any]:
        o = self.o
        if case.id in ("d", "e"):
            self._check_write(case, (burble, pb), seeded)
        scripts = {t.name: self._scripts(case, t, seeded) for t in (burble, pb)}
        runs: list[Run] = []
        for round_number in range(1, o.rounds + 1):
            # ABBA: the server measured first alternates between rounds.
            order = (burble, pb) if round_number % 2 else (pb, burble)
            for target in order:
                if round_number > 1:
                    self._fresh_for(case, [target])
                run = measure(self.wrk, target, scripts[target.name], o.load, round_number)
                runs.append(run)
                r = run.result
                log(
                    f"{case.id} {target.label:<10} round {round_number}: {r.req_per_s:8.1f} req/s "
                    f"p50 {r.latency_p50_ms:7.2f} ms p99 {r.latency_p99_ms:7.2f} ms "
                    f"errors {r.errors}"
                )
        servers = {t.name: summarize([r for r in runs if r.server == t.name]) for t in (burble, pb)}
        outcome: dict[str, Any] = {
            "id": case.id,
            "title": case.title,
            "status": "measured",
            "servers": servers,
            "comparison": report.compare(case, servers["burble"], servers["pocketbase"]),
        }
        if case.id == "e":
            # Under 32 connections a bulk mostly waits for the 31 before it; one client shows
            # how long one bulk of 1,000 takes: the same `alone_bulks` bulks, one after the
            # other, on each server from the seeded data (after a fixed time instead, the
            # faster server would have been timed on a larger table).
            alone: dict[str, Any] = {}
            for target in (burble, pb):
                self._fresh_for(case, [target])
                bulks = requests_for(case, target, seeded)
                run = measure_one_by_one(target, bulks, o.alone_bulks)
                runs.append(run)
                alone[target.name] = summarize([run])
                log(
                    f"e {target.label:<10} 1 connection: {run.result.req_per_s:6.2f} req/s "
                    f"p50 {run.result.latency_p50_ms:7.1f} ms"
                )
            outcome["single_connection"] = alone
            outcome["comparison"].update(report.compare_single(case, alone))
        outcome["runs"] = [r.as_dict() for r in runs]
        return outcome

    def _solo_case(
        self, case: Case, burble: Target, seeded: list[Record], done: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """(f): Burble alone on the pair run's server, compared with its (d) of this run."""
        o = self.o
        response = burble.send(burble.workflow_request(new_records(1)[0]))
        body = response.json() if response.status_code == 200 else {}
        ok = bool(body.get("response", {}).get("id"))
        self._check(
            f"burble: {case.id} creates", ok, f"{response.status_code} {response.text[:200]}"
        )
        script = self._scripts(case, burble, seeded)
        runs: list[Run] = []
        for round_number in range(1, o.rounds + 1):
            if round_number > 1:
                self._fresh_for(case, [burble])
            run = measure(self.wrk, burble, script, o.load, round_number)
            runs.append(run)
            r = run.result
            log(
                f"{case.id} {burble.label:<10} round {round_number}: {r.req_per_s:8.1f} req/s "
                f"p50 {r.latency_p50_ms:7.2f} ms p99 {r.latency_p99_ms:7.2f} ms errors {r.errors}"
            )
        servers = {"burble": summarize(runs)}
        outcome: dict[str, Any] = {
            "id": case.id,
            "title": case.title,
            "status": "measured",
            "servers": servers,
            "runs": [r.as_dict() for r in runs],
        }
        d = next((x for x in done if x["id"] == "d" and x["status"] == "measured"), None)
        if d is not None:
            outcome["comparison"] = {
                "of_d": servers["burble"]["req_per_s"] / d["servers"]["burble"]["req_per_s"]
            }
        return outcome

    def _big_case(self, case: Case) -> dict[str, Any]:
        """(g): Burble alone at `big_records`, seeded as far as the time budget allows."""
        o = self.o
        burble = self._start(BurbleTarget(self.tmp / "burble-big", workers=o.burble_workers))
        loads = [o.load, Load(o.load.duration_s, 0.0, 1, 1)]  # the second is warm already
        measuring = sum(ld.warmup_s + ld.duration_s * o.rounds for ld in loads) + 30
        deadline = time.monotonic() + max(0.0, o.budget_s - self.elapsed() - measuring)
        log(f"g: seeding Burble with up to {o.big_records} records (deadline in {deadline - time.monotonic():.0f} s)")  # fmt: skip
        created = burble.seed(
            records(o.big_records, seed=7), keep_ids=False, parallel=3, deadline=deadline
        )
        log(f"g: seeded {created} records in {burble.seed_seconds:.1f} s")
        big = list(records(created, seed=7)) if created <= 50_000 else []
        check = self._check_big(burble, created, big)
        script = self._scripts(case, burble, [])
        rounds: dict[str, list[Run]] = {}
        for load in loads:
            key = f"{load.connections}c"
            rounds[key] = []
            for round_number in range(1, o.rounds + 1):
                warm = load if round_number == 1 else Load(load.duration_s, 0.0, load.threads, load.connections)  # fmt: skip
                run = measure(self.wrk, burble, script, warm, round_number)
                rounds[key].append(run)
                r = run.result
                log(
                    f"g Burble {load.connections:>2} conn round {round_number}: "
                    f"{r.req_per_s:8.1f} req/s p50 {r.latency_p50_ms:7.2f} ms "
                    f"p99 {r.latency_p99_ms:7.2f} ms errors {r.errors}"
                )
        self._stop(burble)
        reduced = created < o.big_records
        if reduced:
            self.notes.append(
                f"Case g ran at {created:,} records instead of {o.big_records:,}: seeding more "
                f"would not fit in the time budget of {o.budget_s:.0f} s."
            )
        load_summary = summarize(rounds[f"{o.load.connections}c"])
        single = summarize(rounds["1c"])
        return {
            "id": case.id,
            "title": case.title,
            "status": "measured",
            "records_target": o.big_records,
            "records": created,
            "reduced": reduced,
            "seed_seconds": round(burble.seed_seconds, 1),
            "check": check,
            "servers": {"burble": load_summary},
            "single_connection": single,
            "comparison": report.judge_p50(case, load_summary, single),
            "runs": [r.as_dict() for rs in rounds.values() for r in rs],
        }

    # --- correctness checks before measuring ------------------------------------------------

    def _check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": name, "ok": ok, "detail": detail})
        if not ok:
            raise RuntimeError(f"check failed: {name}: {detail}")

    def _check_reads(self, burble: Target, pb: Target, seeded: list[Record]) -> None:
        """Both servers hold the same records and answer the cases' requests alike."""
        for target in (burble, pb):
            for i in read_indexes(seeded)[:3]:
                response = target.send(target.get_request(target.ids[i], None))
                self._check(
                    f"{target.name}: get by id",
                    response.status_code == 200 and target.get_name(response) == seeded[i].name,
                    f"{response.status_code}",
                )
            mine = read_indexes(seeded, per_user=True)[0]
            owner = seeded[mine].owner
            other = (owner + 1) % USERS
            got = target.send(target.get_request(target.ids[mine], owner))
            self._check(
                f"{target.name}: owner reads own thing",
                got.status_code == 200 and target.owner_of(got) == target.user_ids[owner],
                f"{got.status_code}",
            )
            hidden = target.send(target.get_request(target.ids[mine], other)).status_code
            self._check(f"{target.name}: another user gets 404", hidden == 404, f"{hidden}")
            for n, q in enumerate(list_queries(4)):
                user = n % USERS
                for who in (None, user):
                    expected = sum(
                        1
                        for r in seeded
                        if r.price > q.min_price
                        and r.city == q.city
                        and (who is None or r.owner == who)
                    )
                    response = target.send(target.list_request(q, who))
                    ok = response.status_code == 200
                    page, total = target.list_total(response) if ok else (-1, -1)
                    self._check(
                        f"{target.name}: list total ({'admin' if who is None else 'user'})",
                        ok and total == expected and page == min(100, expected),
                        f"status {response.status_code}, page {page}, total {total}, expected {expected}",
                    )

    def _check_write(self, case: Case, targets: Sequence[Target], seeded: list[Record]) -> None:
        for target in targets:
            if case.id == "d":
                response = target.send(target.create_request(new_records(1)[0]))
                ok = response.status_code in (200, 201) and bool(response.json().get("id"))
            else:
                response = target.send(target.bulk_request(new_records(3)))
                ok = response.status_code == 200 and len(target.bulk_ids(response)) == 3
            self._check(f"{target.name}: {case.id} writes", ok, f"{response.status_code}")

    def _check_big(self, burble: Target, created: int, big: list[Record]) -> dict[str, Any]:
        q = list_queries(1)[0]
        response = burble.send(burble.list_request(q, 0))
        page, total = burble.list_total(response) if response.status_code == 200 else (-1, -1)
        ok = response.status_code == 200 and page == min(100, total)
        if big:
            expected = sum(
                1 for r in big if r.price > q.min_price and r.city == q.city and r.owner == 0
            )
            ok = ok and total == expected
        self._check("burble (g): list total under the owner rule", ok, f"total {total}")
        return {"query": {"min_price": q.min_price, "city": q.city}, "user_total": total}

    # --- output ---------------------------------------------------------------------------

    def _write(self, outcomes: list[dict[str, Any]]) -> None:
        o = self.o
        results = {
            "schema": 1,
            "date": self.started_at.date().isoformat(),
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "elapsed_s": round(self.elapsed(), 1),
            "quick": o.quick,
            "machine": machine(),
            # Other work on the machine skews both servers alike (they alternate) but not the
            # absolute figures: the load averages before and after tell whether there was any.
            "load_average": {"before": self.load_before, "after": _loadavg()},
            "versions": {
                "burble": _burble_version(),
                "pocketbase": tools.version_of([str(self.pocketbase), "--version"]),
                "wrk": tools.version_of([self.wrk, "-v"]),
                "python": platform.python_version(),
            },
            "settings": {
                "records": o.records,
                "big_records": o.big_records,
                "duration_s": o.load.duration_s,
                "warmup_s": o.load.warmup_s,
                "rounds": o.rounds,
                "wrk_threads": o.load.threads,
                "wrk_connections": o.load.connections,
                "budget_s": o.budget_s,
                # burble serve's processes: --burble-workers, else its default (one per core)
                "burble_processes": o.burble_workers or _cores(),
            },
            "cases": outcomes,
            "checks": self.checks,
            "notes": self.notes,
        }
        o.results_dir.mkdir(parents=True, exist_ok=True)
        path = o.results_dir / f"{results['date']}-{_safe(socket.gethostname())}.json"
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        log(f"results: {path}")
        table = report.markdown(results)
        print(table)
        if o.docs is not None:
            report.update_docs(o.docs, results, path)
            log(f"updated {o.docs}")
        log(f"done in {self.elapsed():.0f} s")

    # --- profiling ------------------------------------------------------------------------

    def profile(self, out_dir: Path) -> None:
        """Burble alone under each case's load while py-spy samples it."""
        from bench import profiling

        o = self.o
        out_dir.mkdir(parents=True, exist_ok=True)
        burble = self._start(BurbleTarget(self.tmp / "burble", workers=o.burble_workers))
        seeded = list(records(o.records))
        burble.seed(seeded)
        for case in o.cases:
            if not case.available or case.id == "g":
                continue
            script = self._scripts(case, burble, seeded)
            log(f"profiling {case.id} for {o.load.duration_s:g} s")
            summary = profiling.record(self.wrk, burble, script, o.load, out_dir / case.id)
            log(f"{case.id}: {summary}")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "hostname": socket.gethostname(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 1024**3, 1),
        "kernel": platform.release(),
        "os": platform.platform(),
    }


def _cores() -> int:
    """The CPU cores this process may use: `burble serve`'s default number of processes."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return []


def _burble_version() -> str:
    try:
        from importlib.metadata import version

        return version("burble")
    except Exception:
        return "unknown"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name) or "machine"
