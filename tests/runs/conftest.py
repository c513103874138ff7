"""Run stores of each kind, on databases migrated once per test session.

Tests share a database per kind and keep apart by using their own run ids and cache keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bsa_judge.runs.memory import InMemoryRunStore
from bsa_judge.runs.migrate import upgrade_to_head
from bsa_judge.runs.sql import SqlRunStore
from bsa_judge.runs.store import RunStore

from tests.runs.databases import postgres_database, sqlite_database

KINDS = ("memory", "sqlite", "postgresql")


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = sqlite_database(Path(tmp_path_factory.mktemp("run-store")))
    await upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
async def postgresql_url() -> AsyncIterator[str]:
    async with postgres_database() as url:
        await upgrade_to_head(url)
        yield url


@pytest.fixture(params=KINDS)
def store_url(request: pytest.FixtureRequest) -> str:
    """ "memory", or the URL of the session's migrated database of the kind."""
    kind: str = request.param
    if kind == "memory":
        return kind
    # A plain fixture may ask for the async ones: their set-up runs on the session's loop.
    url: str = request.getfixturevalue(f"{kind}_url")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[RunStore]:
    """A run store of each kind."""
    opened: RunStore = (
        InMemoryRunStore() if store_url == "memory" else SqlRunStore.from_url(store_url)
    )
    yield opened
    await opened.close()
