"""Search limits and indexes: the offset cap, declared multi-field indexes."""

from __future__ import annotations

from burble.appdef.load import check_app
from burble.runtime import Databases
from tests.api.support import BASE, bulk_create
from tests.conftest import make_api

APP = """
name: limits
settings:
  data_api: {expose: [Item]}
  max_search_offset: 150
types:
  Item:
    fields:
      n: number
      city: text
    indexes: [[city, n]]
"""


def test_offset_cap_returns_nothing_past_it_but_counts_the_rest(databases: Databases) -> None:
    api = make_api(databases, APP)
    bulk_create(api, "item", [{"n": i} for i in range(200)])

    def page(cursor: int) -> dict[str, int]:
        r = api.client.get(f"{BASE}/item", params={"cursor": cursor}, headers=api.auth)
        assert r.status_code == 200
        return r.json()["response"]  # type: ignore[no-any-return]

    assert (page(0)["count"], page(0)["remaining"]) == (100, 100)
    assert (page(100)["count"], page(100)["remaining"]) == (50, 50)  # 100 + 50 = the cap
    beyond = page(150)
    assert beyond["results"] == [] and beyond["count"] == 0 and beyond["remaining"] == 50


def test_declared_index_exists(databases: Databases) -> None:
    make_api(databases, APP)
    backend = databases.test
    with backend.read() as tx:
        if backend.dialect.name == "sqlite":
            names = [
                r[0] for r in tx.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")
            ]
        else:
            names = [r[0] for r in tx.fetchall("SELECT indexname FROM pg_indexes")]
    assert any("__cx_" in n and "f_city_text" in n and "f_n_number" in n for n in names), names


def test_index_naming_an_unknown_or_list_field_is_a_problem() -> None:
    problems = check_app(
        "name: x\ntypes:\n  Item:\n    fields:\n      tags: list of texts\n"
        "    indexes: [[nope], [tags], []]\n"
    )
    assert [p.message for p in problems] == [
        "unknown field 'nope'",
        "list field 'tags' cannot be in a multi-field index",
        "an index needs at least one field",
    ]
    assert all(p.line == 6 for p in problems)
