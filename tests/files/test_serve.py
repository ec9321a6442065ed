"""End to end: `burble serve` on a free port hands out file URLs for that port, and serves them."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "burble"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 64


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


def test_serve_gives_and_serves_file_urls(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURBLE_")}
    app = tmp_path / "app"
    _burble("init", str(app), env=env)
    token = _burble("token", "create", "--label", "files", "--app", str(app), env=env).strip()
    port = _free_port()
    log_path = tmp_path / "serve.log"
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
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=10) as c:
                photo = {"filename": "front.png", "contents": base64.b64encode(PNG).decode()}
                r = c.post("/version-test/api/1.1/obj/rentalunit", json={"photos": [photo]})
                assert r.status_code == 201, r.text
                uid = r.json()["id"]
                thing = c.get(f"/version-test/api/1.1/obj/rentalunit/{uid}").json()["response"]
                url = thing["photos"][0]
                prefix = f"//127.0.0.1:{port}/version-test/fileupload/f"
                assert url.startswith(prefix) and url.endswith("/front.png"), url
            fetched = httpx.get("http:" + url, timeout=10)  # as a browser would, no token
            assert fetched.status_code == 200
            assert fetched.content == PNG
            assert fetched.headers["content-type"] == "image/png"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert f"Files:       //127.0.0.1:{port}/fileupload/" in log_path.read_text()
    assert (app / ".burble" / "files" / "test").is_dir()
