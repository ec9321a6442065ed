"""Send email is delivered right after the run commits when SMTP is configured: a real SMTP
server on loopback receives it without `burble mail send-pending`; a failing run sends
nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest

from burble.mail import outbox
from burble.runtime import Databases
from burble.settings import Settings
from tests.mail.smtpd import SmtpServer
from tests.workflows.support import App

APP = """
name: wfmail
settings: {workflow_api: true}
types:
  User: {fields: {}}
workflows:
  mail:
    expose: true
    auth: none
    parameters: {to: text, fail: yes/no}
    actions:
      - send_email: {to: "[to]", subject: Hello, body: "Hi [to]"}
      - only_when: fail
        create_account: {email: not an email}
"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def app(settings: Settings, smtp: SmtpServer, request: pytest.FixtureRequest) -> Iterator[App]:
    configured = dataclasses.replace(
        settings,
        smtp_url=f"smtp://127.0.0.1:{smtp.port}?security=none",
        mail_from="Burble <noreply@burble.example>",
    )
    pool = request.getfixturevalue("pg_pool") if settings.database_url else None
    databases = Databases(configured, pool=pool)
    app = App(databases, APP)
    yield app
    app.api.runtime.close()


def _wait_for(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_the_email_is_sent_after_the_commit(app: App, smtp: SmtpServer) -> None:
    app.run("mail", "anonymous", json={"to": "bob@example.com", "fail": False})
    assert _wait_for(lambda: len(smtp.received) == 1)
    assert smtp.received[0].recipients == ["bob@example.com"]
    assert _wait_for(lambda: outbox.emails(app.env.backend)[0].status is outbox.Status.SENT)


def test_a_rolled_back_run_sends_nothing(app: App, smtp: SmtpServer) -> None:
    r = app.post("mail", "anonymous", json={"to": "bob@example.com", "fail": True})
    assert r.status_code == 400, r.text
    app.run("mail", "anonymous", json={"to": "cy@example.com", "fail": False})
    assert _wait_for(lambda: len(smtp.received) == 1)
    time.sleep(0.2)
    assert [m.recipients for m in smtp.received] == [["cy@example.com"]]
    assert len(outbox.emails(app.env.backend)) == 1
