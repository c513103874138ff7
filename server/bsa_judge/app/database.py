"""The run store's database: bring its schema to the newest migration.

`bsa-judge db upgrade` calls `upgrade_database` on its own (ahead of a rollout, or to check a
URL); `bsa-judge serve` has it done by the composition root before it builds anything
(`bootstrap.build_for_serving`). Replicas starting together on one PostgreSQL take turns.
"""

from __future__ import annotations

from bsa_judge.runs.migrate import upgrade_to_head
from bsa_judge.runs.schema import DatabaseUrlError

__all__ = ["DatabaseUrlError", "upgrade_database"]


async def upgrade_database(database_url: str) -> str:
    """Migrate the database at `database_url` to the newest schema; returns its revision.

    Raises DatabaseUrlError for a URL naming a database the store does not support; the
    database's own errors when it cannot be reached or migrated.
    """
    return await upgrade_to_head(database_url)
