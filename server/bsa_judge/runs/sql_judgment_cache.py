"""The judge cache's two batch statements, run on the database driver's own connection.

Every judged trace looks up its two judgments in the cache and writes them after judging;
group commit gathers those into one lookup and one insert per batch. Through SQLAlchemy Core
such a statement cost 0.3-0.5 ms of CPU on the bench machine (the compiled-statement cache,
an execution context, result wrapping, the JSON type's per-row work and, with aiosqlite, four
thread hops: cursor, execute, fetch, close). On the driver's connection it is one call (one
thread hop with aiosqlite): a lookup batch with its unit of work 0.29 ms against 0.49, an
insert 0.53 against 0.97 (bench/judge_cache_store.py; bench/RESULTS.md, "Issue 11, fourth
landing").

The rows are the ones SQLAlchemy's JSON column reads and writes: the judgment's JSON text
(`judgment_cache.judgment`), the table's other column defaulted by the database. Both calls
run inside the caller's unit of work, on its connection; errors are the driver's own, which
the store classifies like SQLAlchemy's (a lost connection or database is StoreUnavailable).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

_FIND = {
    # One parameter, the keys as a JSON array: one statement text for every batch size.
    "sqlite": "SELECT cache_key, judgment FROM judgment_cache "
    "WHERE cache_key IN (SELECT value FROM json_each(?))",
    "postgresql": "SELECT cache_key, judgment::text FROM judgment_cache "
    "WHERE cache_key = ANY($1::text[])",
}
_KEEP = {
    "sqlite": "INSERT INTO judgment_cache (cache_key, judgment) VALUES (?, ?) "
    "ON CONFLICT (cache_key) DO NOTHING",
    "postgresql": "INSERT INTO judgment_cache (cache_key, judgment) VALUES ($1, $2::text::json) "
    "ON CONFLICT (cache_key) DO NOTHING",
}


async def find(connection: AsyncConnection, cache_keys: Sequence[str]) -> list[tuple[str, str]]:
    """The (key, judgment JSON) rows stored under any of `cache_keys` (distinct keys)."""
    dialect = connection.dialect.name
    driver = await _driver(connection)
    if dialect == "sqlite":
        rows = await driver.execute_fetchall(_FIND[dialect], (json.dumps(list(cache_keys)),))
    else:
        rows = await driver.fetch(_FIND[dialect], list(cache_keys))
    return [(str(key), str(judgment)) for key, judgment in rows]


async def keep(connection: AsyncConnection, rows: Sequence[tuple[str, str]]) -> None:
    """Insert each (key, judgment JSON) row unless its key is taken (the first row of a key
    given twice wins), in the unit of work's transaction; committed by its commit."""
    dialect = connection.dialect.name
    if dialect == "sqlite" and not connection.in_transaction():
        # SQLite's driver opens the transaction itself at the insert; SQLAlchemy's commit
        # only commits a transaction it knows was begun.
        await connection.begin()
    driver = await _driver(connection)
    # PostgreSQL: inside the transaction SQLAlchemy started for the batch's earlier
    # statements, else asyncpg's own (executemany is atomic), committed when it returns.
    await driver.executemany(_KEEP[dialect], list(rows))


async def _driver(connection: AsyncConnection) -> Any:
    """The driver's connection under `connection` (aiosqlite's or asyncpg's)."""
    if connection.dialect.name not in _FIND:
        raise ValueError(f"the judge cache has no statements for {connection.dialect.name}")
    return (await connection.get_raw_connection()).driver_connection
