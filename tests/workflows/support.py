"""Helpers for the workflow tests: an app with users and tokens, and requests to /wf/."""

from __future__ import annotations

from typing import Any

from burble.auth.actor import ADMIN
from burble.runtime import Databases, Version
from tests.conftest import Api, make_api

WF = "/version-test/api/1.1/wf"
LIVE_WF = "/api/1.1/wf"


class Clock:
    """A monotonic clock moved by hand, or by `step` seconds at every reading."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class App:
    """A running app: the admin API, users by name with their tokens."""

    def __init__(self, databases: Databases, text: str, deploy_live: bool = False) -> None:
        self.api: Api = make_api(databases, text, deploy_live=deploy_live)
        self.client = self.api.client
        self.ids: dict[str, str] = {}
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}, "admin": self.api.auth}

    @property
    def env(self) -> Any:
        return self.api.runtime.test

    def user(self, who: str, /, **fields: Any) -> str:
        env = self.env
        user_id: str = env.things.create(
            ADMIN, env.definition.types["User"], {"email": f"{who}@example.com", **fields}
        )
        _, token = self.api.runtime.user_tokens[Version.TEST].create(user_id)
        self.ids[who] = user_id
        self.headers[who] = {"Authorization": f"Bearer {token}"}
        return user_id

    def thing(self, type_name: str, /, **fields: Any) -> str:
        env = self.env
        thing_id: str = env.things.create(ADMIN, env.definition.types[type_name], fields)
        return thing_id

    def post(self, name: str, who: str = "admin", base: str = WF, **kw: Any) -> Any:
        headers = {**self.headers[who], **kw.pop("headers", {})}
        return self.client.post(f"{base}/{name}", headers=headers, **kw)

    def get(self, name: str, who: str = "admin", base: str = WF, **kw: Any) -> Any:
        headers = {**self.headers[who], **kw.pop("headers", {})}
        return self.client.get(f"{base}/{name}", headers=headers, **kw)

    def run(self, name: str, who: str = "admin", **kw: Any) -> dict[str, Any]:
        """POST, expect success, return `response`."""
        r = self.post(name, who, **kw)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"status", "response"} and body["status"] == "success", body
        response: dict[str, Any] = body["response"]
        return response

    def things(self, type_name: str, **params: str) -> list[dict[str, Any]]:
        """Things of a type as the Data API returns them to an admin (oldest first), whether
        or not the app exposes a Data API."""
        env = self.env
        found = env.things.search(ADMIN, env.definition.types[type_name], params)
        results: list[dict[str, Any]] = found.results
        return results
