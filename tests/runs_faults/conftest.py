"""The uninterrupted run every fault test compares with: the same items, k and seeded stubs,
once per session, on its own SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.runs.databases import sqlite_database
from tests.runs_faults.harness import (
    ITEMS,
    Baseline,
    Drivers,
    K,
    RunCommand,
    comparable,
    item_ids,
    outcome,
    server,
    server_environment,
    stubs,
)


@pytest.fixture
async def drivers() -> AsyncIterator[Drivers]:
    """Starts drivers; kills those still running when the test ends."""
    started = Drivers()
    yield started
    await started.kill_all()


@pytest.fixture(scope="session")
async def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    folder = Path(tmp_path_factory.mktemp("baseline"))
    url = sqlite_database(folder)
    async with stubs() as seeded:
        async with server(server_environment(folder, seeded, url)) as serving:
            command = RunCommand(serving.target, "baseline", folder / "out", ITEMS, K)
            drivers = Drivers()
            try:
                await drivers.run_to_end(command)
            finally:
                await drivers.kill_all()
        result = await outcome(command, url, seeded)
    ids = item_ids(ITEMS)
    assert len(result.records) == ITEMS * K
    # One generation per sample and two judge calls (safety, thinking) per sample.
    assert (result.model_calls, result.judge_calls) == (ITEMS * K, 2 * ITEMS * K)
    return Baseline(
        comparable(result.records), result.metrics, result.model_calls, result.judge_calls, ids
    )
