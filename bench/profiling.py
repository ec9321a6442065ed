"""`python -m bench --profile DIR`: where Burble's time goes under a case's load, sampled by
py-spy (installed into this environment when missing)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bench import wrk
from bench.measure import Load
from bench.targets import Target

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str:
    found = Path(sys.executable).parent / "py-spy"
    if found.exists():
        return str(found)
    which = shutil.which("py-spy")
    if which:
        return which
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True)
    return str(found)


def _frame_key(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("/src/burble/", "/site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path[path.index(marker) + len(marker) :]
            if marker == "/src/burble/":
                path = "burble/" + path
            break
    return f"{m.group('func')} ({path})"


def top_functions(raw: str, limit: int = 25) -> dict[str, Any]:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame_key(f) for f in stack.split(";") if not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def share(counter: Counter[str], only_burble: bool = False) -> list[dict[str, Any]]:
        items = [(k, v) for k, v in counter.most_common() if not only_burble or "(burble/" in k]
        return [
            {"function": k, "share": round(v / total, 4) if total else 0.0}
            for k, v in items[:limit]
        ]

    return {
        "samples": total,
        "self": share(self_time),
        "inclusive": share(inclusive),
        "inclusive_burble": share(inclusive, only_burble=True),
        "self_burble": share(self_time, only_burble=True),
    }


def record(wrk_bin: str, target: Target, script: Path, load: Load, out: Path) -> str:
    """Load the server with wrk while py-spy samples it: `out`.svg (flame graph), `out`.txt
    (collapsed stacks) and `out`.json (top functions)."""
    spy = py_spy()
    seconds = max(1, round(load.duration_s))
    if load.warmup_s > 0:
        wrk.run(wrk_bin, target.base_url, script, load.warmup_s, load.threads, load.connections)
    result: list[wrk.WrkResult] = []
    loader = threading.Thread(
        target=lambda: result.append(
            wrk.run(wrk_bin, target.base_url, script, seconds + 2, load.threads, load.connections)
        )
    )
    loader.start()
    # --gil: only the thread holding the GIL is sampled, i.e. where Burble's Python time goes
    # (threads waiting for work, for the GIL or for SQLite's writer lock are left out; so is
    # time inside SQLite, which runs with the GIL released).
    common = ["--pid", str(target.pid), "--duration", str(seconds), "--rate", "200", "--gil"]
    # --subprocesses: every worker process of `burble serve --workers N`, in one profile.
    common += ["--nonblocking", "--subprocesses"]
    raw_path, svg_path = out.with_suffix(".txt"), out.with_suffix(".svg")
    spies = [
        subprocess.Popen([spy, "record", *common, "--format", "raw", "-o", str(raw_path)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([spy, "record", *common, "--format", "flamegraph", "-o", str(svg_path)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        for p in spies:
            p.wait(timeout=seconds + 60)
    finally:
        for p in spies:
            if p.poll() is None:
                p.kill()
                p.wait()
        loader.join()
    top = top_functions(raw_path.read_text("utf-8") if raw_path.exists() else "")
    if result:
        r = result[0]
        top["wrk"] = {"req_per_s": round(r.req_per_s, 1), "p50_ms": r.latency_p50_ms}
    out.with_suffix(".json").write_text(json.dumps(top, indent=2) + "\n", encoding="utf-8")
    lines = [f"{x['share']:.1%} {x['function']}" for x in top["inclusive_burble"][:15]]
    lines += ["self:"] + [f"{x['share']:.1%} {x['function']}" for x in top["self"][:12]]
    return f"{top['samples']} samples; inclusive (burble):\n  " + "\n  ".join(lines)
