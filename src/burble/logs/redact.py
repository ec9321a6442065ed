"""What a log entry may keep of a value: JSON, with secrets hidden and long texts cut.

A mapping key that names a secret — containing `password`, `passwd`, `token`, `secret`,
`api_key`/`apikey`, `authorization`, `cookie` or `private_key`, in any case, with `-`, ` `
or `_` between words — has its value replaced by `"***"`, at any depth. Texts longer than
`MAX_TEXT` characters are cut (file contents sent as base64 would fill the log).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
MAX_TEXT = 2000
MAX_DEPTH = 20
_SECRET = re.compile(
    r"password|passwd|token|secret|api_?key|authorization|cookie|private_?key", re.IGNORECASE
)


def is_secret(key: str) -> bool:
    return _SECRET.search(re.sub(r"[\s-]+", "_", key)) is not None


def _text(value: str) -> str:
    if len(value) <= MAX_TEXT:
        return value
    return f"{value[:MAX_TEXT]}… ({len(value)} characters)"


def redact(value: object, depth: int = 0) -> Any:
    """`value` as JSON-ready data (dicts, lists, texts, numbers, booleans, None) with every
    secret masked. Other objects become their `to_json()` or their text."""
    if depth > MAX_DEPTH:
        return "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Mapping):
        return {
            str(k): MASK if is_secret(str(k)) else redact(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, depth + 1) for v in value]
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return redact(to_json(), depth + 1)
    return _text(str(value))
