"""Where uploaded files are kept, and the URL that serves each.

`FileStore` is the seam: `put` keeps an upload and describes it, `get` finds a file's
description by id (`None` when there is no complete file with that id), `open` reads its bytes
as a binary stream the caller closes, and `url` is the address a client fetches it from.
Stored files never change, so a file's id is enough to cache it.

`LocalFileStore` keeps one environment's files in a directory:

    <directory>/<id>/<filename>       the bytes
    <directory>/<id>/.meta.json       id, filename, content_type, size, private, attach_to,
                                      created_at (epoch ms)
    <directory>/.incoming/            files being written

A file is written into a fresh folder under `.incoming/` (bytes, then metadata, each synced
to disk), and the folder is then renamed to `<id>` in one atomic step. A crash leaves at most a
folder under `.incoming/`, never a half file: a file is served only when its folder and
metadata exist and the bytes have the recorded size. Left-over `.incoming/` folders are never
read and may be deleted. Several servers may share one directory (the rename is their only
coordination; ids never collide).

The URL is `{public_url}{url_prefix}/fileupload/f{id}/{filename}` (the filename
percent-encoded), like Bubble's `//s3.amazonaws.com/appforest_uf/f<id>/<filename>`; Burble
serves it itself (`burble.api.files`). An S3-compatible store would implement the same four
methods: `put` uploads object `<id>/<filename>` with its metadata, `get` reads the metadata
(HEAD), `open` returns the object's body stream, and `url` returns the bucket's or CDN's
address — so its public files need not go through Burble at all.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote

import orjson

from burble import values
from burble.errors import BurbleError
from burble.files.uploads import Upload, content_type, sanitize_filename

__all__ = ["META", "FileStore", "LocalFileStore", "StoredFile"]

log = logging.getLogger("burble.files")

META = ".meta.json"  # sanitized filenames never start with a dot, so never collide with it
INCOMING = ".incoming"


@dataclass(frozen=True)
class StoredFile:
    id: str  # a Bubble unique id
    filename: str
    content_type: str
    size: int  # bytes
    private: bool
    attach_to: str | None  # unique id of the thing that owns the file
    created_at: int  # epoch ms


class FileStore(Protocol):
    """One environment's files (see the module docstring)."""

    def put(self, upload: Upload) -> StoredFile: ...

    def get(self, file_id: str) -> StoredFile | None: ...

    def open(self, stored: StoredFile) -> BinaryIO: ...

    def url(self, stored: StoredFile) -> str: ...


class LocalFileStore:
    """Files in a local (or shared, mounted) directory, one store per environment."""

    def __init__(
        self,
        directory: Path,
        public_url: str,
        url_prefix: str,
        clock: Callable[[], int] = values.now_ms,
    ) -> None:
        self.directory = directory
        self.public_url = public_url.rstrip("/")
        self.url_prefix = url_prefix.rstrip("/")
        self._clock = clock

    def put(self, upload: Upload) -> StoredFile:
        now = self._clock()
        filename = sanitize_filename(upload.filename, upload.contents)
        stored = StoredFile(
            id=values.new_unique_id(now),
            filename=filename,
            content_type=content_type(filename),
            size=len(upload.contents),
            private=upload.private,
            attach_to=upload.attach_to,
            created_at=now,
        )
        try:
            incoming = self.directory / INCOMING
            incoming.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=stored.id + "-", dir=incoming))
            try:
                _write(staging / filename, upload.contents)
                _write(staging / META, orjson.dumps(asdict(stored)))
                _sync_dir(staging)
                os.rename(staging, self.directory / stored.id)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            _sync_dir(self.directory)
        except OSError as exc:
            raise BurbleError(
                f"could not store an uploaded file in {self.directory}: {exc}"
            ) from exc
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        if not values.is_unique_id(file_id):  # also keeps the id from naming another path
            return None
        folder = self.directory / file_id
        try:
            raw = (folder / META).read_bytes()
        except OSError:
            return None
        stored = _from_meta(raw)
        if stored is None or stored.id != file_id:
            log.warning("ignoring the unreadable file metadata in %s", folder)
            return None
        try:
            size = (folder / stored.filename).stat().st_size
        except OSError:
            return None
        return stored if size == stored.size else None

    def open(self, stored: StoredFile) -> BinaryIO:
        return (self.directory / stored.id / stored.filename).open("rb")

    def url(self, stored: StoredFile) -> str:
        name = quote(stored.filename, safe="")
        return f"{self.public_url}{self.url_prefix}/fileupload/f{stored.id}/{name}"


def _write(path: Path, data: bytes) -> None:
    with path.open("xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _sync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (no-op where directories can't be
    opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _from_meta(raw: bytes) -> StoredFile | None:
    try:
        meta = orjson.loads(raw)
        stored = StoredFile(
            id=meta["id"],
            filename=meta["filename"],
            content_type=meta["content_type"],
            size=meta["size"],
            private=meta["private"],
            attach_to=meta["attach_to"],
            created_at=meta["created_at"],
        )
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    ok = (
        isinstance(stored.id, str)
        and isinstance(stored.filename, str)
        and sanitize_filename(stored.filename) == stored.filename  # never a path elsewhere
        and isinstance(stored.content_type, str)
        and isinstance(stored.size, int)
        and isinstance(stored.private, bool)
        and (stored.attach_to is None or isinstance(stored.attach_to, str))
        and isinstance(stored.created_at, int)
    )
    return stored if ok else None
