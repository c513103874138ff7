"""The store's tables (SQLAlchemy Core) and its engines, from a database URL.

Item ids sort by code point on every database (the "C" collation on PostgreSQL, SQLite's
default binary one), so a run's records come out in one order wherever they are stored. The
schema itself is created and changed by the Alembic migrations (`migrate.upgrade_to_head`);
a test checks that these tables and the migrated database agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

metadata = sa.MetaData()

#: An id compared and sorted by code point on both databases.
Id = sa.String().with_variant(sa.String(collation="C"), "postgresql")

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", Id, primary_key=True),
    sa.Column("model", sa.String(), nullable=False),
    sa.Column("selection", sa.Text(), nullable=False),
    sa.Column("k", sa.Integer(), nullable=False),
    sa.Column("decoding", sa.JSON(), nullable=False),
    sa.Column("safety_rules", sa.Boolean(), nullable=False),
    sa.Column("sample_source", sa.String(16), nullable=False, server_default="generated"),
    sa.Column("judge", sa.String(), nullable=False),
    sa.Column("judge_model", sa.String(), nullable=False),
    sa.Column("template_versions", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
)


def _key_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("run_id", Id, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("item_id", Id, primary_key=True),
        sa.Column("sample_index", sa.Integer(), primary_key=True),
    ]


def _stored_at() -> sa.Column[Any]:
    return sa.Column(
        "stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


samples = sa.Table(
    "run_samples",
    metadata,
    *_key_columns(),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("sample", sa.JSON(), nullable=False),
    _stored_at(),
    sa.Index("ix_run_samples_run_id_status", "run_id", "status"),
)

verdicts = sa.Table(
    "run_verdicts",
    metadata,
    *_key_columns(),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("safety_label", sa.String(32), nullable=True),
    sa.Column("thinking_label", sa.String(32), nullable=True),
    sa.Column("thinking_correct", sa.Boolean(), nullable=False),
    sa.Column("scenario", sa.String(32), nullable=True),
    sa.Column("verdict", sa.JSON(), nullable=False),
    _stored_at(),
    sa.Index("ix_run_verdicts_run_id_status", "run_id", "status"),
)

judgments = sa.Table(
    "judgment_cache",
    metadata,
    sa.Column("cache_key", sa.String(128), primary_key=True),
    sa.Column("judgment", sa.JSON(), nullable=False),
    _stored_at(),
)


class DatabaseUrlError(ValueError):
    """A database URL names a database the store does not support."""


def async_url(database_url: str) -> URL:
    """The URL with the store's async driver: aiosqlite for sqlite, asyncpg for postgresql.

    Plain `sqlite:///path` and `postgresql://user@host/db` URLs are accepted as written.
    """
    try:
        url = make_url(database_url)
    except sa.exc.ArgumentError as error:
        raise DatabaseUrlError(f"database_url: {error}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise DatabaseUrlError(
        f"database_url: unsupported database {backend!r}; use sqlite:///FILE or "
        "postgresql://USER@HOST/DATABASE"
    )


def create_engine(database_url: str) -> AsyncEngine:
    """An engine for the URL; a SQLite file's folder is created when missing."""
    url = async_url(database_url)
    if url.get_backend_name() == "postgresql":
        # pre_ping: a connection that died with a database restart is replaced, not used.
        return create_async_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Foreign keys on (SQLite leaves them off); WAL, so readers never wait for a writer;
    synchronous=NORMAL, which in WAL mode keeps every commit through a crash of the process
    (a power loss may drop the last commits, never corrupt the file) and saves an fsync per
    commit."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
