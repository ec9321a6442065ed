"""`burble mail list | show | send-pending`, in-process on SQLite, delivering to a real SMTP
server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from burble.cli.main import main
from burble.mail import outbox
from burble.mail.message import Message
from burble.runtime import Databases
from burble.settings import Settings
from tests.mail.smtpd import SmtpServer, free_port


@pytest.fixture
def runner(cli_runner: CliRunner) -> CliRunner:
    return cli_runner  # tests/conftest.py


@pytest.fixture
def app(cli_app: Path) -> Path:
    return cli_app


@pytest.fixture
def databases(app: Path) -> Iterator[Databases]:
    dbs = Databases(Settings.from_env(app, {}))
    yield dbs
    dbs.close()


def run(
    runner: CliRunner, *args: str, code: int = 0, env: dict[str, str] | None = None
) -> tuple[str, str]:
    result = runner.invoke(main, list(args), env=env)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def test_list_and_show(runner: CliRunner, app: Path, databases: Databases) -> None:
    assert run(runner, "mail", "list", "--app", str(app))[0] == "No emails.\n"
    message = Message(
        to=("ann@example.com", "bo@example.com"),
        bcc=("audit@example.com",),
        sender_name="Rentals",
        reply_to="owner@example.com",
        subject="Welcome",
        body="Hello Ann,\nwelcome!",
    )
    with databases.test.write() as tx:
        first = outbox.queue(tx, databases.test, message, run_id="r1")
    with databases.live.write() as tx:
        outbox.queue(tx, databases.live, Message(to=("live@example.com",), subject="L", body="b"))
    out, _ = run(runner, "mail", "list", "--app", str(app))
    (line,) = out.splitlines()
    assert line.startswith(first) and "queued" in line
    assert "to ann@example.com, bo@example.com  'Welcome'" in line
    assert (
        "live@example.com" in run(runner, "mail", "list", "--app", str(app), "--version", "live")[0]
    )
    assert run(runner, "mail", "list", "--app", str(app), "--status", "sent")[0] == "No emails.\n"
    out, _ = run(runner, "mail", "show", first, "--app", str(app))
    head, body = out.split("\n\n", 1)
    assert body == "Hello Ann,\nwelcome!\n"
    assert "Status: queued" in head and "Run: r1" in head and "Bcc: audit@example.com" in head
    assert "Reply-To: owner@example.com" in head and "Sender name: Rentals" in head
    assert "Sent:" not in head  # not yet
    _, err = run(runner, "mail", "show", "nope", "--app", str(app), code=1)
    assert "no email with id 'nope'" in err


def test_send_pending(runner: CliRunner, app: Path, databases: Databases) -> None:
    _, err = run(runner, "mail", "send-pending", "--app", str(app), code=1)
    assert "BURBLE_SMTP_URL is not set: emails stay in the outbox" in err
    ids = []
    for i in range(3):
        with databases.test.write() as tx:
            ids.append(
                outbox.queue(
                    tx,
                    databases.test,
                    Message(to=(f"u{i}@example.com",), subject=f"#{i}", body="b"),
                )
            )
    env = {"BURBLE_SMTP_URL": f"smtp://127.0.0.1:{free_port()}?security=none&timeout=5"}
    _, err = run(runner, "mail", "send-pending", "--app", str(app), env=env, code=1)
    assert "BURBLE_MAIL_FROM must be set" in err
    env["BURBLE_MAIL_FROM"] = "Rentals <noreply@rentals.example>"
    out, err = run(
        runner, "mail", "send-pending", "--app", str(app), env=env, code=1
    )  # nobody listens
    assert out.startswith("Sent 0 emails via SMTP 127.0.0.1:")
    assert err.count("ConnectionRefusedError") == 3 and err.endswith("3 failed.\n")
    server = SmtpServer()
    try:
        env["BURBLE_SMTP_URL"] = f"smtp://127.0.0.1:{server.port}?security=none&timeout=5"
        out, _ = run(runner, "mail", "send-pending", "--app", str(app), env=env)
        assert out.startswith("Sent 0 emails")  # failed emails wait for --retry-failed
        out, _ = run(runner, "mail", "send-pending", "--retry-failed", "--app", str(app), env=env)
        assert (
            out
            == f"Sent 3 emails via SMTP 127.0.0.1:{server.port} (none) from noreply@rentals.example.\n"
        )
        assert sorted(r.message["Subject"] for r in server.received) == ["#0", "#1", "#2"]
    finally:
        server.stop()
    out, _ = run(runner, "mail", "list", "--app", str(app), "--status", "sent")
    assert len(out.splitlines()) == 3
