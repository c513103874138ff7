"""The Alembic migrations bring an empty database of each kind to the schema the store uses."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from bsa_judge.cli import main
from bsa_judge.runs.migrate import current_revision, head_revision, upgrade_to_head
from bsa_judge.runs.schema import create_engine, metadata
from sqlalchemy.engine import Connection

from tests.runs.databases import postgres_database, sqlite_database


async def schema_differences(url: str) -> list[object]:
    """What autogenerate would change to make the database match `schema.metadata`."""

    def compare(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def migrate_empty(url: str) -> None:
    assert await current_revision(url) is None
    assert await upgrade_to_head(url) == head_revision() == "0002"
    assert await current_revision(url) == "0002"
    assert await schema_differences(url) == []
    # Again: nothing to do.
    assert await upgrade_to_head(url) == "0002"


async def test_an_empty_sqlite_file_migrates_to_head(tmp_path: Path) -> None:
    await migrate_empty(sqlite_database(tmp_path / "folder" / "made"))


async def test_an_empty_postgresql_database_migrates_to_head() -> None:
    async with postgres_database() as url:
        await migrate_empty(url)


async def test_replicas_upgrading_one_postgresql_together_both_succeed() -> None:
    async with postgres_database() as url:
        assert await asyncio.gather(upgrade_to_head(url), upgrade_to_head(url)) == [
            "0002",
            "0002",
        ]
        assert await current_revision(url) == "0002"


def test_db_upgrade_migrates_the_database_it_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_database(tmp_path)
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert capsys.readouterr().out == "database at revision 0002\n"
    assert asyncio.run(current_revision(url)) == "0002"


def test_db_upgrade_uses_the_database_url_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_database(tmp_path)
    monkeypatch.setenv("BSA_JUDGE_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    assert asyncio.run(current_revision(url)) == "0002"


def test_db_upgrade_names_an_unsupported_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--database-url", "mysql://db/runs"]) == 2
    assert capsys.readouterr().err == (
        "bsa-judge db upgrade: database_url: unsupported database 'mysql'; "
        "use sqlite:///FILE or postgresql://USER@HOST/DATABASE\n"
    )
