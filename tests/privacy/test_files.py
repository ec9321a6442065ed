"""Private files are served to callers allowed to "view attached files" of the thing they are
attached to (seed 003 "Files and Images"; docs/privacy.md)."""

from __future__ import annotations

import base64

from burble.runtime import Databases, Version
from tests.api.support import BASE, create, get
from tests.conftest import make_api

APP = """
name: files
settings:
  data_api: {expose: [Unit, User]}
types:
  Unit:
    fields: {owner: User, plan: file}
    privacy:
      - name: Owner
        when: This Unit's owner is Current User
        allow: [find, view all fields, view attached files]
      - name: Everyone else
        allow: [find, view all fields]
"""


def test_private_file_follows_view_attached_files(databases: Databases) -> None:
    api = make_api(databases, APP)
    tokens = api.runtime.user_tokens[Version.TEST]
    alice = create(api, "user", {"email": "alice@example.com"})
    bob = create(api, "user", {"email": "bob@example.com"})
    unit = create(api, "unit", {"owner": alice})
    upload = {"filename": "plan.pdf", "contents": base64.b64encode(b"%PDF-1.4 x").decode()}
    r = api.client.patch(
        f"{BASE}/unit/{unit}",
        json={"plan": {**upload, "private": True, "attach_to": unit}},
        headers=api.auth,
    )
    assert r.status_code == 204
    url = get(api, "unit", unit)["plan"]
    path = "/" + url.split("/", 3)[3]  # //host:port/version-test/fileupload/... → the path

    def fetch(user: str | None) -> int:
        headers = {}
        if user is not None:
            headers = {"Authorization": f"Bearer {tokens.create(user)[1]}"}
        return api.client.get(path, headers=headers).status_code

    assert fetch(alice) == 200
    assert fetch(bob) == 404  # bob finds the unit but may not view its files
    assert fetch(None) == 404
    assert api.client.get(path, headers=api.auth).status_code == 200
