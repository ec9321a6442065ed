"""Who is calling: an admin (API token), a user (user token, later), or anonymous."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ActorKind(enum.Enum):
    ADMIN = "admin"
    USER = "user"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    user_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind is ActorKind.ADMIN


ADMIN = Actor(ActorKind.ADMIN)
ANONYMOUS = Actor(ActorKind.ANONYMOUS)
