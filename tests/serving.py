"""Running the real `burble` command in tests: one-off commands and a server on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "burble"


def clean_env() -> dict[str, str]:
    """This process's environment without any BURBLE_ setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("BURBLE_")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def burble(*args: str, env: dict[str, str]) -> str:
    """Run `burble ARGS`; its stdout (the test fails when it fails)."""
    done = subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def running_server(app: Path, env: dict[str, str], log_path: Path) -> Iterator[tuple[str, int]]:
    """`burble serve APP` on a free loopback port until the block ends: (base URL, port)."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(BIN), "serve", str(app), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(base + "/api/1.1/obj/rentalunit", timeout=1)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.1)
            yield base, port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
