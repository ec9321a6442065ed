"""End to end: `burble serve` on a free port hands out file URLs for that port, and serves them."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from tests.serving import burble, clean_env, running_server

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 64


def test_serve_gives_and_serves_file_urls(tmp_path: Path) -> None:
    env = clean_env()
    app = tmp_path / "app"
    burble("init", str(app), env=env)
    token = burble("token", "create", "--label", "files", "--app", str(app), env=env).strip()
    log_path = tmp_path / "serve.log"
    with running_server(app, env, log_path) as (base, port):
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
    assert f"Files:       //127.0.0.1:{port}/fileupload/" in log_path.read_text()
    assert (app / ".burble" / "files" / "test").is_dir()
