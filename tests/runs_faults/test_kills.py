"""SIGKILL in the middle of a run (the server, or the `bsa-judge run` driver), then resume.

The run must end as if nothing had happened: exactly k samples per item, one verdict each,
no key twice (in the store and in the driver's files), the same samples, verdicts and metrics
as an uninterrupted run against the same seeded stubs, and no more calls repeated than were
in flight at the kill. The server runs on SQLite here (the embedded default); the PostgreSQL
faults are in test_shared_postgres.py.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from tests.runs.databases import sqlite_database
from tests.runs_faults.harness import (
    ITEMS,
    Baseline,
    Drivers,
    K,
    RunCommand,
    StoredRun,
    assert_complete,
    comparable,
    outcome,
    server,
    server_environment,
    stubs,
)


async def test_server_killed_mid_run_then_resumed(
    baseline: Baseline, drivers: Drivers, tmp_path: Path
) -> None:
    url = sqlite_database(tmp_path)
    async with stubs() as seeded:
        async with server(server_environment(tmp_path, seeded, url)) as serving:
            command = RunCommand(serving.target, "server-kill", tmp_path / "out", ITEMS, K)
            stored = StoredRun(url, command.run_id)
            driver = await drivers.start(command)
            await stored.wait_for(ITEMS * K)  # about half the samples and verdicts
            seeded.close_gates()
            await stored.settle(seeded)
            in_flight = seeded.in_flight
            await serving.kill()
            seeded.open_gates()
            await serving.start()
            code, err = await driver.finish()  # it resends what is missing to the new server
            assert code == 0, err
            calls = seeded.calls
            await drivers.run_to_end(command)  # the same command again: nothing left to call
            assert seeded.calls == calls
            await stored.close()
        result = await outcome(command, url, seeded)
    assert_complete(result, command, baseline.item_ids)
    assert comparable(result.records) == baseline.rows
    assert result.metrics == baseline.metrics
    repeated = result.model_calls + result.judge_calls - baseline.model_calls - baseline.judge_calls
    assert in_flight > 0
    assert 0 <= repeated <= in_flight


async def test_driver_killed_mid_run_then_resumed(
    baseline: Baseline, drivers: Drivers, tmp_path: Path
) -> None:
    url = sqlite_database(tmp_path)
    async with stubs() as seeded:
        async with server(server_environment(tmp_path, seeded, url)) as serving:
            command = RunCommand(serving.target, "driver-kill", tmp_path / "out", ITEMS, K)
            stored = StoredRun(url, command.run_id)
            driver = await drivers.start(command)
            await stored.wait_for(ITEMS * K)
            seeded.close_gates()
            await stored.settle(seeded)
            in_flight = seeded.in_flight
            await driver.kill()
            seeded.open_gates()
            await drivers.run_to_end(command)  # the documented way to resume
            calls = seeded.calls
            await drivers.run_to_end(command)
            assert seeded.calls == calls
            await stored.close()
        result = await outcome(command, url, seeded)
    assert_complete(result, command, baseline.item_ids)
    assert comparable(result.records) == baseline.rows
    assert result.metrics == baseline.metrics
    repeated = result.model_calls + result.judge_calls - baseline.model_calls - baseline.judge_calls
    assert in_flight > 0
    assert 0 <= repeated <= in_flight


async def test_ten_server_kills_at_random_moments(
    baseline: Baseline, drivers: Drivers, tmp_path: Path
) -> None:
    """Issue 10's process test: 10 SIGKILLs of the server, each at a seeded random moment of
    one run (after a random few more samples or verdicts were stored, then a random pause),
    each followed by a restart; the driver resumes by itself. The next server is started
    before the kill, on the same port, while the stubs hold their replies: the kill is the
    same, and the test spends no time waiting for restarts."""
    moments = random.Random(10)
    url = sqlite_database(tmp_path)
    async with stubs(model_delay_s=0.1) as seeded:
        # Two generations at a time: the server commits concurrent samples together (group
        # commit), so this keeps the stored count rising in small steps between the kills.
        environment = {
            **server_environment(tmp_path, seeded, url, model_concurrency=2),
            "BSA_JUDGE_REUSE_PORT": "true",  # each next server binds the port beside the last
        }
        async with server(environment) as serving:
            command = RunCommand(serving.target, "ten-kills", tmp_path / "out", ITEMS, K)
            stored = StoredRun(url, command.run_id)
            driver = await drivers.start(command)
            done = 0
            for _kill in range(10):
                # The run stands still while the next server starts (its replies held).
                seeded.close_gates()
                await serving.start_successor()
                seeded.open_gates()
                done += moments.randint(1, 3)
                await stored.wait_for(done)
                await asyncio.sleep(moments.uniform(0, 0.05))
                await serving.kill_predecessor()
            progress = await stored.progress()
            assert progress is not None
            assert progress.samples + progress.verdicts < 2 * ITEMS * K  # killed mid-run
            code, err = await driver.finish()
            assert code == 0, err
            await stored.close()
        result = await outcome(command, url, seeded)
    assert serving.kills == 10
    assert_complete(result, command, baseline.item_ids)
    assert comparable(result.records) == baseline.rows
    assert result.metrics == baseline.metrics
