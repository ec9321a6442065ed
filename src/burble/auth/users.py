"""Finding users by their credentials. Users themselves are things of the built-in User type
(created, changed and validated by `burble.things.service`); their email is stored trimmed
and lower-cased in the `_email` column, their password as an argon2id hash."""

from __future__ import annotations

from burble.store.backend import Backend


def normalize_email(email: str) -> str:
    """An email as it is stored and compared: trimmed, lower-cased."""
    return email.strip().lower()


def user_id_by_email(backend: Backend, users_table: str, email: str) -> str | None:
    """The id of the user with this email (any case), or None."""
    table = backend.dialect.table(users_table)
    with backend.read() as tx:
        row = tx.fetchone(f"SELECT _id FROM {table} WHERE _email = ?", [normalize_email(email)])
    return None if row is None else str(row[0])
