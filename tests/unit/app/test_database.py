"""The run store's database: migrated by its own use case, and by the composition root before
it builds what `serve` runs (a SQLite file: no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bsa_judge.app import bootstrap
from bsa_judge.app.database import DatabaseUrlError, upgrade_database
from bsa_judge.runs.migrate import head_revision
from bsa_judge.settings import Settings


async def test_upgrading_a_new_database_brings_it_to_the_newest_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    assert await upgrade_database(url) == head_revision() == "0002"
    assert await upgrade_database(url) == "0002"  # again: nothing to do


async def test_an_unsupported_database_is_named() -> None:
    with pytest.raises(DatabaseUrlError) as bad:
        await upgrade_database("mysql://db/runs")
    assert str(bad.value) == (
        "database_url: unsupported database 'mysql'; "
        "use sqlite:///FILE or postgresql://USER@HOST/DATABASE"
    )


async def test_the_served_application_finds_its_schema_in_place(tmp_path: Path) -> None:
    app = await bootstrap.build_for_serving(
        Settings(database_url=f"sqlite:///{tmp_path / 'runs.db'}")
    )
    try:
        page = await app.list_runs()
    finally:
        await app.aclose()
    assert (page.runs, page.next_page_token) == ((), "")
