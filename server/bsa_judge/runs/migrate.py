"""Bringing a database's schema to the newest migration, from a running event loop.

`bsa-judge serve` has it called at start (`app.bootstrap.build_for_serving`), and
`bsa-judge db upgrade` on its own (`app.database.upgrade_database`).
Replicas starting together on one PostgreSQL take turns: the upgrade holds an advisory
lock for its transaction, and the second finds the schema already at head.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bsa_judge.runs.schema import create_engine

# Any constant shared by every replica: the key of the PostgreSQL advisory lock.
_MIGRATION_LOCK = 0x62_73_61_6A_75_64_67_65  # "bsajudge"


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped in this package."""
    config = Config()
    config.set_main_option("script_location", str(files("bsa_judge.runs") / "migrations"))
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade_to_head(database_url: str) -> str:
    """Migrate the database at `database_url` to the newest schema; returns the revision."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()
    return head_revision()


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at; None for an empty database."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
