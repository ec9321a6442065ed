"""The session cookie: a user token a browser sends back (docs/users.md "Session cookie").

One cookie per environment, so a Development session never shows up on Live:
`burble_session` for Live, `burble_session_test` for Development. Its value is a user token
(`burble.auth.user_tokens`); it is `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when
the request came over HTTPS. Its `Expires` is the token's maximum lifetime; the server still
checks the token (revocation, 30 days unused) on every request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

LIVE_COOKIE = "burble_session"
DEVELOPMENT_COOKIE = "burble_session_test"
_EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"


def cookie_name(*, development: bool) -> str:
    return DEVELOPMENT_COOKIE if development else LIVE_COOKIE


def _http_date(ms: int) -> str:
    return format_datetime(datetime.fromtimestamp(ms / 1000, UTC), usegmt=True)


def _set_cookie(name: str, value: str, expires: str, secure: bool, max_age: int | None) -> str:
    parts = [f"{name}={value}", f"Expires={expires}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    parts += ["Path=/", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def session_cookie_headers(
    token: str, expires_at: int, secure: bool, *, development: bool
) -> list[tuple[str, str]]:
    """The `Set-Cookie` header that logs a browser in with `token` until `expires_at` (ms
    since the epoch). `secure`: the request came over HTTPS."""
    name = cookie_name(development=development)
    return [("set-cookie", _set_cookie(name, token, _http_date(expires_at), secure, None))]


def clear_session_cookie(secure: bool, *, development: bool) -> list[tuple[str, str]]:
    """The `Set-Cookie` header that removes the session cookie (log out)."""
    name = cookie_name(development=development)
    return [("set-cookie", _set_cookie(name, "", _EPOCH, secure, 0))]
