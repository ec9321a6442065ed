"""The outbox on every backend, with delivery to a real SMTP server on a loopback port:
queued in the caller's transaction, sent after it, never dropped, never sent twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from burble.mail import outbox
from burble.mail.message import Message, SendFailed
from burble.mail.outbox import CLAIM_MS, Status
from burble.mail.smtp import SmtpConfig, SmtpMailer
from burble.runtime import Databases
from burble.store.backend import Backend
from tests.auth.support import START, Clock
from tests.mail.smtpd import PASSWORD, USER, Certificate, SmtpServer, free_port, make_certificate

HELLO = Message(to=("ann@example.com",), subject="Hello", body="Welcome, Ann!")


class Rollback(Exception):
    pass


@pytest.fixture
def backend(databases: Databases) -> Backend:
    return databases.test


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    s = SmtpServer()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def plain_mailer(port: int, sender: str = "Rentals <noreply@rentals.example>") -> SmtpMailer:
    return SmtpMailer(
        SmtpConfig.from_url(f"smtp://127.0.0.1:{port}?security=none&timeout=5"), sender
    )


def queue(backend: Backend, message: Message = HELLO, **kw: object) -> str:
    with backend.write() as tx:
        return outbox.queue(tx, backend, message, **kw)  # type: ignore[arg-type]


def test_without_smtp_emails_stay_in_the_outbox(backend: Backend) -> None:
    first = queue(backend, run_id="run-1", now=START)
    second = queue(
        backend,
        Message(to=("bo@example.com",), subject="Hi", body="<b>Hi</b>", html=True),
        now=START + 1,
    )
    listed = outbox.emails(backend)
    assert [e.id for e in listed] == [second, first]  # newest first
    email = outbox.email(backend, first)
    assert email is not None
    assert email.message == HELLO
    assert (email.status, email.attempts, email.sent_at, email.error) == (
        Status.QUEUED,
        0,
        None,
        None,
    )
    assert (email.created_at, email.run_id) == (START, "run-1")
    assert outbox.emails(backend, status=Status.SENT) == []
    assert outbox.email(backend, "nope") is None
    html = outbox.email(backend, second)
    assert html is not None and html.message.html


def test_delivery_over_smtp(backend: Backend, server: SmtpServer) -> None:
    message = Message(
        to=(" ann@example.com ",),
        cc=("cy@example.com",),
        bcc=("secret@example.com",),
        reply_to="owner@example.com",
        sender_name="Ann's\r\nRentals",
        subject="Your booking\nis confirmed",
        body="<p>See you soon</p>",
        html=True,
    )
    email_id = queue(backend, message, now=START)
    queue(backend, now=START + 1)
    clock = Clock()
    done = outbox.deliver_pending(backend, plain_mailer(server.port), clock=clock)
    assert len(done.sent) == 2 and done.failed == [] and done.sent[0] == email_id
    first = server.received[0]
    assert first.sender == "noreply@rentals.example"
    assert first.recipients == ["ann@example.com", "cy@example.com", "secret@example.com"]
    headers = first.message
    assert headers["From"] == "Ann's Rentals <noreply@rentals.example>"
    assert headers["To"] == "ann@example.com" and headers["Cc"] == "cy@example.com"
    assert headers["Bcc"] is None  # in the envelope only
    assert headers["Reply-To"] == "owner@example.com"
    assert headers["Subject"] == "Your booking is confirmed"
    assert headers["Message-ID"].endswith("@rentals.example>")
    assert headers.get_content_type() == "text/html"
    assert "<p>See you soon</p>" in headers.get_payload(decode=True).decode()
    second = server.received[1].message
    assert second["From"] == "Rentals <noreply@rentals.example>"  # the sender's own name
    assert second.get_content_type() == "text/plain"
    sent = outbox.email(backend, email_id)
    assert sent is not None
    assert (sent.status, sent.sent_at, sent.attempts, sent.error) == (Status.SENT, START, 1, None)
    # Nothing is sent twice.
    assert outbox.deliver_pending(backend, plain_mailer(server.port)).sent == []
    assert len(server.received) == 2


def test_starttls_with_a_login(backend: Backend, certificate: Certificate) -> None:
    server = SmtpServer("starttls", certificate)
    try:
        user = USER.replace("@", "%40")
        url = f"smtp://{user}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{server.port}?timeout=5"
        config = SmtpConfig.from_url(url)
        assert (config.username, config.password) == (USER, PASSWORD)
        queue(backend)
        mailer = SmtpMailer(config, "noreply@rentals.example", certificate.client_context())
        assert outbox.deliver_pending(backend, mailer).failed == []
        assert server.inbox.logins == [USER] and len(server.received) == 1
        # A wrong password is the server's refusal, kept as the email's error.
        bad = SmtpMailer(
            SmtpConfig.from_url(url.replace("%20pass", "%20nope")),
            "noreply@rentals.example",
            certificate.client_context(),
        )
        failed_id = queue(backend)
        assert outbox.deliver_pending(backend, bad).failed == [failed_id]
        failed = outbox.email(backend, failed_id)
        assert failed is not None and failed.status is Status.FAILED
        assert failed.error is not None and "535" in failed.error and PASSWORD not in failed.error
        # Certificates are verified: the system's trust store does not know this one.
        untrusted = SmtpMailer(config, "noreply@rentals.example")
        with pytest.raises(SendFailed, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.send(HELLO)
    finally:
        server.stop()


def test_implicit_tls(backend: Backend, certificate: Certificate) -> None:
    server = SmtpServer("ssl", certificate)
    try:
        user = USER.replace("@", "%40")
        url = f"smtps://{user}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{server.port}?timeout=5"
        mailer = SmtpMailer(
            SmtpConfig.from_url(url), "noreply@rentals.example", certificate.client_context()
        )
        queue(backend)
        assert len(outbox.deliver_pending(backend, mailer).sent) == 1
        assert server.inbox.logins == [USER] and len(server.received) == 1
    finally:
        server.stop()


def test_starttls_is_required_when_asked(server: SmtpServer) -> None:
    mailer = SmtpMailer(
        SmtpConfig.from_url(f"smtp://127.0.0.1:{server.port}?timeout=5"), "a@b.example"
    )
    with pytest.raises(SendFailed, match="does not offer STARTTLS"):
        mailer.send(HELLO)
    assert server.received == []


def test_failures_are_kept_and_can_be_retried(backend: Backend) -> None:
    port = free_port()  # nothing listens here yet
    email_id = queue(backend)
    done = outbox.deliver_pending(backend, plain_mailer(port))
    assert done.failed == [email_id]
    failed = outbox.email(backend, email_id)
    assert failed is not None and failed.status is Status.FAILED and failed.sent_at is None
    assert failed.error is not None and "ConnectionRefusedError" in failed.error
    assert outbox.deliver_pending(backend, plain_mailer(port)).failed == []  # not retried alone
    assert outbox.requeue_failed(backend, []) == 0
    assert outbox.requeue_failed(backend, ["other"]) == 0
    assert outbox.requeue_failed(backend) == 1
    server = SmtpServer()
    try:
        assert outbox.deliver_pending(backend, plain_mailer(server.port)).sent == [email_id]
    finally:
        server.stop()
    sent = outbox.email(backend, email_id)
    assert (
        sent is not None
        and sent.status is Status.SENT
        and sent.attempts == 2
        and sent.error is None
    )


def test_refused_recipients(backend: Backend, server: SmtpServer) -> None:
    some = queue(
        backend, Message(to=("ann@example.com", "refuse@example.com"), subject="s", body="b")
    )
    none = queue(backend, Message(to=("refuse-me@example.com",), subject="s", body="b"))
    done = outbox.deliver_pending(backend, plain_mailer(server.port))
    assert (done.sent, done.failed) == ([some], [none])
    partly = outbox.email(backend, some)
    assert partly is not None and partly.status is Status.SENT
    assert partly.error == "refused: refuse@example.com: 550 5.1.1 no such mailbox"
    assert server.received[0].recipients == ["ann@example.com"]
    refused = outbox.email(backend, none)
    assert (
        refused is not None
        and refused.error is not None
        and "every recipient refused" in refused.error
    )


def test_a_rolled_back_transaction_sends_nothing(backend: Backend, server: SmtpServer) -> None:
    with pytest.raises(Rollback), backend.write() as tx:
        outbox.queue(tx, backend, HELLO)
        raise Rollback
    assert outbox.emails(backend) == []
    assert outbox.deliver_pending(backend, plain_mailer(server.port)).sent == []
    assert server.received == []


def test_an_email_being_sent_elsewhere_is_left_alone(backend: Backend, server: SmtpServer) -> None:
    email_id = queue(backend)
    clock = Clock()
    table = backend.dialect.table("burble_outbox")
    with backend.write() as tx:  # another process claimed it and is sending
        tx.execute(
            f"UPDATE {table} SET status = ?, claimed_at = ? WHERE id = ?",
            ["sending", START, email_id],
        )
    assert outbox.deliver_pending(backend, plain_mailer(server.port), clock=clock).sent == []
    clock.advance(CLAIM_MS)  # it died: the email is tried again
    assert outbox.deliver_pending(backend, plain_mailer(server.port), clock=clock).sent == [
        email_id
    ]
    assert len(server.received) == 1


def test_a_broken_mailer_fails_the_email(backend: Backend) -> None:
    class Broken:
        def send(self, message: Message) -> dict[str, str]:
            raise RuntimeError("bug")

        def describe(self) -> str:
            return "broken"

    email_id = queue(backend)
    assert outbox.deliver_pending(backend, Broken()).failed == [email_id]
    failed = outbox.email(backend, email_id)
    assert failed is not None and failed.error == "internal error: RuntimeError: bug"


def test_the_batch_limit(backend: Backend, server: SmtpServer) -> None:
    ids = [queue(backend, now=START + i) for i in range(3)]
    assert outbox.deliver_pending(backend, plain_mailer(server.port), limit=2).sent == ids[:2]
    assert outbox.deliver_pending(backend, plain_mailer(server.port), limit=2).sent == ids[2:]
