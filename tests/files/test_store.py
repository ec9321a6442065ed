"""LocalFileStore (burble.files.store): layout, metadata, atomic writes, URLs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import orjson
import pytest

from burble.errors import BurbleError
from burble.files.store import META, FileStore, LocalFileStore, StoredFile
from burble.files.uploads import Upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32
OWNER = "1671702337369x488321592367327900"


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files" / "test", "//127.0.0.1:8080", "/version-test")


def read(store: FileStore, stored: StoredFile) -> bytes:
    with store.open(stored) as f:
        return f.read()


def test_put_get_open(store: LocalFileStore) -> None:
    stored = store.put(Upload("photo.png", PNG, False, None))
    assert re.fullmatch(r"\d{13}x\d{18}", stored.id)
    assert stored.filename == "photo.png"
    assert stored.content_type == "image/png"
    assert stored.size == len(PNG)
    assert not stored.private and stored.attach_to is None
    assert stored.id.startswith(f"{stored.created_at:013d}x")
    assert store.get(stored.id) == stored
    assert read(store, stored) == PNG


def test_layout_on_disk(store: LocalFileStore) -> None:
    stored = store.put(Upload("plan.pdf", b"%PDF-", True, OWNER))
    folder = store.directory / stored.id
    assert sorted(p.name for p in folder.iterdir()) == [META, "plan.pdf"]
    assert (folder / "plan.pdf").read_bytes() == b"%PDF-"
    meta = orjson.loads((folder / META).read_bytes())
    assert meta == {
        "id": stored.id,
        "filename": "plan.pdf",
        "content_type": "application/pdf",
        "size": 5,
        "private": True,
        "attach_to": OWNER,
        "created_at": stored.created_at,
    }
    assert list((store.directory / ".incoming").iterdir()) == []


def test_names_are_made_safe_by_the_store_too(store: LocalFileStore) -> None:
    assert store.put(Upload(None, PNG, False, None)).filename == "file.png"
    stored = store.put(Upload("../../x.txt", b"x", False, None))
    assert stored.filename == "x.txt"
    assert (store.directory / stored.id / "x.txt").exists()


def test_every_file_gets_its_own_id(store: LocalFileStore) -> None:
    ids = {store.put(Upload("same.png", PNG, False, None)).id for _ in range(20)}
    assert len(ids) == 20


def test_url(tmp_path: Path) -> None:
    test = LocalFileStore(tmp_path / "t", "//127.0.0.1:8080", "/version-test")
    live = LocalFileStore(tmp_path / "l", "https://api.example.com/", "")
    stored = StoredFile("1x2", "Café ☕ #1.png", "image/png", 1, False, None, 0)
    assert test.url(stored) == (
        "//127.0.0.1:8080/version-test/fileupload/f1x2/Caf%C3%A9%20%E2%98%95%20%231.png"
    )
    assert live.url(stored) == (
        "https://api.example.com/fileupload/f1x2/Caf%C3%A9%20%E2%98%95%20%231.png"
    )


@pytest.mark.parametrize(
    "file_id", ["", "1x2", "..", "../x", "1x2/../..", ".incoming", "f1x2", "1x2 ", "1x2\x00"]
)
def test_unknown_or_malformed_ids(store: LocalFileStore, file_id: str) -> None:
    store.put(Upload("a.png", PNG, False, None))
    assert store.get(file_id) is None


def test_a_file_without_metadata_is_not_served(store: LocalFileStore) -> None:
    stored = store.put(Upload("a.png", PNG, False, None))
    (store.directory / stored.id / META).unlink()
    assert store.get(stored.id) is None


def test_a_file_with_the_wrong_size_is_not_served(store: LocalFileStore) -> None:
    stored = store.put(Upload("a.png", PNG, False, None))
    (store.directory / stored.id / "a.png").write_bytes(PNG[:10])
    assert store.get(stored.id) is None
    (store.directory / stored.id / "a.png").unlink()
    assert store.get(stored.id) is None


@pytest.mark.parametrize(
    "meta",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"id": "X"}',
    ],
)
def test_unreadable_metadata_is_not_served(store: LocalFileStore, meta: bytes) -> None:
    stored = store.put(Upload("a.png", PNG, False, None))
    (store.directory / stored.id / META).write_bytes(meta)
    assert store.get(stored.id) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", "1671702337369x000000000000000000"),  # another file's id
        ("filename", "../../etc/passwd"),  # never a path outside the folder
        ("filename", ".meta.json"),
        ("size", "5"),
        ("private", "no"),
        ("attach_to", 5),
        ("created_at", None),
    ],
)
def test_tampered_metadata_is_not_served(store: LocalFileStore, key: str, value: object) -> None:
    stored = store.put(Upload("a.png", PNG, False, None))
    path = store.directory / stored.id / META
    meta = orjson.loads(path.read_bytes())
    meta[key] = value
    path.write_bytes(orjson.dumps(meta))
    assert store.get(stored.id) is None


def test_a_crash_before_the_rename_leaves_nothing_visible(
    store: LocalFileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder becomes visible in one rename; if that never happens, nothing is served."""
    before = store.put(Upload("a.png", PNG, False, None))

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(BurbleError, match="could not store an uploaded file"):
        store.put(Upload("b.png", PNG, False, None))
    monkeypatch.undo()
    assert [p.name for p in store.directory.iterdir() if not p.name.startswith(".")] == [before.id]
    assert list((store.directory / ".incoming").iterdir()) == []


def test_half_written_files_are_never_served(store: LocalFileStore) -> None:
    """What a crash mid-write leaves (a folder under .incoming/) is not reachable by id."""
    stored = store.put(Upload("a.png", PNG, False, None))
    os.rename(store.directory / stored.id, store.directory / ".incoming" / stored.id)
    assert store.get(stored.id) is None
    assert store.get(".incoming") is None
    # A complete folder without its metadata yet (the old write order) is not served either.
    folder = store.directory / "1671702337369x488321592367327900"
    folder.mkdir()
    (folder / "x.png").write_bytes(PNG)
    assert store.get(folder.name) is None


def test_two_stores_on_two_directories_are_separate(tmp_path: Path) -> None:
    live = LocalFileStore(tmp_path / "live", "//h", "")
    test = LocalFileStore(tmp_path / "test", "//h", "/version-test")
    stored = live.put(Upload("a.png", PNG, False, None))
    assert live.get(stored.id) == stored
    assert test.get(stored.id) is None


def test_several_servers_may_share_a_directory(tmp_path: Path) -> None:
    one = LocalFileStore(tmp_path / "shared", "//a", "")
    two = LocalFileStore(tmp_path / "shared", "//b", "")
    stored = one.put(Upload("a.png", PNG, False, None))
    assert two.get(stored.id) == stored
    assert read(two, stored) == PNG


def test_is_a_file_store() -> None:
    store: FileStore = LocalFileStore(Path("/nonexistent"), "//h", "")
    assert store.get("1x2") is None
