"""The database follows the definition (docs/app-definition.md "Schema evolution"), on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from burble.appdef.load import parse_app
from burble.errors import AppDefError, SchemaConflict
from burble.runtime import Databases, Runtime, deploy, deployed_definition
from burble.settings import Settings
from burble.store import schema
from burble.store.backend import Backend
from burble.store.migrations import MIGRATIONS, migrate
from burble.store.postgres import PostgresBackend
from burble.store.sqlite import SQLiteBackend
from tests.api.support import BASE, LIVE, create, get, search
from tests.conftest import make_api

V1 = """
name: evolve
settings:
  data_api:
    expose: [Rental Unit]
types:
  Rental Unit:
    fields:
      name: text
      price: number
      notes: text
"""

# A new type.
V2_NEW_TYPE = (
    V1.replace("expose: [Rental Unit]", "expose: [Rental Unit, Booking]")
    + """
  Booking:
    fields:
      nights: number
      unit: Rental Unit
"""
)

# New fields: one plain, one address (three columns), one list.
V2_NEW_FIELDS = (
    V1
    + """\
      bedrooms: number
      address: geographic address
      tags: list of texts
"""
)

# `notes` removed.
V2_REMOVED = V1.replace("      notes: text\n", "")

# `price` changed from number to text (plus harmless changes that must not be applied).
V2_CHANGED = (
    V1.replace("price: number", "price: text")
    + """\
      extra: text
  Other:
    fields:
      x: text
"""
)


def tables(backend: Backend) -> dict[str, set[str]]:
    """Every thing table with its columns (through the schema records)."""
    with backend.read() as tx:
        names = [
            r[0]
            for r in tx.fetchall(
                "SELECT table_name FROM " + backend.dialect.table("burble_schema_types")
            )
        ]
        return {n: backend.dialect.columns(tx, n) for n in names}


def table_exists(backend: Backend, name: str) -> bool:
    with backend.read() as tx:
        return backend.dialect.table_exists(tx, name)


def schema_records(backend: Backend) -> list[tuple[object, ...]]:
    d = backend.dialect
    with backend.read() as tx:
        fields = tx.fetchall(
            "SELECT type_name, field_name, field_type, column_name, removed FROM "
            + d.table("burble_schema_fields")
            + " ORDER BY type_name, field_name"
        )
        types = tx.fetchall(
            "SELECT type_name, table_name FROM "
            + d.table("burble_schema_types")
            + " ORDER BY type_name"
        )
    return [tuple(r) for r in types] + [tuple(r) for r in fields]


def test_adding_a_type_creates_a_table(databases: Databases) -> None:
    v1 = make_api(databases, V1)
    unit = create(v1, "rentalunit", {"name": "Loft", "price": 100})
    assert not table_exists(databases.test, "t_booking")
    r = v1.client.get(f"{BASE}/booking", headers=v1.auth)
    assert r.status_code == 404

    v2 = make_api(databases, V2_NEW_TYPE)
    assert table_exists(databases.test, "t_booking")
    booking = create(v2, "booking", {"nights": 3, "unit": unit})
    assert get(v2, "booking", booking)["unit"] == unit
    assert search(v2, "booking")["count"] == 1
    assert get(v2, "rentalunit", unit)["name"] == "Loft"  # old data untouched
    assert not table_exists(databases.live, "t_booking")  # Live follows only on deploy


def test_adding_a_field_adds_columns_and_old_things_have_it_empty(databases: Databases) -> None:
    v1 = make_api(databases, V1)
    old = create(v1, "rentalunit", {"name": "Old", "price": 1})
    before = tables(databases.test)["t_rental_unit"]

    v2 = make_api(databases, V2_NEW_FIELDS)
    after = tables(databases.test)["t_rental_unit"]
    added = after - before
    assert {"f_bedrooms_number", "f_tags_list_text"} <= added
    assert {c for c in added if c.startswith("f_address")} == {
        "f_address_geographic_address",
        "f_address_geographic_address__lat",
        "f_address_geographic_address__lng",
    }
    thing = get(v2, "rentalunit", old)
    assert thing["name"] == "Old" and thing["price"] == 1
    assert "bedrooms" not in thing and "address" not in thing and "tags" not in thing
    empty = search(
        v2, "rentalunit", constraints=[{"key": "bedrooms", "constraint_type": "is_empty"}]
    )
    assert [t["_id"] for t in empty["results"]] == [old]

    r = v2.client.patch(
        f"{BASE}/rentalunit/{old}",
        json={
            "bedrooms": 2,
            "address": {"address": "1 Main St", "lat": 1, "lng": 2},
            "tags": ["x"],
        },
        headers=v2.auth,
    )
    assert r.status_code == 204
    thing = get(v2, "rentalunit", old)
    assert thing["bedrooms"] == 2 and thing["tags"] == ["x"]
    assert thing["address"] == {"address": "1 Main St", "lat": 1, "lng": 2}
    new = create(v2, "rentalunit", {"name": "New", "bedrooms": 5})
    assert get(v2, "rentalunit", new)["bedrooms"] == 5


def test_removing_a_field_keeps_its_data(databases: Databases) -> None:
    v1 = make_api(databases, V1)
    uid = create(v1, "rentalunit", {"name": "Loft", "notes": "keep me"})

    v2 = make_api(databases, V2_REMOVED)
    thing = get(v2, "rentalunit", uid)
    assert "notes" not in thing and thing["name"] == "Loft"
    assert "f_notes_text" in tables(databases.test)["t_rental_unit"]  # column kept
    r = v2.client.patch(f"{BASE}/rentalunit/{uid}", json={"notes": "x"}, headers=v2.auth)
    assert r.status_code == 400  # no longer a field
    r = v2.client.put(f"{BASE}/rentalunit/{uid}", json={"name": "Loft 2"}, headers=v2.auth)
    assert r.status_code == 204  # a PUT does not clear fields that are not in the definition

    v3 = make_api(databases, V1)  # the same field, with the same type, is back
    thing = get(v3, "rentalunit", uid)
    assert thing["notes"] == "keep me"
    assert thing["name"] == "Loft 2"


def test_removed_field_readded_with_another_type_starts_empty(databases: Databases) -> None:
    v1 = make_api(databases, V1)
    uid = create(v1, "rentalunit", {"name": "Loft", "notes": "old text"})
    make_api(databases, V2_REMOVED)
    v3 = make_api(databases, V1.replace("notes: text", "notes: number"))
    assert "notes" not in get(v3, "rentalunit", uid)
    r = v3.client.patch(f"{BASE}/rentalunit/{uid}", json={"notes": "5"}, headers=v3.auth)
    assert r.status_code == 204
    assert get(v3, "rentalunit", uid)["notes"] == 5


def test_changing_a_field_type_is_a_conflict_and_changes_nothing(databases: Databases) -> None:
    v1 = make_api(databases, V1)
    uid = create(v1, "rentalunit", {"name": "Loft", "price": 100})
    before = schema_records(databases.test)
    columns_before = tables(databases.test)
    changed = parse_app(V2_CHANGED)

    with pytest.raises(SchemaConflict) as info:
        schema.sync(databases.test, changed, label="Development")
    problem = info.value.problems[0]
    assert len(info.value.problems) == 1
    assert problem.path == "types.Rental Unit.fields.price"
    assert "'price'" in problem.message
    assert "'number'" in problem.message and "'text'" in problem.message
    assert "Development" in problem.message
    assert problem.line is None  # found in the database, not in the file

    assert schema.conflicts(databases.test, changed, "Development") == info.value.problems
    assert schema.conflicts(databases.live, changed, "Live") == []  # Live never had it

    with pytest.raises(SchemaConflict):
        Runtime(databases, changed)

    # Nothing changed: no new table, no new column, the same schema records.
    assert not table_exists(databases.test, "t_other")
    assert tables(databases.test) == columns_before
    assert schema_records(databases.test) == before
    again = make_api(databases, V1)
    assert get(again, "rentalunit", uid)["price"] == 100


def test_sync_is_idempotent(databases: Databases) -> None:
    definition = parse_app(V2_NEW_FIELDS)
    schema.sync(databases.test, definition)
    records = schema_records(databases.test)
    columns = tables(databases.test)
    schema.sync(databases.test, definition)
    schema.sync(databases.test, definition)
    assert schema_records(databases.test) == records
    assert tables(databases.test) == columns
    assert schema.conflicts(databases.test, definition) == []


def test_deploy_refuses_conflicts_with_live(databases: Databases) -> None:
    assert deployed_definition(databases.live) is None
    assert deploy(databases, parse_app(V1)) == 1
    api = make_api(databases, V1)
    uid = create(api, "rentalunit", {"name": "Live loft", "price": 100}, base=LIVE)

    with pytest.raises(AppDefError) as info:
        deploy(databases, parse_app(V2_CHANGED))
    paths = [p.path for p in info.value.problems]
    assert paths == ["types.Rental Unit.fields.price"]
    assert "Live" in info.value.problems[0].message

    deployed = deployed_definition(databases.live)
    assert deployed is not None and deployed.source == V1
    assert not table_exists(databases.live, "t_other")
    api = make_api(databases, V1)
    assert get(api, "rentalunit", uid, base=LIVE)["price"] == 100

    # A compatible definition deploys, and Live serves it (a runtime opened afterwards).
    assert deploy(databases, parse_app(V2_NEW_FIELDS)) == 2
    api = make_api(databases, V1)
    r = api.client.patch(f"{LIVE}/rentalunit/{uid}", json={"bedrooms": 3}, headers=api.auth)
    assert r.status_code == 204
    assert get(api, "rentalunit", uid, base=LIVE)["bedrooms"] == 3


def test_development_conflict_does_not_touch_live(databases: Databases) -> None:
    deploy(databases, parse_app(V1))
    make_api(databases, V1)
    # Development moves price to text? refused there; Live keeps serving its definition.
    with pytest.raises(SchemaConflict):
        make_api(databases, V2_CHANGED)
    api = make_api(databases, V1)
    create(api, "rentalunit", {"price": 1}, base=LIVE)
    assert search(api, "rentalunit", base=LIVE)["count"] == 1


def test_migrations_are_idempotent_on_open_databases(databases: Databases) -> None:
    # `Databases` already migrated both.
    assert migrate(databases.live) == []
    assert migrate(databases.test) == []
    assert migrate(databases.test) == []


@pytest.fixture
def fresh_backend(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A backend nothing has migrated yet, on the same database kind as `settings`."""
    if settings.database_url:
        pool = request.getfixturevalue("pg_pool")
        backend = PostgresBackend(pool, settings.schema_prefix + "_fresh")
        yield backend
        backend.drop()
    else:
        sqlite = SQLiteBackend(settings.data_dir / "fresh.sqlite")
        yield sqlite
        sqlite.close()


def test_migrations_apply_once(fresh_backend: Backend) -> None:
    versions = [v for v, _ in MIGRATIONS]
    assert migrate(fresh_backend) == versions
    assert migrate(fresh_backend) == []
    assert migrate(fresh_backend) == []
    d = fresh_backend.dialect
    with fresh_backend.read() as tx:
        rows = tx.fetchall(f"SELECT version FROM {d.table('burble_migrations')} ORDER BY version")
        for name in ("burble_schema_types", "burble_schema_fields", "burble_tokens"):
            assert d.table_exists(tx, name), name
    assert [r[0] for r in rows] == versions


# --- indexes: every field by default; `auto_index: false` keeps only those listed ----------

V_INDEXED = V1.replace(
    "      notes: text\n", "      notes: text\n    indexes:\n      - [price, name]\n"
)
V_LISTED_ONLY = V1.replace(
    "      notes: text\n",
    "      notes: text\n    auto_index: false\n    indexes:\n      - [price]\n",
)


def _indexes(backend: Backend, table: str) -> set[str]:
    with backend.read() as tx:
        names = backend.dialect.index_names(tx, table)
    return {n.removeprefix(table) for n in names if n.startswith(table + "__")}


def _n1_lofts(api: Any) -> dict[str, Any]:
    constraints = [
        {"key": "name", "constraint_type": "equals", "value": "n1"},
        {"key": "notes", "constraint_type": "text contains", "value": "loft"},
    ]
    return search(api, "rentalunit", constraints=constraints, sort_field="price", descending="true")


def test_every_field_is_indexed_by_default(databases: Databases) -> None:
    make_api(databases, V_INDEXED)
    assert _indexes(databases.test, "t_rental_unit") >= {
        "__ix__created_date",
        "__ix__modified_date",
        "__ix__created_by",
        "__ux__slug",
        "__ix_f_name_text",
        "__ix_f_price_number",
        "__ix_f_notes_text",
        "__cx_f_price_number_f_name_text",
    }


def test_auto_index_false_keeps_only_the_listed_indexes_and_searches_still_work(
    databases: Databases,
) -> None:
    indexed = make_api(databases, V_INDEXED)
    for i in range(30):
        create(indexed, "rentalunit", {"name": f"n{i % 3}", "price": i, "notes": "quiet loft"})
    before = _n1_lofts(indexed)

    listed = make_api(databases, V_LISTED_ONLY)  # the same database, the definition changed
    have = _indexes(databases.test, "t_rental_unit")
    assert {"__ix__created_date", "__ux__slug", "__cx_f_price_number"} <= have
    gone = {"__ix__modified_date", "__ix__created_by", "__ix_f_name_text", "__ix_f_price_number"}
    assert not have & gone
    assert "__cx_f_price_number_f_name_text" not in have  # no longer listed: dropped
    after = _n1_lofts(listed)
    assert after == before and before["count"] == 10

    make_api(databases, V_INDEXED)  # and back: the indexes are made again
    assert _indexes(databases.test, "t_rental_unit") >= gone | {"__cx_f_price_number_f_name_text"}


def test_auto_index_must_be_yes_or_no() -> None:
    with pytest.raises(AppDefError) as err:
        parse_app(V1.replace("      notes: text\n", "      notes: text\n    auto_index: maybe\n"))
    assert "auto_index" in str(err.value)
