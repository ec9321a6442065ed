"""Burble's own tables (schema records, tokens, deployed definitions), versioned migrations.

Each migration runs once per database, in one transaction, under a lock so two processes
starting together cannot both apply it. `{bigint}` is replaced by the dialect's type.
"""

from __future__ import annotations

from burble.store.backend import Backend, Tx
from burble.values import now_ms

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE {t:burble_schema_types} (
                type_name TEXT PRIMARY KEY,
                table_name TEXT NOT NULL
            )""",
            """CREATE TABLE {t:burble_schema_fields} (
                type_name TEXT NOT NULL,
                field_name TEXT NOT NULL,
                field_type TEXT NOT NULL,
                column_name TEXT NOT NULL,
                removed INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (type_name, field_name)
            )""",
            """CREATE TABLE {t:burble_tokens} (
                id TEXT PRIMARY KEY,
                label TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at {bigint} NOT NULL,
                revoked_at {bigint}
            )""",
            """CREATE TABLE {t:burble_definitions} (
                version INTEGER PRIMARY KEY,
                deployed_at {bigint} NOT NULL,
                source TEXT NOT NULL
            )""",
        ),
    ),
    # --- users' authentication (burble.auth.user_tokens): in each environment's database ---
    (
        2,
        (
            """CREATE TABLE {t:burble_user_tokens} (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at {bigint} NOT NULL,
                expires_at {bigint} NOT NULL,
                last_used_at {bigint} NOT NULL,
                keep_logged_in INTEGER NOT NULL DEFAULT 0,
                revoked_at {bigint}
            )""",
            "CREATE INDEX burble_user_tokens__user_id ON {t:burble_user_tokens} (user_id)",
        ),
    ),
    # --- end users' authentication ---
    # --- password reset tokens (burble.auth.accounts) ---
    (
        3,
        (
            """CREATE TABLE {t:burble_password_resets} (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at {bigint} NOT NULL,
                expires_at {bigint} NOT NULL,
                used_at {bigint}
            )""",
            "CREATE INDEX burble_password_resets__user_id ON {t:burble_password_resets} (user_id)",
        ),
    ),
    # --- end password reset tokens ---
    # --- the outbox: every email sent (burble.mail.outbox) ---
    (
        4,
        (
            """CREATE TABLE {t:burble_outbox} (
                id TEXT PRIMARY KEY,
                created_at {bigint} NOT NULL,
                run_id TEXT,
                to_addrs TEXT NOT NULL,
                cc_addrs TEXT NOT NULL,
                bcc_addrs TEXT NOT NULL,
                reply_to TEXT,
                sender_name TEXT,
                subject TEXT NOT NULL,
                body TEXT NOT NULL,
                html INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                claimed_at {bigint},
                sent_at {bigint},
                error TEXT
            )""",
            "CREATE INDEX burble_outbox__status ON {t:burble_outbox} (status, created_at)",
            "CREATE INDEX burble_outbox__created_at ON {t:burble_outbox} (created_at)",
        ),
    ),
    # --- end outbox ---
    # --- server logs (burble.logs) ---
    (
        5,
        (
            """CREATE TABLE {t:burble_logs} (
                id TEXT PRIMARY KEY,
                run_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                at {bigint} NOT NULL,
                workflow TEXT NOT NULL,
                user_id TEXT,
                kind TEXT NOT NULL,
                step INTEGER,
                message TEXT NOT NULL,
                data TEXT,
                duration_ms DOUBLE PRECISION
            )""",
            "CREATE INDEX burble_logs__at ON {t:burble_logs} (at)",
            "CREATE INDEX burble_logs__run ON {t:burble_logs} (run_id, seq)",
            "CREATE INDEX burble_logs__workflow ON {t:burble_logs} (workflow, at)",
            "CREATE INDEX burble_logs__user ON {t:burble_logs} (user_id, at)",
        ),
    ),
    # --- end server logs ---
    # --- the durable job queue (burble.jobs, ADR 0011) ---
    (
        6,
        (
            """CREATE TABLE {t:burble_jobs} (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                workflow TEXT NOT NULL,
                params TEXT NOT NULL,
                run_at {bigint} NOT NULL,
                status TEXT NOT NULL,
                depth INTEGER NOT NULL DEFAULT 0,
                user_id TEXT,
                ignore_privacy INTEGER NOT NULL DEFAULT 0,
                definition_version INTEGER,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL DEFAULT 1,
                retry_delay_ms {bigint} NOT NULL DEFAULT 0,
                claimed_by TEXT,
                lease_until {bigint},
                created_at {bigint} NOT NULL,
                started_at {bigint},
                finished_at {bigint},
                error TEXT,
                parent_run_id TEXT,
                thing_id TEXT,
                recurring_key TEXT,
                frequency TEXT,
                series_start {bigint},
                series_timezone TEXT
            )""",
            "CREATE INDEX burble_jobs__due ON {t:burble_jobs} (status, run_at)",
            "CREATE INDEX burble_jobs__run_at ON {t:burble_jobs} (run_at)",
            "CREATE INDEX burble_jobs__workflow ON {t:burble_jobs} (workflow, run_at)",
            "CREATE INDEX burble_jobs__thing ON {t:burble_jobs} (thing_id)",
            # At most one active (scheduled or running) job per recurring series.
            "CREATE UNIQUE INDEX burble_jobs__recurring ON {t:burble_jobs} (recurring_key) "
            "WHERE recurring_key IS NOT NULL AND status IN ('scheduled', 'running')",
            """CREATE TABLE {t:burble_scheduler} (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )""",
        ),
    ),
    # --- end job queue ---
)


def _render(backend: Backend, sql: str) -> str:
    d = backend.dialect
    out = sql.replace("{bigint}", d.bigint_type())
    while "{t:" in out:
        start = out.index("{t:")
        end = out.index("}", start)
        out = out[:start] + d.table(out[start + 3 : end]) + out[end + 1 :]
    return out


def migrate(backend: Backend) -> list[int]:
    """Apply every migration this database lacks; returns the versions applied."""
    d = backend.dialect
    applied: list[int] = []
    with backend.write() as tx:
        lock_schema(backend, tx)
        for statement in d.setup_statements():
            tx.execute(statement)
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {d.table('burble_migrations')} "
            f"(version INTEGER PRIMARY KEY, applied_at {d.bigint_type()} NOT NULL)"
        )
        done = {r[0] for r in tx.fetchall(f"SELECT version FROM {d.table('burble_migrations')}")}
        for version, statements in MIGRATIONS:
            if version in done:
                continue
            for statement in statements:
                tx.execute(_render(backend, statement))
            tx.execute(
                f"INSERT INTO {d.table('burble_migrations')} (version, applied_at) VALUES (?, ?)",
                [version, now_ms()],
            )
            applied.append(version)
    return applied


def lock_schema(backend: Backend, tx: Tx) -> None:
    """Serialise migrations and schema changes across processes (SQLite's write lock does it)."""
    if backend.dialect.name == "postgresql":
        tx.fetchone("SELECT pg_advisory_xact_lock(hashtext(?))", ["burble:" + backend.describe()])
