"""`burble serve --workers N` (and BURBLE_WORKERS): N server processes on one port, each
with its own databases connections and caches, writing into the same SQLite files."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from burble.cli.main import main
from burble.errors import BurbleError
from burble.settings import Settings, default_workers
from tests.serving import BIN, burble, clean_env, free_port


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _workers(pid: int) -> list[int]:
    """The server processes under `burble serve` (not multiprocessing's resource tracker)."""
    return [
        p
        for p in _children(pid)
        if b"multiprocessing.spawn" in Path(f"/proc/{p}/cmdline").read_bytes()
    ]


def _serve(
    app: Path, env: dict[str, str], log: Path, *args: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN), "serve", str(app), "--port", str(port), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(base + "/api/1.1/obj/rentalunit", timeout=1)
            return proc, base
        except httpx.TransportError:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def app(tmp_path: Path) -> tuple[Path, dict[str, str], str]:
    env = clean_env()
    app = tmp_path / "app"
    burble("init", str(app), env=env)
    burble("deploy", str(app), env=env)
    token = burble("token", "create", "--label", "w", "--app", str(app), env=env).strip()
    return app, env, token


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_two_workers_serve_and_write_the_same_database(
    app: tuple[Path, dict[str, str], str], tmp_path: Path
) -> None:
    directory, env, token = app
    log = tmp_path / "serve.log"
    proc, base = _serve(directory, env, log, "--workers", "2")
    try:
        assert "Processes:   2" in log.read_text()
        deadline = time.monotonic() + 30
        while len(_workers(proc.pid)) < 2:
            assert time.monotonic() < deadline, _children(proc.pid)
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        created: list[str] = []
        errors: list[str] = []

        def client(n: int) -> None:
            # One connection each: the kernel spreads them over the processes.
            with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
                for i in range(15):
                    r = c.post("/api/1.1/obj/rentalunit", json={"name": f"u{n}-{i}"})
                    if r.status_code != 201:
                        errors.append(r.text)
                        continue
                    created.append(r.json()["id"])
                    got = c.get(f"/api/1.1/obj/rentalunit/{created[-1]}")
                    if got.status_code != 200:
                        errors.append(got.text)
                bulk = c.post(
                    "/api/1.1/obj/rentalunit/bulk",
                    content="\n".join(f'{{"name": "b{n}-{i}"}}' for i in range(50)).encode(),
                    headers={"Content-Type": "text/plain"},
                )
                if bulk.status_code != 200:
                    errors.append(bulk.text)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(created) == 8 * 15
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            listed = c.get("/api/1.1/obj/rentalunit", params={"limit": 1}).json()["response"]
            assert listed["count"] + listed["remaining"] == 8 * 15 + 8 * 50
    finally:
        workers = _workers(proc.pid)
        _stop(proc)
    assert proc.returncode == 0
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers):  # stopped with the server
        assert time.monotonic() < deadline, workers
        time.sleep(0.1)
    # Each process closed its databases: SQLite removed the write-ahead logs.
    assert not (directory / ".burble" / "live.sqlite-wal").exists()


def test_burble_workers_sets_the_default(
    app: tuple[Path, dict[str, str], str], tmp_path: Path
) -> None:
    directory, env, _ = app
    proc, _ = _serve(directory, {**env, "BURBLE_WORKERS": "1"}, tmp_path / "serve.log")
    try:
        assert "Processes:   1" in (tmp_path / "serve.log").read_text()
        assert _workers(proc.pid) == []  # one process: the server itself
    finally:
        _stop(proc)


def test_bad_worker_counts_are_refused(
    app: tuple[Path, dict[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = app[0]
    for name in ("BURBLE_DATABASE_URL", "BURBLE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["serve", str(directory), "--workers", "0"])
    assert result.exit_code == 2 and "--workers" in result.output
    result = runner.invoke(main, ["serve", str(directory)], env={"BURBLE_WORKERS": "many"})
    assert result.exit_code == 1
    assert "BURBLE_WORKERS must be a positive number" in result.output


def test_settings_read_burble_workers(tmp_path: Path) -> None:
    assert Settings.from_env(tmp_path, {}).workers == default_workers() >= 1
    assert Settings.from_env(tmp_path, {"BURBLE_WORKERS": " 3 "}).workers == 3
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(BurbleError):
            Settings.from_env(tmp_path, {"BURBLE_WORKERS": bad})
    if hasattr(os, "sched_getaffinity"):
        assert default_workers() == len(os.sched_getaffinity(0))
