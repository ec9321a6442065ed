"""Keep the tables in step with the app definition.

New type → table; new field → column(s); removed field → column kept, hidden; a field whose
type changed → a definition error (as in Bubble). What the database holds is recorded in
`burble_schema_types` / `burble_schema_fields`.
"""

from __future__ import annotations

from dataclasses import dataclass

from burble.appdef.load import identifier
from burble.appdef.model import AppDefinition, DataType, Field, FieldKind
from burble.errors import Problem, SchemaConflict
from burble.store.backend import Backend, Dialect, Tx
from burble.store.codec import column_names
from burble.store.migrations import lock_schema


def field_columns(dialect: Dialect, field: Field) -> list[tuple[str, str]]:
    """(column, SQL type) pairs a field is stored in: three for an address, else one."""
    ftype = field.type
    if ftype.kind is FieldKind.ADDRESS and not ftype.is_list:
        real = dialect.real_type()
        return [
            (field.column, "TEXT"),
            (field.column + "__lat", real),
            (field.column + "__lng", real),
        ]
    return [(field.column, dialect.column_type(ftype.kind, ftype.is_list))]


def builtin_columns(dialect: Dialect, dtype: DataType) -> list[str]:
    bigint = dialect.bigint_type()
    cols = [
        *dialect.row_key_columns(),
        f"_created_date {bigint} NOT NULL",
        f"_modified_date {bigint} NOT NULL",
        "_created_by TEXT",
        "_slug TEXT",
    ]
    if dtype.is_user:
        cols += [f"{column} {declaration}" for column, declaration in user_columns(dialect)]
    return cols


def user_columns(dialect: Dialect) -> list[tuple[str, str]]:
    """The User type's built-in columns (credentials), with their SQL declarations."""
    yes_no = dialect.column_type(FieldKind.YES_NO, False)
    false = "FALSE" if yes_no == "BOOLEAN" else "0"
    return [
        ("_email", "TEXT UNIQUE"),
        ("_password_hash", "TEXT"),
        ("_email_confirmed", f"{yes_no} NOT NULL DEFAULT {false}"),
    ]


def _add_user_columns(tx: Tx, d: Dialect, dtype: DataType) -> None:
    """An existing User table gets the built-in columns added since it was created."""
    have = d.columns(tx, dtype.table)
    for column, declaration in user_columns(d):
        if column not in have:
            tx.execute(d.add_column_sql(dtype.table, column, declaration))


@dataclass(frozen=True)
class _Known:
    field_type: str
    removed: bool


def _known_fields(tx: Tx, dialect: Dialect) -> dict[tuple[str, str], _Known]:
    rows = tx.fetchall(
        "SELECT type_name, field_name, field_type, removed FROM "
        + dialect.table("burble_schema_fields")
    )
    return {(r[0], r[1]): _Known(r[2], bool(r[3])) for r in rows}


def conflicts(backend: Backend, definition: AppDefinition, label: str = "") -> list[Problem]:
    """Fields whose type differs from what this database already stores."""
    with backend.read() as tx:
        if not backend.dialect.table_exists(tx, "burble_schema_fields"):
            return []
        known = _known_fields(tx, backend.dialect)
    return _conflicts(known, definition, label)


def _conflicts(
    known: dict[tuple[str, str], _Known], definition: AppDefinition, label: str
) -> list[Problem]:
    problems = []
    where = f" in the {label} database" if label else ""
    for dtype in definition.types.values():
        for field in dtype.fields:
            was = known.get((dtype.name, field.name))
            if was is not None and not was.removed and was.field_type != field.type.describe():
                problems.append(
                    Problem(
                        f"the type of field '{field.name}' changed from '{was.field_type}' to "
                        f"'{field.type.describe()}'{where}; a field's type cannot change "
                        "(add a new field instead)",
                        path=f"types.{dtype.name}.fields.{field.name}",
                    )
                )
    return problems


def sync(backend: Backend, definition: AppDefinition, label: str = "") -> None:
    """Bring the tables in line with `definition` in one transaction (or raise, changing nothing)."""
    d = backend.dialect
    with backend.write() as tx:
        lock_schema(backend, tx)
        known = _known_fields(tx, d)
        problems = _conflicts(known, definition, label)
        if problems:
            raise SchemaConflict(problems)
        tables = {
            r[0] for r in tx.fetchall("SELECT type_name FROM " + d.table("burble_schema_types"))
        }
        for dtype in definition.types.values():
            if dtype.name not in tables:
                _create_table(tx, d, dtype)
                tx.execute(
                    f"INSERT INTO {d.table('burble_schema_types')} (type_name, table_name) "
                    "VALUES (?, ?)",
                    [dtype.name, dtype.table],
                )
            elif dtype.is_user:
                _add_user_columns(tx, d, dtype)
            present = set()
            for field in dtype.fields:
                present.add(field.name)
                was = known.get((dtype.name, field.name))
                if was is None or (was.removed and was.field_type != field.type.describe()):
                    if dtype.name in tables:
                        for column, sql_type in field_columns(d, field):
                            if not _has_column(tx, d, dtype.table, column):
                                tx.execute(d.add_column_sql(dtype.table, column, sql_type))
                    _record(tx, d, dtype, field, exists=was is not None)
                elif was.removed:
                    tx.execute(
                        f"UPDATE {d.table('burble_schema_fields')} SET removed = 0 "
                        "WHERE type_name = ? AND field_name = ?",
                        [dtype.name, field.name],
                    )
            for (type_name, field_name), was in known.items():
                if type_name == dtype.name and field_name not in present and not was.removed:
                    tx.execute(
                        f"UPDATE {d.table('burble_schema_fields')} SET removed = 1 "
                        "WHERE type_name = ? AND field_name = ?",
                        [type_name, field_name],
                    )
            _sync_indexes(tx, d, dtype)


def _record(tx: Tx, d: Dialect, dtype: DataType, field: Field, exists: bool) -> None:
    if exists:
        tx.execute(
            f"UPDATE {d.table('burble_schema_fields')} SET field_type = ?, column_name = ?, "
            "removed = 0 WHERE type_name = ? AND field_name = ?",
            [field.type.describe(), field.column, dtype.name, field.name],
        )
    else:
        tx.execute(
            f"INSERT INTO {d.table('burble_schema_fields')} "
            "(type_name, field_name, field_type, column_name, removed) VALUES (?, ?, ?, ?, 0)",
            [dtype.name, field.name, field.type.describe(), field.column],
        )


def _has_column(tx: Tx, d: Dialect, table: str, column: str) -> bool:
    return column in d.columns(tx, table)


def _create_table(tx: Tx, d: Dialect, dtype: DataType) -> None:
    columns = builtin_columns(d, dtype)
    for field in dtype.fields:
        columns += [f"{d.quote(c)} {t}" for c, t in field_columns(d, field)]
    tx.execute(f"CREATE TABLE IF NOT EXISTS {d.table(dtype.table)} ({', '.join(columns)})")


def _sync_slug_index(tx: Tx, d: Dialect, dtype: DataType) -> None:
    """Slugs are unique per type (Bubble), enforced by the database so that two concurrent
    runs cannot give two things one slug (tables made before it also have a plain index)."""
    sql = d.index_sql(dtype.table, identifier(dtype.table + "__ux_", "_slug"), ["_slug"], "plain")
    assert sql is not None and sql.startswith("CREATE INDEX ")
    tx.execute("CREATE UNIQUE INDEX " + sql.removeprefix("CREATE INDEX "))


def _sync_indexes(tx: Tx, d: Dialect, dtype: DataType) -> None:
    """An index for every field a search may constrain or sort on (with `auto_index`, the
    default), the type's `indexes`, and the full-text index. Indexes Burble made that the
    definition no longer asks for are dropped."""
    _sync_slug_index(tx, d, dtype)
    wanted: dict[str, str] = {}  # name → CREATE INDEX

    def want(name: str, columns: list[str], how: str) -> None:
        sql = d.index_sql(dtype.table, name, columns, how)
        if sql is not None:
            wanted[name] = sql

    built_in = ["_created_date"]  # the default order
    if dtype.auto_index:
        built_in += ["_modified_date", "_created_by"]
    for column in built_in:
        want(identifier(dtype.table + "__ix_", column), [column], "plain")
    for field in dtype.fields if dtype.auto_index else ():
        columns = column_names(field)
        kind = field.type.kind
        if field.type.is_list:
            how, indexed = "list", columns[:1]
        elif kind is FieldKind.ADDRESS:
            how, indexed = "plain", columns[1:]  # (lat, lng) for the bounding-box prefilter
        elif kind is FieldKind.TEXT:
            how, indexed = "text", columns
        else:
            how, indexed = "plain", columns
        want(identifier(dtype.table + "__ix_", columns[0]), indexed, how)
    for fields in dtype.indexes:
        columns = [c for f in fields for c in column_names(f)]
        want(identifier(dtype.table + "__cx_", "_".join(columns)), columns, "plain")
    ours = (dtype.table + "__ix_", dtype.table + "__cx_")
    for name in d.index_names(tx, dtype.table):
        if name.startswith(ours) and name not in wanted:
            tx.execute(d.drop_index_sql(name))
    for sql in wanted.values():
        tx.execute(sql)
    d.sync_text_search(tx, dtype.table, text_columns(dtype))


def text_columns(dtype: DataType) -> list[str]:
    """The columns of the text fields `text contains` searches (not lists)."""
    return [f.column for f in dtype.fields if f.type.kind is FieldKind.TEXT and not f.type.is_list]
