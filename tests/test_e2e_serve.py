"""End to end: `burble serve` as a real process on a free loopback port, over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving import burble, clean_env, running_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, Path, dict[str, str]]]:
    env = clean_env()
    app = tmp_path / "app"
    burble("init", str(app), env=env)
    burble("deploy", str(app), env=env)
    token = burble("token", "create", "--label", "e2e", "--app", str(app), env=env).strip()
    with running_server(app, env, tmp_path / "serve.log") as (base, _):
        yield base, token, app, env


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
        burble("deploy", str(app), env=env)

        def accepts_new_field() -> bool:
            r = c.post("/api/1.1/obj/user", json={"email": "a@example.com", "nickname": "A"})
            return r.status_code == 201

        _wait_for(accepts_new_field)

        # Revoking the token from the CLI locks it out (after the short token cache).
        burble("token", "revoke", "e2e", "--app", str(app), env=env)
        _wait_for(lambda: c.get("/api/1.1/obj/rentalunit").status_code == 401)
        assert token not in c.get("/api/1.1/obj/rentalunit").text


SCHEDULING_APP = """
name: e2e-scheduling
settings:
  workflow_api: true
  data_api: {expose: [Note]}
types:
  User: {fields: {}}
  Note: {fields: {text: text}}
workflows:
  write-note:
    parameters: {text: text}
    actions:
      - create: Note
        fields: {text: "[text]"}
  later:
    expose: true
    auth: admin
    parameters: {text: text}
    actions:
      - schedule: write-note
        parameters: {text: "[text]"}
      - return: {job: "[Result of step 1]"}
"""


def test_serve_runs_scheduled_work(tmp_path: Path) -> None:
    """`burble serve` runs the scheduler's worker in its process by default."""
    env = clean_env()
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.yaml").write_text(SCHEDULING_APP)
    token = burble("token", "create", "--label", "e2e", "--app", str(app), env=env).strip()
    with running_server(app, env, tmp_path / "serve.log") as (base, _):
        h = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            r = c.post("/version-test/api/1.1/wf/later", json={"text": "from a job"})
            assert r.status_code == 200, r.text
            job = r.json()["response"]["job"]

            def written() -> bool:
                found = c.get("/version-test/api/1.1/obj/note").json()["response"]["results"]
                return [n["text"] for n in found] == ["from a job"]

            _wait_for(written)
            r = c.get(f"/version-test/api/1.1/scheduler/jobs/{job}")
            assert r.json()["response"]["status"] == "done"
