"""Fresh databases for the store tests: a SQLite file, or a new database on the PostgreSQL at
127.0.0.1:5432 (made through the `test` database, dropped afterwards).

With CI=true an unreachable PostgreSQL fails the tests; elsewhere they are skipped.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

#: The server `.ci/run` starts; trust auth, so a user name is all it takes.
POSTGRES_HOST, POSTGRES_PORT, POSTGRES_ADMIN_DATABASE = "127.0.0.1", 5432, "test"
_USERS = ("postgres", "root")


async def _admin_connection() -> asyncpg.Connection:
    errors = []
    for user in _USERS:
        try:
            return await asyncpg.connect(
                host=POSTGRES_HOST,
                port=POSTGRES_PORT,
                user=user,
                database=POSTGRES_ADMIN_DATABASE,
                timeout=5,
            )
        except (OSError, asyncpg.PostgresError) as error:
            errors.append(f"{user}: {error}")
    message = f"PostgreSQL at {POSTGRES_HOST}:{POSTGRES_PORT} unreachable ({'; '.join(errors)})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped on exit."""
    admin = await _admin_connection()
    name = f"bsa_judge_test_{secrets.token_hex(6)}"
    user = admin.get_settings().session_authorization
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql://{user}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def sqlite_database(folder: Path) -> str:
    """The URL of a SQLite file (not yet created) in `folder`."""
    return f"sqlite:///{folder / f'runs-{secrets.token_hex(4)}.sqlite3'}"
