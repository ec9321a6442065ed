"""Redirection as a workflow's response (bubble-semantics.md §2.1: "302 redirect to an app
page with returned data as querystring; Redirection on success (returned data appended as
querystring) and Redirection on error (statusCode and message appended)"), on SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from burble.errors import AppDefError
from burble.runtime import Databases
from tests.conftest import make_api
from tests.workflows.support import App

APP = """
name: wfredirect
settings: {workflow_api: true}
types:
  User: {fields: {}}
  Order:
    fields: {amount: number, paid: yes/no}
workflows:
  paid:
    expose: true
    auth: none
    ignore_privacy: true
    parameters: {amount: number, tags: {type: list of texts, optional: true}}
    only_when: amount > 0
    response:
      redirect: https://shop.example/thanks?from=pay
      on_error: /payment-failed
    actions:
      - create: Order
        fields: {amount: "[amount]", paid: true}
      - return:
          order: "[Result of step 1]"
          amount: "[amount]"
          paid: "[Result of step 1's paid]"
          tags: "[tags]"
          note: "[tags:first item]"
  plain:
    expose: true
    auth: admin
    parameters: {amount: number}
    response: {redirect: /done}
    actions:
      - return: {amount: "[amount]"}
"""


@pytest.fixture
def app(databases: Databases) -> App:
    return App(databases, APP)


def _location(r: Any) -> tuple[str, dict[str, list[str]]]:
    assert r.status_code == 302, r.text
    url = urlsplit(r.headers["location"])
    base = f"{url.scheme}://{url.netloc}{url.path}" if url.scheme else url.path
    return base, parse_qs(url.query, keep_blank_values=True)


def test_success_redirects_with_the_returned_data(app: App) -> None:
    r = app.post(
        "paid", "anonymous", json={"amount": 12.5, "tags": ["a", "b"]}, follow_redirects=False
    )
    base, query = _location(r)
    assert base == "https://shop.example/thanks"
    order = app.things("Order")[0]["_id"]
    assert query == {
        "from": ["pay"],
        "order": [order],
        "amount": ["12.5"],
        "paid": ["true"],
        "tags": ["a", "b"],
        "note": ["a"],
    }
    assert r.content == b""


def test_errors_redirect_with_status_code_and_message(app: App) -> None:
    r = app.post("paid", "anonymous", json={"amount": "lots"}, follow_redirects=False)
    base, query = _location(r)
    assert base == "/payment-failed"
    assert query == {
        "statusCode": ["400"],
        "message": ["Invalid value for parameter amount (must be number)"],
    }
    r = app.post("paid", "anonymous", json={"amount": -1}, follow_redirects=False)
    assert _location(r)[1] == {
        "statusCode": ["400"],
        "message": ["The condition for the workflow paid is not met. Workflow won't run"],
    }
    assert app.things("Order") == []


def test_without_on_error_errors_answer_as_usual(app: App) -> None:
    r = app.post("plain", "anonymous", json={"amount": 1}, follow_redirects=False)
    assert r.status_code == 401
    assert r.json()["body"]["status"] == "UNAUTHORIZED"
    r = app.post("plain", "admin", json={"amount": 1}, follow_redirects=False)
    assert _location(r) == ("/done", {"amount": ["1"]})


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ("{redirect: 'javascript:alert(1)'}", "a redirect is an https:// or http:// URL"),
        ("{redirect: 'shop.example/x'}", "a redirect is an https:// or http:// URL"),
        ("{redirect: /ok, on_error: '//evil.example'}", "a redirect is an https:// or http://"),
    ],
)
def test_redirect_urls_are_checked(databases: Databases, response: str, message: str) -> None:
    text = APP.replace("response: {redirect: /done}", f"response: {response}")
    with pytest.raises(AppDefError) as info:
        make_api(databases, text)
    assert message in str(info.value)
