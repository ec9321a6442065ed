"""parse_upload and sanitize_filename (burble.files.uploads): seed 003 §3 Files and Images."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from burble.files.uploads import (
    MAX_FILENAME_BYTES,
    Upload,
    UploadInvalid,
    content_type,
    parse_upload,
    sanitize_filename,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
OWNER = "1671702337369x488321592367327900"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_full_upload() -> None:
    up = parse_upload(
        {"filename": "plan.pdf", "contents": b64(b"%PDF-1"), "private": True, "attach_to": OWNER}
    )
    assert up == Upload("plan.pdf", b"%PDF-1", True, OWNER)


def test_only_contents() -> None:
    assert parse_upload({"contents": b64(b"hello")}) == Upload("file", b"hello", False, None)
    assert parse_upload({"contents": b64(PNG)}).filename == "file.png"


def test_nulls_are_absent() -> None:
    up = parse_upload({"contents": "aGk=", "filename": None, "private": None, "attach_to": None})
    assert up == Upload("file", b"hi", False, None)
    assert parse_upload({"contents": "aGk=", "attach_to": "  "}).attach_to is None


@pytest.mark.parametrize(
    ("contents", "data"),
    [
        ("aGVsbG8=", b"hello"),
        ("aGVsbG8", b"hello"),  # padding is optional
        ("aGVs\nbG8=\r\n", b"hello"),  # line breaks (MIME-wrapped base64)
        ("  aGVs bG8= ", b"hello"),
        ("data:text/plain;base64,aGVsbG8=", b"hello"),
        ("DATA:text/plain;charset=utf-8;BASE64,aGVsbG8=", b"hello"),
        ("data:;base64,aGVsbG8=", b"hello"),
        ("+/+/", b"\xfb\xff\xbf"),
    ],
)
def test_contents_forms(contents: str, data: bytes) -> None:
    assert parse_upload({"contents": contents}).contents == data


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({}, "contents is missing: send the file as base64-encoded data"),
        ({"contents": None}, "contents is missing: send the file as base64-encoded data"),
        ({"contents": 12}, "contents must be a text of base64-encoded data"),
        ({"contents": ["aGk="]}, "contents must be a text of base64-encoded data"),
        ({"contents": ""}, "contents is empty"),
        ({"contents": " \n "}, "contents is empty"),
        ({"contents": "data:image/png;base64,"}, "contents is empty"),
        ({"contents": "a"}, "contents is not valid base64"),
        ({"contents": "aGVsbG8*"}, "contents is not valid base64"),
        ({"contents": "-_-_"}, "contents is not valid base64"),  # URL-safe alphabet
        ({"contents": "aG=k"}, "contents is not valid base64"),
        ({"contents": "aGk=aGk="}, "contents is not valid base64"),
        ({"contents": "héllo=="}, "contents is not valid base64"),
        (
            {"contents": "data:text/plain,hello"},
            "contents is a data URL that is not base64-encoded",
        ),
        ({"contents": "data:text/plain"}, "contents is a data URL that is not base64-encoded"),
        ({"contents": "aGk=", "private": "true"}, "private must be true or false"),
        ({"contents": "aGk=", "private": 1}, "private must be true or false"),
        (
            {"contents": "aGk=", "private": True},
            "a private file needs attach_to, the unique id of the thing that owns it",
        ),
        (
            {"contents": "aGk=", "private": True, "attach_to": ""},
            "a private file needs attach_to, the unique id of the thing that owns it",
        ),
        ({"contents": "aGk=", "attach_to": "1x"}, "attach_to is not a unique id: '1x'"),
        (
            {"contents": "aGk=", "attach_to": "x" * 100},
            f"attach_to is not a unique id: '{'x' * 40}...'",
        ),
        (
            {"contents": "aGk=", "attach_to": [OWNER]},
            "attach_to must be the unique id of a thing, as a text",
        ),
        ({"contents": "aGk=", "filename": 3}, "filename must be a text"),
        (
            {"contents": "aGk=", "name": "a.png"},
            "unknown key 'name' in a file object (expected filename, contents, private, attach_to)",
        ),
    ],
)
def test_refused(value: dict[str, object], reason: str) -> None:
    with pytest.raises(UploadInvalid) as caught:
        parse_upload(value)
    assert caught.value.message == reason


def test_size_limit() -> None:
    for n in range(1, 10):
        assert len(parse_upload({"contents": b64(b"x" * n)}, max_bytes=n).contents) == n
        assert len(parse_upload({"contents": b64(b"x" * n).rstrip("=")}, max_bytes=n).contents) == n
        with pytest.raises(UploadInvalid, match=f"the file is larger than {n - 1} bytes"):
            parse_upload({"contents": b64(b"x" * n)}, max_bytes=n - 1)


def test_the_default_limit_is_50_mib() -> None:
    big = "AAAA" * (50 * 1024 * 1024 // 3 + 1)  # 50 MiB and a few bytes of zeros
    with pytest.raises(UploadInvalid, match="larger than 52428800 bytes"):
        parse_upload({"contents": big})


# --- filenames ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("photo.png", "photo.png"),
        ("Floor plan (v2).pdf", "Floor plan (v2).pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/abs/path/a.txt", "a.txt"),
        ("dir/", "file"),
        ("..", "file"),
        (".", "file"),
        ("", "file"),
        ("   ", "file"),
        (".htaccess", "htaccess"),
        ("trailing. . ", "trailing"),
        ("a\x00b\nc\x7f.txt", "abc.txt"),
        ("evil\u202egnp.exe", "evilgnp.exe"),  # right-to-left override
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ('a"b<c>d:e|f?g*.txt', "a_b_c_d_e_f_g_.txt"),
        ("Cafe\u0301.png", "Café.png"),  # NFC
        ("日本語.txt", "日本語.txt"),
        (".meta.json", "meta.json"),  # never the metadata file's name
    ],
)
def test_sanitize_filename(name: str, safe: str) -> None:
    assert sanitize_filename(name) == safe
    assert sanitize_filename(safe) == safe


@pytest.mark.parametrize(
    ("contents", "media_type", "name"),
    [
        (PNG, None, "file.png"),
        (b"\xff\xd8\xff\xe0", None, "file.jpg"),
        (b"GIF89a...", None, "file.gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", None, "file.webp"),
        (b"%PDF-1.7", None, "file.pdf"),
        (b"PK\x03\x04", None, "file.zip"),
        (b"hello", None, "file"),
        (b"hello", "text/plain", "file.txt"),
        (b"hello", "text/csv", "file.csv"),
        (PNG, "image/jpeg", "file.jpg"),  # the data URL's type wins
        (PNG, "application/x-unknown", "file.png"),
    ],
)
def test_extension_guessed_without_a_filename(
    contents: bytes, media_type: str | None, name: str
) -> None:
    assert sanitize_filename(None, contents, media_type) == name
    assert sanitize_filename("", contents, media_type) == name


def test_extension_added_to_a_name_without_one() -> None:
    assert sanitize_filename("photo", PNG) == "photo.png"
    assert sanitize_filename("photo.jpeg", PNG) == "photo.jpeg"  # never changed
    assert sanitize_filename("README", b"hello") == "README"


def test_long_names_are_cut_to_255_bytes_keeping_the_extension() -> None:
    name = sanitize_filename("a" * 300 + ".png")
    assert len(name.encode()) == MAX_FILENAME_BYTES and name.endswith("a.png")
    wide = sanitize_filename("é" * 200 + ".jpeg")  # 2 bytes each: cut between characters
    assert len(wide.encode()) <= MAX_FILENAME_BYTES and wide.endswith("é.jpeg")
    assert wide.encode().decode() == wide
    no_ext = sanitize_filename("b" * 400)
    assert no_ext == "b" * 255
    long_ext = sanitize_filename("c." + "d" * 300)
    assert len(long_ext.encode()) == 255 and long_ext.startswith("c.ddd")


@given(st.text(max_size=400))
def test_sanitized_names_are_safe_and_stable(name: str) -> None:
    safe = sanitize_filename(name)
    assert safe and len(safe.encode()) <= MAX_FILENAME_BYTES
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert safe not in (".", "..")
    assert all(c >= " " and c != "\x7f" for c in safe)
    assert sanitize_filename(safe) == safe


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("a.png", "image/png"),
        ("a.PNG", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("a.svg", "image/svg+xml"),
        ("a.pdf", "application/pdf"),
        ("a.csv", "text/csv"),
        ("a.txt", "text/plain"),
        ("a.html", "text/html"),
        ("a.tar.gz", "application/gzip"),
        ("a.unknownext", "application/octet-stream"),
        ("file", "application/octet-stream"),
    ],
)
def test_content_type(name: str, media_type: str) -> None:
    assert content_type(name) == media_type
