"""Who is calling: `Authorization: Bearer <token>`, else the `api_token` query parameter,
else anonymous. A token that is sent but not valid is a 401, checked before anything else."""

from __future__ import annotations

from starlette.requests import Request

from burble.auth.actor import ANONYMOUS, Actor
from burble.auth.tokens import TokenStore
from burble.errors import InvalidToken


def credential(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    token = request.query_params.get("api_token")
    return token.strip() if token and token.strip() else None


def resolve_actor(request: Request, tokens: TokenStore) -> Actor:
    token = credential(request)
    if token is None:
        return ANONYMOUS
    actor = tokens.resolve(token)
    if actor is None:
        raise InvalidToken()
    return actor
