"""One error-mapping table; every domain error is in it, and every body has Bubble's shape."""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

import orjson
import pytest

from burble import errors
from burble.api.errors import ERROR_TABLE, error_response
from burble.store.sqlite import SQLiteBackend


def _domain_errors() -> list[type[errors.BurbleError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.BurbleError) and cls.__module__ == errors.__name__
    ]


def test_every_domain_error_is_mapped_explicitly() -> None:
    missing = [cls.__name__ for cls in _domain_errors() if cls not in ERROR_TABLE]
    assert not missing


@pytest.mark.parametrize("cls", [c for c in ERROR_TABLE if c is not errors.InvalidToken])
def test_bodies_are_shape_a(cls: type[errors.BurbleError]) -> None:
    exc = cls.__new__(cls)
    errors.BurbleError.__init__(exc, "something")
    response = error_response(exc)
    body = orjson.loads(response.body)
    assert body["statusCode"] == response.status_code
    assert set(body["body"]) == {"status", "message"}
    if response.status_code in (502, 504):  # an outside service failed: its (scrubbed) message
        assert body["body"]["message"] == "something"
    elif response.status_code >= 500:
        assert "something" not in body["body"]["message"]  # no internals leak


def test_sqlite_errors_are_translated(tmp_path: Path) -> None:
    backend = SQLiteBackend(tmp_path / "x.sqlite")
    with backend.write() as tx:
        tx.execute("CREATE TABLE t (k TEXT UNIQUE)")
        tx.execute("INSERT INTO t VALUES ('a')")
    with pytest.raises(errors.Conflict), backend.write() as tx:
        tx.execute("INSERT INTO t VALUES ('a')")
    with pytest.raises(errors.StorageError), backend.read() as tx:
        tx.fetchall("SELECT nope FROM t")
    with backend.read() as tx:
        assert tx.fetchall("SELECT k FROM t") == [("a",)]
    backend.close()
    assert not isinstance(sqlite3.Error(), errors.BurbleError)
