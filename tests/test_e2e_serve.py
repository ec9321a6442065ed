"""End to end: `burble serve` as a real process on a free loopback port, over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent / "burble"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _burble(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, Path, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURBLE_")}
    app = tmp_path / "app"
    _burble("init", str(app), env=env)
    _burble("deploy", str(app), env=env)
    token = _burble("token", "create", "--label", "e2e", "--app", str(app), env=env).strip()
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN), "serve", str(app), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/api/1.1/obj/rentalunit", timeout=1)
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                log.close()
                pytest.fail(f"burble serve did not start: {(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.1)
    yield base, token, app, env
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def _wait_for(check: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_live_and_development_over_http(server: tuple[str, str, Path, dict[str, str]]) -> None:
    base, token, app, env = server
    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=h, timeout=10) as c:
        r = c.post("/api/1.1/obj/rentalunit", json={"name": "Loft", "price": 900})
        assert r.status_code == 201
        uid = r.json()["id"]
        assert c.get(f"/api/1.1/obj/rentalunit/{uid}").json()["response"]["price"] == 900
        # Development is another database.
        assert c.get(f"/version-test/api/1.1/obj/rentalunit/{uid}").status_code == 404

        bulk = c.post(
            "/version-test/api/1.1/obj/rentalunit/bulk",
            content=b'{"name": "a"}\n{"name": "b"}',
            headers={"Content-Type": "text/plain"},
        )
        assert bulk.status_code == 200
        assert bulk.headers["content-type"] == "text/plain"
        assert len(bulk.text.split("\n")) == 2 and not bulk.text.endswith("\n")
        listed = c.get("/version-test/api/1.1/obj/rentalunit", params={"limit": 1})
        assert listed.json()["response"]["count"] == 1
        assert listed.json()["response"]["remaining"] == 1

        # A deploy made by another process reaches the running server's Live.
        text = (app / "app.yaml").read_text()
        (app / "app.yaml").write_text(
            text.replace("      phone: text\n", "      phone: text\n      nickname: text\n")
        )
        _burble("deploy", str(app), env=env)

        def accepts_new_field() -> bool:
            r = c.post("/api/1.1/obj/user", json={"email": "a@example.com", "nickname": "A"})
            return r.status_code == 201

        _wait_for(accepts_new_field)

        # Revoking the token from the CLI locks it out (after the short token cache).
        _burble("token", "revoke", "e2e", "--app", str(app), env=env)
        _wait_for(lambda: c.get("/api/1.1/obj/rentalunit").status_code == 401)
        assert token not in c.get("/api/1.1/obj/rentalunit").text
