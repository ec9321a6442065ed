"""File and image uploads through the Data API, and the URLs that serve them.

Seed 003 "Sending Data" §3 Files and Images; bubble-wire.md §6 (file URLs). Every test runs
on SQLite and PostgreSQL (the `databases` fixture).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from burble.runtime import Databases
from burble.settings import Settings
from tests.api.support import BASE, LIVE, assert_shape_a, bulk_body, create, get, search
from tests.conftest import Api, make_api

APP = """
name: files
settings:
  data_api:
    expose: [Listing, User]
types:
  Listing:
    fields:
      name: text
      amount: number
      picture: image
      doc: file
      pictures: list of images
      docs: list of files
"""

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
OWNER = "1671702337369x488321592367327900"
DEV_URL = re.compile(r"//127\.0\.0\.1:8080/version-test/fileupload/f(\d{13}x\d{18})/(.+)")
LIVE_URL = re.compile(r"//127\.0\.0\.1:8080/fileupload/f(\d{13}x\d{18})/(.+)")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def upload(data: bytes = PNG, filename: str | None = "photo.png", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"contents": b64(data), **extra}
    if filename is not None:
        body["filename"] = filename
    return body


def path_of(url: str) -> str:
    """The path of a file URL (`//host:port/path`), to fetch through the test client."""
    assert url.startswith("//127.0.0.1:8080/"), url
    return url.removeprefix("//127.0.0.1:8080")


def stored_files(api: Api, env: str = "test") -> list[Path]:
    """Every complete file the environment holds (not metadata, not half-written ones)."""
    root = api.runtime.databases.settings.files_dir / env
    if not root.exists():
        return []
    return [p for p in root.glob("*/*") if not p.name.startswith(".")]


@pytest.fixture
def fapi(databases: Databases) -> Api:
    return make_api(databases, APP)


@pytest.fixture
def with_settings(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Any]:
    """make(**changes): an Api over the same test databases with other settings."""
    opened: list[Databases] = []

    def make(**changes: Any) -> Api:
        pool = request.getfixturevalue("pg_pool") if settings.database_url else None
        dbs = Databases(settings.with_(**changes), pool=pool)
        opened.append(dbs)
        return make_api(dbs, APP)

    yield make
    for dbs in opened:
        dbs.close()


# --- storing and serving -------------------------------------------------------------------


def test_image_upload_round_trip(fapi: Api) -> None:
    uid = create(fapi, "listing", {"name": "A", "picture": upload()})
    thing = get(fapi, "listing", uid)
    url = thing["picture"]
    assert isinstance(url, str)
    m = DEV_URL.fullmatch(url)
    assert m, url
    assert m.group(2) == "photo.png"
    r = fapi.client.get(path_of(url))  # public: no token needed
    assert r.status_code == 200
    assert r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-length"] == str(len(PNG))
    assert r.headers["content-disposition"] == 'inline; filename="photo.png"'
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["etag"] == f'"f{m.group(1)}"'
    assert "immutable" in r.headers["cache-control"]
    assert "public" in r.headers["cache-control"]
    # The search returns the same URL.
    found = search(fapi, "listing")
    assert found["results"] == [thing]


def test_file_upload_keeps_its_type(fapi: Api) -> None:
    uid = create(fapi, "listing", {"doc": upload(PDF, "Floor plan.pdf")})
    url = get(fapi, "listing", uid)["doc"]
    assert url.endswith("/Floor%20plan.pdf")
    r = fapi.client.get(path_of(url))
    assert r.status_code == 200
    assert r.content == PDF
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'inline; filename="Floor plan.pdf"'


def test_without_filename_the_type_comes_from_the_contents(fapi: Api) -> None:
    uid = create(fapi, "listing", {"picture": upload(filename=None), "doc": upload(b"hi", None)})
    thing = get(fapi, "listing", uid)
    assert thing["picture"].endswith("/file.png")
    assert thing["doc"].endswith("/file")
    assert fapi.client.get(path_of(thing["picture"])).headers["content-type"] == "image/png"
    plain = fapi.client.get(path_of(thing["doc"]))
    assert plain.content == b"hi"
    assert plain.headers["content-type"] == "application/octet-stream"


def test_data_url_contents(fapi: Api) -> None:
    body = {"picture": {"contents": "data:image/png;base64," + b64(PNG)}}
    url = get(fapi, "listing", create(fapi, "listing", body))["picture"]
    assert url.endswith("/file.png")
    assert fapi.client.get(path_of(url)).content == PNG


def test_list_of_images_with_uploads(fapi: Api) -> None:
    other = "//s3.amazonaws.com/appforest_uf/f1654532240098x456360325454682430/Belluno.png"
    second = PNG + b"second"
    body = {"pictures": [upload(), other, upload(second, "b.png"), None, ""]}
    urls = get(fapi, "listing", create(fapi, "listing", body))["pictures"]
    assert len(urls) == 3
    assert DEV_URL.fullmatch(urls[0]) and urls[1] == other and DEV_URL.fullmatch(urls[2])
    assert fapi.client.get(path_of(urls[0])).content == PNG
    assert fapi.client.get(path_of(urls[2])).content == second
    # One upload object for a list field is a list of one.
    one = get(fapi, "listing", create(fapi, "listing", {"docs": upload(PDF, "a.pdf")}))["docs"]
    assert len(one) == 1 and one[0].endswith("/a.pdf")


def test_a_string_url_is_stored_as_sent(fapi: Api) -> None:
    for url in (
        "//s3.amazonaws.com/appforest_uf/f1654532240098x456360325454682430/Belluno.png",
        "https://example.com/a b.png?x=1",
    ):
        uid = create(fapi, "listing", {"picture": url, "pictures": [url]})
        thing = get(fapi, "listing", uid)
        assert thing["picture"] == url and thing["pictures"] == [url]
    assert stored_files(fapi) == []


def test_patch_and_put_upload(fapi: Api) -> None:
    uid = create(fapi, "listing", {"name": "A", "picture": upload()})
    first = get(fapi, "listing", uid)["picture"]
    r = fapi.client.patch(
        f"{BASE}/listing/{uid}", json={"picture": upload(PNG + b"2", "new.png")}, headers=fapi.auth
    )
    assert r.status_code == 204, r.text
    second = get(fapi, "listing", uid)["picture"]
    assert second != first and second.endswith("/new.png")
    assert fapi.client.get(path_of(second)).content == PNG + b"2"
    assert fapi.client.get(path_of(first)).content == PNG  # the old file stays
    r = fapi.client.put(
        f"{BASE}/listing/{uid}", json={"docs": [upload(PDF, "c.pdf")]}, headers=fapi.auth
    )
    assert r.status_code == 204, r.text
    thing = get(fapi, "listing", uid)
    assert "picture" not in thing and thing["docs"][0].endswith("/c.pdf")


def test_filename_is_sanitised(fapi: Api) -> None:
    body = {
        "picture": upload(filename="../../etc/passwd.png"),
        "doc": upload(PDF, '..\\x/a"b\x07<c>.pdf'),
    }
    thing = get(fapi, "listing", create(fapi, "listing", body))
    assert thing["picture"].endswith("/passwd.png")
    assert thing["doc"].endswith("/a_b_c_.pdf")
    assert fapi.client.get(path_of(thing["picture"])).content == PNG
    root = fapi.runtime.databases.settings.files_dir / "test"
    for path in stored_files(fapi):
        assert path.resolve().parent.parent == root.resolve()


def test_non_ascii_filename(fapi: Api) -> None:
    url = get(
        fapi, "listing", create(fapi, "listing", {"picture": upload(filename="Café ☕.png")})
    )["picture"]
    assert url.endswith("/Caf%C3%A9%20%E2%98%95.png")
    r = fapi.client.get(path_of(url))
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-disposition"] == (
        "inline; filename=\"Caf_ _.png\"; filename*=UTF-8''Caf%C3%A9%20%E2%98%95.png"
    )


def test_active_content_is_sandboxed(fapi: Api) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    url = get(fapi, "listing", create(fapi, "listing", {"picture": upload(svg, "x.svg")}))[
        "picture"
    ]
    r = fapi.client.get(path_of(url))
    assert r.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    png = get(fapi, "listing", create(fapi, "listing", {"picture": upload()}))["picture"]
    assert "content-security-policy" not in fapi.client.get(path_of(png)).headers


def test_head_and_conditional_get(fapi: Api) -> None:
    url = get(fapi, "listing", create(fapi, "listing", {"picture": upload()}))["picture"]
    head = fapi.client.head(path_of(url))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(PNG))
    assert head.headers["content-type"] == "image/png"
    etag = head.headers["etag"]
    again = fapi.client.get(path_of(url), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = fapi.client.get(path_of(url), headers={"If-None-Match": '"f1x1"'})
    assert other.status_code == 200 and other.content == PNG


def test_unknown_files_are_404(fapi: Api) -> None:
    url = get(fapi, "listing", create(fapi, "listing", {"picture": upload()}))["picture"]
    path = path_of(url)
    file_id = DEV_URL.fullmatch(url).group(1)  # type: ignore[union-attr]
    for wrong in (
        path.replace("/photo.png", "/other.png"),  # filename mismatch
        path.replace(file_id, "1671702337369x488321592367327900"),  # unknown id
        f"/version-test/fileupload/f{file_id}",  # no filename
        f"/version-test/fileupload/{file_id}/photo.png",  # no "f"
        f"/version-test/fileupload/f{file_id}/photo.png/x",
        "/version-test/fileupload/f..%2F..%2Fetc/passwd",
        "/version-test/fileupload/f.incoming/x",
        "/version-test/fileupload",
    ):
        r = fapi.client.get(wrong)
        body = assert_shape_a(r, 404, "NOT_FOUND")
        assert body["body"]["message"] in ("File not found",), wrong
    # Like the API paths, duplicate and trailing slashes are forgiven.
    assert fapi.client.get(path.replace("/fileupload/", "//fileupload//") + "/").status_code == 200
    r = fapi.client.post(path, content=b"x")
    assert_shape_a(r, 405, "ERROR")
    assert r.headers["allow"] == "GET, HEAD"


# --- private files ---------------------------------------------------------------------------


def test_private_file_is_served_to_admin_only(fapi: Api) -> None:
    body = {"picture": upload(private=True, attach_to=OWNER)}
    url = get(fapi, "listing", create(fapi, "listing", body))["picture"]
    path = path_of(url)
    # Anonymous: the same 404 as a missing file (its existence is not revealed).
    anonymous = fapi.client.get(path)
    assert_shape_a(anonymous, 404, "NOT_FOUND")
    missing = fapi.client.get(path.replace("/photo.png", "/nope.png"))
    assert anonymous.json() == missing.json()
    assert fapi.client.head(path).status_code == 404
    # A token that is not valid: 401, the auth-layer body.
    bad = fapi.client.get(path, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json()["error_class"] == "Unauthorized"
    assert fapi.client.get(path, params={"api_token": "nope"}).status_code == 401
    # An admin token, in the header or the query string.
    r = fapi.client.get(path, headers=fapi.auth)
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["cache-control"] == "private, no-store"
    r = fapi.client.get(path, params={"api_token": fapi.token})
    assert r.status_code == 200 and r.content == PNG


def test_private_false_and_attach_to_alone_are_public(fapi: Api) -> None:
    body = {
        "picture": upload(private=False),
        "doc": upload(PDF, "a.pdf", attach_to=OWNER, private=None),
    }
    thing = get(fapi, "listing", create(fapi, "listing", body))
    for key in ("picture", "doc"):
        assert fapi.client.get(path_of(thing[key])).status_code == 200


def test_invalid_token_on_a_public_file_is_401(fapi: Api) -> None:
    url = get(fapi, "listing", create(fapi, "listing", {"picture": upload()}))["picture"]
    r = fapi.client.get(path_of(url), headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


# --- refused uploads ---------------------------------------------------------------------------


def post(api: Api, body: dict[str, Any], **kw: Any) -> Any:
    return api.client.post(f"{BASE}/listing", json=body, headers=api.auth, **kw)


REFUSED: list[tuple[str, Any, str]] = [
    ("picture", {"contents": "not base64!"}, "contents is not valid base64"),
    ("picture", {"contents": "aGVsbG8=x"}, "contents is not valid base64"),
    ("picture", {"contents": "aGVs-G8_"}, "contents is not valid base64"),
    ("doc", {"filename": "a.txt"}, "contents is missing: send the file as base64-encoded data"),
    ("doc", {"contents": 42}, "contents must be a text of base64-encoded data"),
    ("doc", {"contents": ""}, "contents is empty"),
    (
        "doc",
        {"contents": "data:text/plain,hello"},
        "contents is a data URL that is not base64-encoded",
    ),
    (
        "picture",
        {"contents": "aGk=", "private": True},
        "a private file needs attach_to, the unique id of the thing that owns it",
    ),
    ("picture", {"contents": "aGk=", "private": "true"}, "private must be true or false"),
    ("picture", {"contents": "aGk=", "attach_to": "bob"}, "attach_to is not a unique id: 'bob'"),
    (
        "picture",
        {"contents": "aGk=", "attach_to": 5},
        "attach_to must be the unique id of a thing, as a text",
    ),
    ("picture", {"contents": "aGk=", "filename": ["a"]}, "filename must be a text"),
    (
        "pictures",
        [{"contents": "aGk="}, {"contents": "aGk=", "privat": True}],
        "unknown key 'privat' in a file object (expected filename, contents, private, attach_to)",
    ),
]


@pytest.mark.parametrize(("key", "value", "reason"), REFUSED)
def test_refused_uploads_are_invalid_data(fapi: Api, key: str, value: Any, reason: str) -> None:
    r = post(fapi, {"name": "A", key: value})
    body = assert_shape_a(r, 400, "INVALID_DATA")
    assert body["body"]["message"] == f"Invalid data for field {key}: {reason}"
    assert search(fapi, "listing")["count"] == 0
    assert stored_files(fapi) == []


def test_other_bad_values_next_to_an_upload(fapi: Api) -> None:
    """Nothing is stored when any value of the body is refused, before or after the upload."""
    cases = [
        ({"picture": upload(), "amount": "abc"}, 400, "INVALID_DATA"),
        ({"amount": "abc", "picture": upload()}, 400, "INVALID_DATA"),
        ({"picture": upload(), "colour": "red"}, 400, "ERROR"),
        ({"picture": [upload()]}, 400, "INVALID_DATA"),  # a list for a single image
        ({"pictures": [upload(), 5]}, 400, "INVALID_DATA"),  # a number is no image
    ]
    for body, status, code in cases:
        assert_shape_a(post(fapi, body), status, code)
    assert stored_files(fapi) == []
    assert search(fapi, "listing")["count"] == 0


def test_an_upload_for_another_field_type_is_refused(fapi: Api) -> None:
    r = post(fapi, {"name": upload()})
    body = assert_shape_a(r, 400, "INVALID_DATA")
    assert body["body"]["message"] == "Invalid data for field name: could not parse this as a text"


def test_oversize_upload(with_settings: Any) -> None:
    api = with_settings(max_upload_bytes=16)
    ok = post(api, {"doc": upload(b"x" * 16, "a.txt")})
    assert ok.status_code == 201, ok.text
    for contents in (b64(b"x" * 17), "data:text/plain;base64," + b64(b"y" * 1000)):
        r = post(api, {"doc": {"filename": "a.txt", "contents": contents}})
        body = assert_shape_a(r, 400, "INVALID_DATA")
        assert (
            body["body"]["message"]
            == "Invalid data for field doc: the file is larger than 16 bytes"
        )
    assert len(stored_files(api)) == 1


def test_public_url_setting(with_settings: Any) -> None:
    api = with_settings(public_url="https://files.example.com")
    url = get(api, "listing", create(api, "listing", {"picture": upload()}))["picture"]
    m = re.fullmatch(
        r"https://files\.example\.com/version-test/fileupload/f\d+x\d+/photo\.png", url
    )
    assert m, url
    r = api.client.get(url.removeprefix("https://files.example.com"))
    assert r.status_code == 200 and r.content == PNG


def test_anonymous_cannot_upload(fapi: Api) -> None:
    r = fapi.client.post(f"{BASE}/listing", json={"picture": upload()})
    assert_shape_a(r, 401, "UNAUTHORIZED")
    assert stored_files(fapi) == []


# --- bulk create -------------------------------------------------------------------------------


def test_bulk_create_with_uploads(fapi: Api) -> None:
    items = [
        {"name": "a", "picture": upload()},
        {"name": "b", "picture": {"contents": "%%%"}},
        {"name": "c", "pictures": [upload(PNG + b"c", "c.png")]},
    ]
    r = fapi.client.post(
        f"{BASE}/listing/bulk",
        content=bulk_body(items),
        headers={**fapi.auth, "Content-Type": "text/plain"},
    )
    assert r.status_code == 400
    lines = [orjson.loads(line) for line in r.text.split("\n")]
    assert [line["status"] for line in lines] == ["success", "error", "success"]
    assert lines[1]["message"] == "Invalid data for field picture: contents is not valid base64"
    a = get(fapi, "listing", lines[0]["id"])
    c = get(fapi, "listing", lines[2]["id"])
    assert fapi.client.get(path_of(a["picture"])).content == PNG
    assert fapi.client.get(path_of(c["pictures"][0])).content == PNG + b"c"
    assert len(stored_files(fapi)) == 2


# --- Live and Development ----------------------------------------------------------------------


def test_live_and_development_keep_their_own_files(databases: Databases) -> None:
    api = make_api(databases, APP, deploy_live=True)
    dev = get(api, "listing", create(api, "listing", {"picture": upload()}))["picture"]
    live_id = create(api, "listing", {"picture": upload(PNG + b"live")}, base=LIVE)
    live = get(api, "listing", live_id, base=LIVE)["picture"]
    dev_match, live_match = DEV_URL.fullmatch(dev), LIVE_URL.fullmatch(live)
    assert dev_match and live_match, (dev, live)
    assert api.client.get(path_of(dev)).content == PNG
    assert api.client.get(path_of(live)).content == PNG + b"live"
    assert api.client.get("/version-live" + path_of(live)).content == PNG + b"live"
    # Each environment serves only its own files.
    assert_shape_a(api.client.get(path_of(dev).removeprefix("/version-test")), 404, "NOT_FOUND")
    assert_shape_a(api.client.get("/version-test" + path_of(live)), 404, "NOT_FOUND")
    assert len(stored_files(api, "test")) == 1
    assert len(stored_files(api, "live")) == 1
    # Unknown versions stay unknown.
    r = api.client.get("/version-foo" + path_of(live))
    assert assert_shape_a(r, 404, "NOT_FOUND")["body"]["message"] == "Unknown version: foo"
