"""`burble serve`'s processes use at most two glibc malloc arenas (burble.malloc; ADR 0015)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from burble.malloc import limit_malloc_arenas
from burble.settings import MALLOC_ARENAS, Settings

GLIBC = platform.libc_ver()[0] == "glibc"

# Eight threads allocate at once, then glibc's malloc_stats() reports each arena on stderr.
PROGRAM = """
import ctypes, sys, threading
from burble.malloc import limit_malloc_arenas
if sys.argv[1] != "none":
    assert limit_malloc_arenas(int(sys.argv[1]))
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    keep = [bytearray(20_000) for _ in range(200)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(None).malloc_stats()
"""


def arenas_used(limit: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, limit],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt and malloc_stats")
def test_threads_share_the_arenas_asked_for() -> None:
    assert arenas_used("none") > 2  # glibc's default: an arena per thread, here
    assert arenas_used("2") == 2
    assert arenas_used("1") == 1


def test_none_leaves_malloc_alone() -> None:
    assert limit_malloc_arenas(None) is False


def test_settings_leave_an_operators_malloc_arena_max_alone(tmp_path: Path) -> None:
    assert Settings.from_env(tmp_path, {}).malloc_arenas == MALLOC_ARENAS == 2
    assert Settings.from_env(tmp_path, {"MALLOC_ARENA_MAX": "8"}).malloc_arenas is None
