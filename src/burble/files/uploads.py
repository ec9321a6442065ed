"""Bubble's upload object, read strictly (seed 003, "Sending Data" §3 Files and Images).

A file or image value may be a URL (a string, stored as sent) or an object that carries the
file itself:

    {"filename": "plan.pdf", "contents": "<base64>", "private": false, "attach_to": "<unique id>"}

`contents` is required: standard base64 (`+/`), padding optional, whitespace and line breaks
ignored, a `data:<type>;base64,` prefix tolerated. `filename` is optional (it gives the file
its type); `private` is optional, `true` or `false`; `attach_to` is the unique id of the thing
that owns the file, required when `private` is true. Bubble answers INVALID_DATA whenever
"there is an ambiguity in processing the data sent", so anything else is refused with a reason
(`UploadInvalid`), including unknown keys: a misspelt `"privat": true` must not silently make
a public file.

The filename is made safe to store and to serve: the last path segment only (`../../x.png`
becomes `x.png`), no control or format characters, none of `<>:"|?*`, no leading or trailing
dots or spaces, at most 255 UTF-8 bytes (the extension is kept). Without a filename the file is
called `file`; a name without an extension gets one guessed from the data URL's media type or
the first bytes of the contents (PNG, JPEG, GIF, WebP, PDF, ZIP), when they say.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import unicodedata
from dataclasses import dataclass

from burble import values
from burble.errors import BurbleError

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "KEYS",
    "MAX_FILENAME_BYTES",
    "Upload",
    "UploadInvalid",
    "content_type",
    "parse_upload",
    "sanitize_filename",
]

DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FILENAME_BYTES = 255
DEFAULT_NAME = "file"
KEYS = ("filename", "contents", "private", "attach_to")


class UploadInvalid(BurbleError):
    """An upload object that cannot be read unambiguously (400 INVALID_DATA).

    `parse_upload` raises it with the reason alone (`contents is not valid base64`); the Data
    API re-raises it naming the field (`Invalid data for field photo: ...`).
    """


@dataclass(frozen=True)
class Upload:
    """A file sent in a request, ready to store. `filename` is already safe (see the module
    docstring); a store still passes it through `sanitize_filename`, which keeps a safe name
    as it is and names a `None` one."""

    filename: str | None
    contents: bytes
    private: bool
    attach_to: str | None


# --------------------------------------------------------------------------- parsing

_DATA_URL = re.compile(r"data:([^,;]*)((?:;[^,;]*)*),", re.IGNORECASE)
_WHITESPACE = re.compile(r"[\t\n\r ]+")


def parse_upload(value: dict[str, object], max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> Upload:
    """Read an upload object; raises `UploadInvalid` with a human reason."""
    unknown = [key for key in value if key not in KEYS]
    if unknown:
        raise UploadInvalid(
            f"unknown key {_show(unknown[0])} in a file object "
            "(expected filename, contents, private, attach_to)"
        )
    private = value.get("private")
    if private is None:
        private = False
    if not isinstance(private, bool):
        raise UploadInvalid("private must be true or false")
    attach_to = value.get("attach_to")
    if attach_to is not None:
        if not isinstance(attach_to, str):
            raise UploadInvalid("attach_to must be the unique id of a thing, as a text")
        attach_to = attach_to.strip() or None
        if attach_to is not None and not values.is_unique_id(attach_to):
            raise UploadInvalid(f"attach_to is not a unique id: {_show(attach_to)}")
    if private and attach_to is None:
        raise UploadInvalid(
            "a private file needs attach_to, the unique id of the thing that owns it"
        )
    filename = value.get("filename")
    if filename is not None and not isinstance(filename, str):
        raise UploadInvalid("filename must be a text")
    contents, media_type = _decode(value.get("contents"), max_bytes)
    name = sanitize_filename(filename, contents, media_type)
    return Upload(name, contents, private, attach_to)


def _decode(raw: object, max_bytes: int) -> tuple[bytes, str | None]:
    """(the bytes, the data URL's media type if any)."""
    if raw is None:
        raise UploadInvalid("contents is missing: send the file as base64-encoded data")
    if not isinstance(raw, str):
        raise UploadInvalid("contents must be a text of base64-encoded data")
    text = raw.strip()
    media_type: str | None = None
    if text[:5].lower() == "data:":
        match = _DATA_URL.match(text)
        params = match.group(2).lower().split(";") if match else []
        if match is None or "base64" not in params:
            raise UploadInvalid("contents is a data URL that is not base64-encoded")
        media_type = match.group(1).strip().lower() or None
        text = text[match.end() :]
    if any(c in text for c in "\t\n\r "):  # a fast scan: contents may be megabytes
        text = _WHITESPACE.sub("", text)
    if not text:
        raise UploadInvalid("contents is empty")
    if len(text) % 4 == 1:
        raise UploadInvalid("contents is not valid base64")
    text += "=" * (-len(text) % 4)
    padding = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    if len(text) // 4 * 3 - padding > max_bytes:  # refused before decoding
        raise UploadInvalid(f"the file is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UploadInvalid("contents is not valid base64") from None
    if len(data) > max_bytes:
        raise UploadInvalid(f"the file is larger than {max_bytes} bytes")
    return data, media_type


def _show(text: str) -> str:
    """A client's text quoted in a message, cut short."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


# --------------------------------------------------------------------------- filenames

_UNSAFE = str.maketrans(dict.fromkeys('<>:"|?*', "_"))
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# What the first bytes say, for a file sent without an extension.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"%PDF-", ".pdf"),
    (b"PK\x03\x04", ".zip"),
)

_TYPES = mimetypes.MimeTypes()  # Python's own table only: the same on every machine
_TYPES.add_type("image/webp", ".webp")
_TYPES.add_type("image/heic", ".heic")
_TYPES.add_type("image/avif", ".avif")
_TYPES.add_type("text/markdown", ".md")
_PREFERRED_EXTENSIONS = {"image/jpeg": ".jpg", "text/plain": ".txt", "image/svg+xml": ".svg"}


def content_type(filename: str) -> str:
    """The media type a filename's extension stands for; `application/octet-stream` if none."""
    guessed, encoding = _TYPES.guess_type(filename, strict=False)
    if guessed is None or encoding is not None:  # `x.tar.gz` is a gzip file, not a tar
        return "application/gzip" if encoding == "gzip" else "application/octet-stream"
    return guessed


def _guess_extension(contents: bytes, media_type: str | None) -> str:
    if media_type:
        ext = _PREFERRED_EXTENSIONS.get(media_type) or _TYPES.guess_extension(
            media_type, strict=False
        )
        if ext:
            return ext
    for signature, ext in _SIGNATURES:
        if contents.startswith(signature):
            return ext
    if contents[:4] == b"RIFF" and contents[8:12] == b"WEBP":
        return ".webp"
    return ""


def sanitize_filename(
    name: str | None, contents: bytes = b"", media_type: str | None = None
) -> str:
    """A name safe to store and serve (see the module docstring). Idempotent."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    text = text.translate(_UNSAFE).strip(" .")
    if not text:
        text = DEFAULT_NAME
    stem, dot, _ = text.rpartition(".")
    if not dot or not stem:
        text += _guess_extension(contents, media_type)
    return _truncate(text)


def _truncate(name: str) -> str:
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    suffix = dot + ext if dot and stem and len((dot + ext).encode()) <= 32 else ""
    if not suffix:
        stem = name
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    cut = stem.encode()[:budget].decode(errors="ignore").rstrip(" .") or DEFAULT_NAME
    return cut + suffix
