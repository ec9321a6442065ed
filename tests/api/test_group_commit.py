"""Data API creates under load, written with group commit on SQLite (ADR 0013): concurrent
creates answer exactly as one at a time would, a refused one changes nothing, and they share
transactions. On PostgreSQL each create is its own transaction, and the answers are the same."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from burble.runtime import Databases, Version
from burble.store.group_commit import group_writer
from burble.store.sqlite import SQLiteBackend
from burble.things.service import ThingService
from tests.api.support import BASE
from tests.auth.support import new_user
from tests.conftest import Api, make_api

APP = """
name: group
settings:
  data_api: {expose: [Note, User]}
types:
  User:
    fields: {name: text}
  Note:
    fields:
      title: text
      n: number
      owner: User
    privacy:
      - name: Owner
        when: This Note's owner is Current User
        allow: [find, view all fields, create via API]
"""


@pytest.fixture
def api(databases: Databases) -> Api:
    return make_api(databases, APP)


def _requests(api: Api, round: int) -> list[tuple[dict[str, str], object]]:
    """40 creates: valid ones as admin and as users, and refused ones of every kind."""
    env = api.runtime.environment(Version.TEST)
    ann, bob = new_user(env, f"ann{round}@example.com"), new_user(env, f"bob{round}@example.com")
    tokens = api.runtime.user_tokens[Version.TEST]
    as_ann = {"Authorization": f"Bearer {tokens.create(ann)[1]}"}
    out: list[tuple[dict[str, str], object]] = []
    for i in range(40):
        kind = i % 8
        if kind == 0:  # no thing with this id: 400 from inside the transaction
            out.append((api.auth, {"title": f"t{i}", "owner": "1x404"}))
        elif kind == 1:  # the rule does not hold for the new thing: refused after the insert
            out.append((as_ann, {"title": f"t{i}", "owner": bob}))
        elif kind == 2:  # refused before any write
            out.append((api.auth, {"title": f"t{i}", "n": "many"}))
        elif kind == 3:
            out.append((as_ann, {"title": f"t{i}", "owner": ann, "n": i}))
        else:
            out.append((api.auth, {"title": f"t{i}", "n": i, "owner": ann}))
    return out


async def _send_all(api: Api, requests: list[tuple[dict[str, str], object]]) -> list[Any]:
    transport = httpx.ASGITransport(app=api.client.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        sent = [client.post(f"{BASE}/note", json=body, headers=h) for h, body in requests]
        answers = await asyncio.gather(*sent)
        backend = api.runtime.databases.test
        groups = group_writer(backend).groups if isinstance(backend, SQLiteBackend) else None
    return [(r.status_code, r.json()) for r in answers] + [groups]


def _without_ids(answers: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    return [(s, {**b, "id": "…"} if "id" in b else b) for s, b in answers]


def _stored(api: Api) -> list[str]:
    r = api.client.get(f"{BASE}/note", params={"limit": 100}, headers=api.auth)
    return sorted(t["title"] for t in r.json()["response"]["results"])


def test_concurrent_creates_answer_as_one_at_a_time_and_share_transactions(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = _requests(api, 1)
    *answers, groups = asyncio.run(_send_all(api, requests))
    ids = [b["id"] for s, b in answers if s == 201]
    assert len(ids) == len(set(ids)) == 25
    wanted = sorted(f"t{i}" for i in range(40) if i % 8 >= 3)
    assert _stored(api) == wanted
    for i, (status, body) in enumerate(answers):
        if i % 8 >= 3:
            assert (status, body) == (201, {"status": "success", "id": body["id"]})
    assert answers[0][1]["body"]["message"] == (
        "Invalid data for field owner: there is no User with id 1x404"
    )
    assert answers[1][0] == 401 and "not allowed to create" in answers[1][1]["body"]["message"]
    assert answers[2][0] == 400
    if groups is not None:  # SQLite: fewer transactions than creates
        assert 1 <= groups < 30

    # The same requests one at a time, each in its own transaction in a thread: the same answers.
    monkeypatch.setattr(ThingService, "creates_quickly", lambda *a: False)
    one_by_one = [api.client.post(f"{BASE}/note", json=b, headers=h) for h, b in _requests(api, 2)]
    assert _without_ids([(r.status_code, r.json()) for r in one_by_one]) == _without_ids(answers)
