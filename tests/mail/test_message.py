"""Emails' limits (bubble-semantics.md §12) and the SMTP settings, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from burble.errors import BadRequest, BurbleError
from burble.mail.message import (
    MAX_RECIPIENTS,
    InvalidRecipient,
    Message,
    NoRecipient,
    TooManyRecipients,
)
from burble.mail.smtp import Security, SmtpConfig, mailer_from_settings, parse_sender
from burble.settings import Settings


def addresses(n: int) -> tuple[str, ...]:
    return tuple(f"user{i}@example.com" for i in range(n))


def test_at_most_50_recipients_counting_cc_and_bcc() -> None:
    assert MAX_RECIPIENTS == 50
    Message(to=addresses(50), subject="s", body="b").checked()
    Message(to=addresses(30), cc=addresses(10), bcc=addresses(10), subject="s", body="b").checked()
    with pytest.raises(TooManyRecipients) as many:
        Message(
            to=addresses(30), cc=addresses(10), bcc=addresses(11), subject="s", body="b"
        ).checked()
    assert many.value.message == (
        "An email may have at most 50 recipients (To, Cc and Bcc together), not 51"
    )
    assert isinstance(many.value, BadRequest)


def test_addresses_are_checked() -> None:
    with pytest.raises(NoRecipient, match="at least one recipient"):
        Message(to=(), bcc=("a@example.com",), subject="s", body="b").checked()
    for bad in ("ann", "ann@example", "a b@example.com", "Ann <ann@example.com>", "a@b.co\nb@c.co"):
        with pytest.raises(InvalidRecipient) as invalid:
            Message(to=(bad,), subject="s", body="b").checked()
        assert invalid.value.message == f"Not a valid email address: {bad!r}"
    with pytest.raises(InvalidRecipient):
        Message(to=("a@example.com",), reply_to="nope", subject="s", body="b").checked()
    ok = Message(to=(" a@example.com ",), subject="a\r\nBcc: x@evil.example", body="b\nc").checked()
    assert ok.to == ("a@example.com",)
    assert ok.subject == "a Bcc: x@evil.example"  # no header injection
    assert ok.body == "b\nc"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", ("mail.example.com", 587, None, None, Security.STARTTLS, 10.0)),
        ("smtps://mail.example.com", ("mail.example.com", 465, None, None, Security.SSL, 10.0)),
        (
            "smtp://u%40x.com:p%3Aw%2Fd@mail.example.com:2525?timeout=3.5",
            ("mail.example.com", 2525, "u@x.com", "p:w/d", Security.STARTTLS, 3.5),
        ),
        ("smtp://localhost:25?security=none", ("localhost", 25, None, None, Security.NONE, 10.0)),
        ("smtp://h:587?security=SSL", ("h", 587, None, None, Security.SSL, 10.0)),
        ("smtp://apikey:@h", ("h", 587, "apikey", "", Security.STARTTLS, 10.0)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    c = SmtpConfig.from_url(url)
    assert (c.host, c.port, c.username, c.password, c.security, c.timeout) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://h", "must start with smtp:// or smtps://"),
        ("smtp://", "names no host"),
        ("smtp://h:99999", "is not a valid URL"),
        ("smtp://h?security=tls", "unknown security 'tls'"),
        ("smtp://h?timeout=0", "timeout"),
        ("smtp://h?timeout=x", "timeout"),
        ("smtp://h?port=1", "unknown options port"),
    ],
)
def test_bad_smtp_urls(url: str, reason: str) -> None:
    with pytest.raises(BurbleError, match=reason):
        SmtpConfig.from_url(url)


def test_passwords_are_never_shown() -> None:
    c = SmtpConfig.from_url("smtp://ann:hunter22@mail.example.com")
    assert "hunter22" not in c.describe() and "hunter22" not in repr(c)
    assert c.describe() == "SMTP ann@mail.example.com:587 (starttls)"
    with pytest.raises(BurbleError) as bad:
        SmtpConfig.from_url("smtp://ann:hunter22@mail.example.com?security=x")
    assert "hunter22" not in bad.value.message
    settings = Settings.from_env(Path("."), {"BURBLE_SMTP_URL": "smtp://ann:hunter22@h"})
    assert "hunter22" not in repr(settings)


def test_mailer_from_settings() -> None:
    app = Path(".")
    assert mailer_from_settings(Settings.from_env(app, {})) is None  # emails stay queued
    with pytest.raises(BurbleError, match="BURBLE_MAIL_FROM must be set"):
        mailer_from_settings(Settings.from_env(app, {"BURBLE_SMTP_URL": "smtp://h"}))
    env = {"BURBLE_SMTP_URL": "smtps://h", "BURBLE_MAIL_FROM": "Rentals <noreply@rentals.example>"}
    mailer = mailer_from_settings(Settings.from_env(app, env))
    assert mailer is not None
    assert mailer.describe() == "SMTP h:465 (ssl) from noreply@rentals.example"
    with pytest.raises(BurbleError, match="BURBLE_MAIL_FROM must be an address"):
        mailer_from_settings(Settings.from_env(app, {**env, "BURBLE_MAIL_FROM": "Rentals"}))
    assert parse_sender("noreply@rentals.example") == ("", "noreply@rentals.example")
