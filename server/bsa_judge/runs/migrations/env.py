"""Alembic's environment for the run store: migrations run on a connection they are given.

`bsa_judge.runs.migrate.upgrade_to_head` passes its connection in `config.attributes`;
the `alembic` command line (for writing a new revision) gets one from `sqlalchemy.url`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bsa_judge.runs.schema import create_engine, metadata


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on `connection`, in its transaction."""
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run_migrations(given)
else:
    asyncio.run(_run_from_url(context.config.get_main_option("sqlalchemy.url") or ""))
