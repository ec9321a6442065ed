"""Processes the benchmark starts: each in its own process group, always stopped; CPU and RSS
read from /proc."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Usage:
    """CPU time (user + system, all threads, the process and its children processes) and
    memory of a server process tree at one moment."""

    cpu_s: float
    rss_bytes: int
    peak_rss_bytes: int


def _children(pid: int) -> list[int]:
    found: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            text = (task / "children").read_text()
        except OSError:
            continue
        found += [int(p) for p in text.split()]
    return found


def _tree(pid: int) -> list[int]:
    out = [pid]
    i = 0
    while i < len(out):
        out += _children(out[i])
        i += 1
    return out


def _cpu_s(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


def _memory(pid: int) -> tuple[int, int]:
    rss = peak = 0
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0, 0
    for line in lines:
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) * 1024
    return rss, peak


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores, everything but idle and
    iowait) since it booted, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    ticks = [int(x) for x in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    # guest time is already counted in user time
    busy = sum(ticks[:8]) - idle if len(ticks) >= 8 else sum(ticks) - idle
    return busy / CLOCK_TICKS


def children_cpu_s() -> float:
    """CPU seconds of this process's waited-for children (wrk, once it has exited)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def usage(pid: int) -> Usage:
    """CPU seconds used so far and memory of the process `pid` and its descendants."""
    cpu = 0.0
    rss = peak = 0
    for p in _tree(pid):
        cpu += _cpu_s(p)
        r, h = _memory(p)
        rss += r
        peak += h
    return Usage(cpu, rss, peak)


def wait_idle(pid: int, max_s: float = 20.0, interval_s: float = 0.25) -> float:
    """Wait until the process tree uses under 5 % of a core (a server still working off the
    requests a previous run left queued); returns the seconds waited."""
    started = time.monotonic()
    last = usage(pid).cpu_s
    while time.monotonic() - started < max_s:
        time.sleep(interval_s)
        now = usage(pid).cpu_s
        if now - last < 0.05 * interval_s:
            break
        last = now
    return time.monotonic() - started


class Process:
    """A command running in its own process group (so Ctrl-C on the benchmark does not reach
    it before the benchmark stops it, and stopping it stops everything it started)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_bytes()[-size:].decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_until(self, ready: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            if ready():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f} s")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the whole process group, then SIGKILL if it does not go away."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        # Anything left in the group (children of the server).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=timeout)
        self._log.close()
