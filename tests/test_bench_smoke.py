"""The benchmark's smoke run (`python -m bench --quick`): it must keep working, not be fast.

Skipped when PocketBase or wrk cannot be installed here, except under CI=true, where that
fails the run instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = {"a", "b", "c_get", "c_list", "d", "e", "f", "g"}
TOOLS_MISSING = 3  # python -m bench --install-only: PocketBase or wrk cannot be installed


def _bench(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURBLE_")}
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_quick_benchmark_writes_every_case(tmp_path: Path) -> None:
    tools = _bench("--install-only", timeout=600)
    if tools.returncode == TOOLS_MISSING:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the benchmark's tools cannot be installed:\n{tools.stderr}")
        pytest.skip(f"PocketBase or wrk cannot be installed here: {tools.stderr.strip()}")
    assert tools.returncode == 0, tools.stderr

    done = _bench("--quick", "--results-dir", str(tmp_path), "--no-docs", timeout=600)
    assert done.returncode == 0, done.stderr[-5000:]

    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1, files
    results = json.loads(files[0].read_text("utf-8"))
    assert results["quick"] is True
    cases = {c["id"]: c for c in results["cases"]}
    assert set(cases) == CASES
    f = cases["f"]  # Burble alone, compared with its own (d)
    assert f["status"] == "measured" and set(f["servers"]) == {"burble"}
    assert f["comparison"]["of_d"] > 0
    for cid in CASES - {"f", "g"}:
        case = cases[cid]
        assert case["status"] == "measured", cid
        assert set(case["servers"]) == {"burble", "pocketbase"}, cid
        assert {r["server"] for r in case["runs"]} == {"burble", "pocketbase"}, cid
        assert "met" in case["comparison"], cid
    for cid in CASES - {"e"}:  # a 1-second run of 1,000-line bulks may finish none
        for server in cases[cid]["servers"].values():
            assert server["requests"] > 0, cid
            assert server["errors"] == 0, cid
    assert set(cases["e"]["single_connection"]) == {"burble", "pocketbase"}
    g = cases["g"]
    assert g["status"] == "measured" and g["records"] > 0
    assert g["single_connection"]["requests"] > 0
    assert all(check["ok"] for check in results["checks"])
    assert "| Case | Server | req/s |" in done.stdout
