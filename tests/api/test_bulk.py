"""Bulk create: POST /obj/<type>/bulk with text/plain JSON lines (seed 004; bubble-wire.md §4.4)."""

from __future__ import annotations

import re
from typing import Any

import orjson

from burble.runtime import Databases
from tests.api.support import BASE, assert_shape_a, bulk_body, get, search
from tests.conftest import Api, make_api

UID = re.compile(r"\d{13}x\d{18}")


def post_bulk(api: Api, text: str, typename: str = "rentalunit", auth: bool = True) -> Any:
    headers = {"Content-Type": "text/plain", **(api.auth if auth else {})}
    return api.client.post(f"{BASE}/{typename}/bulk", content=text.encode(), headers=headers)


def lines_of(response: Any) -> list[dict[str, Any]]:
    assert not response.text.endswith("\n"), "no trailing newline (BA splits on \\n)"
    return [orjson.loads(line) for line in response.text.split("\n")]


def test_bulk_success(api: Api) -> None:
    items = [{"name": "A", "price": 1}, {"name": "B", "price": "2"}, {"name": "C"}]
    text = bulk_body(items)
    assert not text.endswith("\n")
    r = post_bulk(api, text)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain"  # exactly: BD compares it verbatim
    lines = lines_of(r)
    assert len(lines) == 3
    for line in lines:
        assert set(line) == {"status", "id"}
        assert line["status"] == "success"
        assert UID.fullmatch(line["id"])
    assert len({line["id"] for line in lines}) == 3
    # Same order as the input.
    for item, line in zip(items, lines, strict=True):
        thing = get(api, "rentalunit", line["id"])
        assert thing["name"] == item["name"]
        assert thing["bedrooms"] == 1  # defaults apply as on a single create
        assert thing["Created By"] == "admin_user_rentals_test"
    assert get(api, "rentalunit", lines[1]["id"])["price"] == 2


def test_bulk_partial_failure(api: Api) -> None:
    text = "\n".join(
        [
            '{"name": "good 1"}',
            '{"name": "broken"',  # not JSON
            '{"colour": "red"}',  # unknown field
            '{"price": "abc"}',  # not a number
            '{"name": "good 2"}',
        ]
    )
    r = post_bulk(api, text)
    assert r.status_code == 400
    lines = lines_of(r)
    assert [line["status"] for line in lines] == ["success", "error", "error", "error", "success"]
    for line in (lines[1], lines[2], lines[3]):
        assert set(line) == {"status", "message"}
        assert isinstance(line["message"], str) and line["message"]
    assert lines[1]["message"].startswith("Could not parse as JSON")
    assert lines[2]["message"] == "Unrecognized field: colour"
    assert lines[3]["message"] == "Invalid data for field price: could not parse this as a number"
    found = search(api, "rentalunit", sort_field="name")
    assert [t["name"] for t in found["results"]] == ["good 1", "good 2"]
    assert [t["_id"] for t in found["results"]] == [lines[0]["id"], lines[4]["id"]]


def test_bulk_partial_failure_on_a_type_without_addresses_or_files(api: Api) -> None:
    # Booking has no address, file or image field: its values go through the per-field
    # coercers alone (`appdef/coerce.coercer`), with the same answers as Rental Unit's above.
    unit = post_bulk(api, '{"name": "u"}').text
    unit_id = orjson.loads(unit)["id"]
    text = "\n".join(
        [
            orjson.dumps({"unit": unit_id, "nights": "3", "notes": ["a", "", "b"]}).decode(),
            '{"colour": "red"}',
            '{"nights": "abc"}',
            '{"unit": "not an id"}',
            '{"stay": [1, 2, 3]}',
            '{"paid": "perhaps"}',
            '{"nights": null, "unit": ""}',
            '{"unit": "1700000000000x123456789012345678"}',
        ]
    )
    r = post_bulk(api, text, typename="booking")
    assert r.status_code == 400
    lines = lines_of(r)
    assert [line.get("message") for line in lines] == [
        None,
        "Unrecognized field: colour",
        "Invalid data for field nights: could not parse this as a number",
        "Invalid data for field unit: could not parse this as a thing",
        "Invalid data for field stay: could not parse this as a date range",
        "Invalid data for field paid: could not parse this as a yes / no",
        None,
        "Invalid data for field unit: there is no Rental Unit with id 1700000000000x123456789012345678",
    ]
    first = get(api, "booking", lines[0]["id"])
    assert (first["unit"], first["nights"], first["notes"], first["paid"]) == (
        unit_id,
        3,
        ["a", "b"],
        False,  # the default
    )
    empty = get(api, "booking", lines[6]["id"])
    assert "nights" not in empty and "unit" not in empty and empty["paid"] is False


def test_bulk_line_that_is_not_an_object(api: Api) -> None:
    r = post_bulk(api, '[1, 2]\n{"name": "ok"}\n"text"')
    assert r.status_code == 400
    assert [line["status"] for line in lines_of(r)] == ["error", "success", "error"]
    assert search(api, "rentalunit")["count"] == 1


def test_bulk_too_many_lines(api: Api) -> None:
    r = post_bulk(api, bulk_body([{"price": i} for i in range(1001)]))
    assert_shape_a(r, 400, "ERROR")
    assert search(api, "rentalunit")["count"] == 0


def test_bulk_thousand_lines_is_the_limit(api: Api) -> None:
    r = post_bulk(api, bulk_body([{"price": i} for i in range(1000)]))
    assert r.status_code == 200
    assert len(lines_of(r)) == 1000
    page = search(api, "rentalunit", limit=1)
    assert page["count"] + page["remaining"] == 1000


def test_bulk_trailing_newline_tolerated(api: Api) -> None:
    r = post_bulk(api, '{"name": "a"}\n{"name": "b"}\n')
    assert r.status_code == 200
    lines = lines_of(r)
    assert [line["status"] for line in lines] == ["success", "success"]
    assert search(api, "rentalunit")["count"] == 2


def test_bulk_crlf_line_endings(api: Api) -> None:
    r = post_bulk(api, '{"name": "a"}\r\n{"name": "b"}\r\n')
    assert r.status_code == 200
    assert len(lines_of(r)) == 2
    names = sorted(t["name"] for t in search(api, "rentalunit")["results"])
    assert names == ["a", "b"]


def test_bulk_anonymous_is_401(api: Api) -> None:
    r = post_bulk(api, '{"name": "a"}', auth=False)
    assert r.status_code == 401
    assert search(api, "rentalunit")["count"] == 0


def test_bulk_users_duplicate_email_is_an_error_line(api: Api) -> None:
    text = bulk_body(
        [{"email": "a@example.com"}, {"email": "A@example.com"}, {"email": "b@example.com"}]
    )
    r = post_bulk(api, text, typename="user")
    assert r.status_code == 400
    lines = lines_of(r)
    assert [line["status"] for line in lines] == ["success", "error", "success"]
    assert search(api, "user")["count"] == 2


# A type with so many fields that a 1,000-line bulk takes more than one INSERT statement
# (each inserts at most 32,766 values, ThingStore's limit): every line is stored under its
# own id, with its own values, and found by the full-text index, on both sides of the seam.
WIDE_FIELDS = 40
WIDE_APP = "\n".join(
    [
        "name: wide",
        "settings: {data_api: {expose: [Wide]}, keys: display}",
        "types:",
        "  Wide:",
        "    fields:",
        *(f"      f{n}: text" for n in range(WIDE_FIELDS)),
        "      n: number",
    ]
)


def test_bulk_of_a_wide_type_spans_several_statements(databases: Databases) -> None:
    from burble.store.things import MAX_PARAMS

    assert 1000 * (WIDE_FIELDS + 5) > MAX_PARAMS  # the premise: more than one statement
    api = make_api(databases, WIDE_APP)
    items = [
        {**{f"f{n}": f"word{i} col{n}" for n in range(WIDE_FIELDS)}, "n": i} for i in range(1000)
    ]
    r = post_bulk(api, bulk_body(items), typename="wide")
    assert r.status_code == 200, r.text[:300]
    ids = [line["id"] for line in lines_of(r)]
    assert len(set(ids)) == 1000
    for i in (0, 1, 727, 728, 729, 999):  # around every possible seam
        thing = get(api, "wide", ids[i])
        assert thing["n"] == i
        assert thing["f0"] == f"word{i} col0"
        assert thing[f"f{WIDE_FIELDS - 1}"] == f"word{i} col{WIDE_FIELDS - 1}"
        found = search(
            api,
            "wide",
            constraints=[{"key": "f3", "constraint_type": "text contains", "value": f"word{i}"}],
        )
        assert [t["_id"] for t in found["results"]] == [ids[i]]
    page = search(api, "wide", limit=1)
    assert page["count"] + page["remaining"] == 1000
