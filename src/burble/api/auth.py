"""Who is calling (DESIGN §8), in this order:

1. `Authorization: Bearer <token>`, else the `api_token` query parameter: an admin token
   (Live's `burble_tokens`, valid in both environments), else a user token of the
   environment the request is for. A token that is sent but is neither is a 401, checked
   before anything else (the token is never echoed).
2. Else the environment's session cookie (`burble_session`, or `burble_session_test` on
   Development) holding a user token. A cookie that is no longer valid is ignored, not a 401:
   browsers keep stale cookies.
3. Else anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from burble.appdef.model import AppDefinition
from burble.auth.actor import ANONYMOUS, Actor, ActorKind
from burble.auth.sessions import clear_session_cookie, cookie_name, session_cookie_headers
from burble.auth.tokens import TokenStore
from burble.auth.user_tokens import UserTokenStore
from burble.errors import InvalidToken
from burble.runtime import Runtime, Version


@dataclass(frozen=True, slots=True)
class UserAuth:
    """What resolving a user token or session cookie needs for one environment."""

    tokens: UserTokenStore
    users_table: str | None  # the User type's table; None: the environment has no users
    cookie: str  # the session cookie's name


def users_table(definition: AppDefinition) -> str | None:
    user = definition.types.get("User")
    return user.table if user is not None and user.is_user else None


def user_auth(runtime: Runtime, version: Version) -> UserAuth:
    definition = runtime.environment(version).definition
    return UserAuth(
        runtime.user_tokens[version],
        users_table(definition),
        cookie_name(development=version is Version.TEST),
    )


def credential(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    token = request.query_params.get("api_token")
    return token.strip() if token and token.strip() else None


def resolve_actor(request: Request, tokens: TokenStore, users: UserAuth | None = None) -> Actor:
    """The caller; `users` None: admin tokens only (no user tokens, no session cookie)."""
    token = credential(request)
    if token is not None:
        actor = tokens.resolve(token)
        if actor is not None:
            return actor
        user_id = users.tokens.resolve(token, users.users_table) if users is not None else None
        if user_id is None:
            raise InvalidToken()
        return Actor(ActorKind.USER, user_id)
    if users is not None:
        cookie = request.cookies.get(users.cookie)
        if cookie:
            user_id = users.tokens.resolve(cookie, users.users_table)
            if user_id is not None:
                return Actor(ActorKind.USER, user_id)
    return ANONYMOUS


def is_https(request: Request) -> bool:
    """The request came over HTTPS (behind a proxy: as uvicorn's proxy headers tell)."""
    return request.url.scheme in ("https", "wss")


def login_cookie(
    request: Request, version: Version, token: str, expires_at: int
) -> list[tuple[str, str]]:
    """`Set-Cookie` for a log-in answered to this request (Secure over HTTPS)."""
    return session_cookie_headers(
        token, expires_at, is_https(request), development=version is Version.TEST
    )


def logout_cookie(request: Request, version: Version) -> list[tuple[str, str]]:
    """`Set-Cookie` removing this environment's session cookie."""
    return clear_session_cookie(is_https(request), development=version is Version.TEST)
