"""Parameters of every type, from every source (JSON body, form body, query string), read
and checked like Data API values, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from burble.runtime import Databases
from tests.api.support import assert_shape_a
from tests.workflows.support import App

TYPES = {
    "t": "text",
    "n": "number",
    "d": "date",
    "b": "yes/no",
    "a": "geographic address",
    "nr": "numeric range",
    "dr": "date range",
    "f": "file",
    "i": "image",
    "c": "Color",
    "item": "Item",
    "u": "User",
    "tl": "list of texts",
    "nl": "list of numbers",
    "il": "list of Items",
    "cl": "list of Color",
}

APP = (
    """
name: wfparams
settings:
  workflow_api: true
option_sets:
  Color: [Red, Green, Blue]
types:
  Item:
    fields: {name: text}
workflows:
  echo:
    expose: true
    auth: none
    parameters:
"""
    + "".join(f"      {k}: {{type: {v}, optional: true}}\n" for k, v in TYPES.items())
    + """      q: {type: text, optional: true, in: query}
    actions:
      - return:
"""
    + "".join(f'          {k}: "[{k}]"\n' for k in [*TYPES, "q"])
    + """
  lookup:
    expose: true
    auth: none
    method: GET
    parameters:
      n: number
      tags: {type: list of texts, optional: true}
    actions:
      - return: {n: "[n]", tags: "[tags]", double: "[n * 2]"}
"""
)


@pytest.fixture
def app(databases: Databases) -> App:
    a = App(databases, APP)
    a.user("ann")
    return a


def echo(app: App, **kw: Any) -> dict[str, Any]:
    response = app.run("echo", "anonymous", **kw)
    return {k: v for k, v in response.items() if v is not None and v != []}


def test_every_type_from_a_json_body(app: App) -> None:
    item = app.thing("Item", name="x")
    other = app.thing("Item", name="y")
    sent = {
        "t": "hello",
        "n": "12.5",
        "d": "2024-03-04T14:38:27.88Z",
        "b": "yes",
        "a": {"address": "10 Downing St", "lat": 51.5034, "lng": -0.1276},
        "nr": {"start": 1, "end": 5},
        "dr": {"start": "2024-01-01", "end": "2024-01-31"},
        "f": "https://example.com/a.pdf",
        "i": "//example.com/a.png",
        "c": "Green",
        "item": item,
        "u": app.ids["ann"],
        "tl": ["a", "", "b"],
        "nl": [1, "2"],
        "il": [item, other],
        "cl": "Red",  # a single value for a list is a list of one
    }
    assert echo(app, json=sent) == {
        "t": "hello",
        "n": 12.5,
        "d": "2024-03-04T14:38:27.880Z",
        "b": True,
        "a": {"address": "10 Downing St", "lat": 51.5034, "lng": -0.1276},
        "nr": {"start": 1, "end": 5},
        "dr": {"start": "2024-01-01T00:00:00.000Z", "end": "2024-01-31T00:00:00.000Z"},
        "f": "https://example.com/a.pdf",
        "i": "//example.com/a.png",
        "c": "Green",
        "item": item,
        "u": app.ids["ann"],
        "tl": ["a", "b"],
        "nl": [1, 2],
        "il": [item, other],
        "cl": ["Red"],
    }


def test_form_encoded_body(app: App) -> None:
    body = "t=hi+there&n=3&b=false&tl=a&tl=b&d=1453398788637&c=Blue"
    got = echo(app, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert got == {
        "t": "hi there",
        "n": 3,
        "b": False,
        "tl": ["a", "b"],
        "d": "2016-01-21T17:53:08.637Z",
        "c": "Blue",
    }


def test_query_string_and_what_wins(app: App) -> None:
    assert echo(app, params={"t": "from query", "n": "7", "nl": "[1, 2]"}) == {
        "t": "from query",
        "n": 7,
        "nl": [1, 2],
    }
    # The body wins over the query string; api_token is never a parameter.
    got = echo(app, params={"t": "query", "n": "1"}, json={"t": "body"})
    assert got == {"t": "body", "n": 1}
    # `in: query` parameters come from the query string only.
    assert echo(app, json={"q": "body"}) == {}
    assert echo(app, params={"q": "query"}, json={"q": "body"}) == {"q": "query"}


def test_no_body_at_all(app: App) -> None:
    assert echo(app) == {}
    assert app.client.post("/version-test/api/1.1/wf/echo", content=b"").status_code == 200


def test_get_workflows_read_the_query_string(app: App) -> None:
    r = app.get("lookup", "anonymous", params=[("n", "4"), ("tags", "a"), ("tags", "b")])
    assert r.status_code == 200, r.text
    assert r.json()["response"] == {"n": 4, "tags": ["a", "b"], "double": 8}
    r = app.get("lookup", "anonymous", params={"n": "4", "tags": orjson.dumps(["x"]).decode()})
    assert r.json()["response"]["tags"] == ["x"]
    r = app.get("lookup", "anonymous")
    assert r.json()["body"]["message"] == "Missing parameter for workflow lookup: parameter n"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("n", "twelve", "number"),
        ("n", True, "number"),
        ("d", "not a date", "date"),
        ("b", "maybe", "yes/no"),
        ("a", {"lat": 1}, "geographic address"),
        ("nr", {"start": 5, "end": 1}, "numeric range"),
        ("dr", "2024", "date range"),
        ("f", {"filename": "a.txt", "contents": "not base64!"}, "file"),
        ("i", [{"filename": "a.png"}], "image"),
        ("c", "Purple", "color"),
        ("item", "nope", "item"),
        ("item", "1700000000000x123456789012345678", "item"),
        ("u", "1700000000000x123456789012345678", "user"),
        ("nl", ["1", "x"], "list of numbers"),
        ("t", {"an": "object"}, "text"),
    ],
)
def test_invalid_values(app: App, key: str, value: object, expected: str) -> None:
    r = app.post("echo", "anonymous", json={key: value})
    body = assert_shape_a(r, 400, "INVALID")
    assert body["body"]["message"] == f"Invalid value for parameter {key} (must be {expected})"


def test_an_item_of_another_type_is_invalid(app: App) -> None:
    r = app.post("echo", "anonymous", json={"u": app.thing("Item", name="x")})
    assert r.json()["body"]["message"] == "Invalid value for parameter u (must be user)"


def test_files_may_be_sent_as_upload_objects(app: App) -> None:
    """Like the Data API's file fields (seed 003, Sending Data: Files): {filename, contents}
    with base64 contents is stored and the parameter's value is its URL."""
    sent = {"filename": "notes.txt", "contents": "aGVsbG8gd29ybGQ="}
    got = echo(app, json={"f": sent, "i": "https://cdn.example/a.png"})
    assert got["i"] == "https://cdn.example/a.png"
    url = got["f"]
    assert isinstance(url, str) and url.endswith("/notes.txt")
    r = app.client.get(urlsplit(url).path)
    assert r.status_code == 200 and r.content == b"hello world"
