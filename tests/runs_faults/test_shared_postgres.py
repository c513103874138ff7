"""Runs on the shared PostgreSQL: two servers on one database, and the database going away in
the middle of a run.

Each test gets a new database on the PostgreSQL at 127.0.0.1:5432 (with CI=true an unreachable
PostgreSQL fails the test). The outage is made by a TCP proxy between the server and
PostgreSQL that the test cuts and restores (proxy.py): from the server's side that is the
database restarting, without restarting the cluster that other tests share.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
from bsa_judge_client import AsyncJudgeClient

from tests.runs.databases import postgres_database
from tests.runs_faults.harness import (
    ITEMS,
    Baseline,
    Drivers,
    K,
    RunCommand,
    StoredRun,
    assert_complete,
    committed_parts,
    comparable,
    judge_prompts,
    outcome,
    server,
    server_environment,
    stubs,
)
from tests.runs_faults.proxy import CuttableProxy


async def test_two_drivers_two_servers_one_database(
    baseline: Baseline, drivers: Drivers, tmp_path: Path
) -> None:
    async with postgres_database() as url, stubs() as first, stubs() as second:
        (tmp_path / "1").mkdir()
        (tmp_path / "2").mkdir()
        async with (
            server(server_environment(tmp_path / "1", first, url)) as one,
            server(server_environment(tmp_path / "2", second, url)) as two,
        ):
            # Two drivers on one run id at once, each through its own server.
            racing = RunCommand(one.target, "two-drivers", tmp_path / "out-1", ITEMS, K)
            racers = [
                await drivers.start(racing),
                await drivers.start(racing.on(two.target).at(tmp_path / "out-2")),
            ]
            for driver in racers:
                code, err = await driver.finish()
                assert code == 0, err
            # Within one server no trace is judged twice.
            for judged in (first.judge, second.judge):
                prompts = judge_prompts(judged)
                assert len(prompts) == len(set(prompts))
            judged_by_first = set(judge_prompts(first.judge))
            judged_by_second_only = set(judge_prompts(second.judge)) - judged_by_first
            # A second run of the same model through the first server: the samples come out
            # the same (seeded), so every judgment its judge made in the race answers from
            # the cache. Only the traces the second server alone judged (it had stored their
            # verdicts first) are judged again: its judge is another endpoint, whose
            # judgments are not this judge's. Which traces those are depends on the race.
            first.reset()
            second.reset()
            again = RunCommand(one.target, "judged-elsewhere", tmp_path / "out-3", ITEMS, K)
            await drivers.run_to_end(again)
            assert first.model.calls == ITEMS * K
            assert sorted(judge_prompts(first.judge)) == sorted(judged_by_second_only)
            await drivers.run_to_end(again.on(two.target))
            assert second.calls == 0
        racing_result = await outcome(racing, url, first)
        again_result = await outcome(again, url, first)
    for result, command in ((racing_result, racing), (again_result, again)):
        assert_complete(result, command, baseline.item_ids)
        assert comparable(result.records) == baseline.rows
        assert result.metrics == baseline.metrics


async def test_postgres_outage_mid_run(
    baseline: Baseline, drivers: Drivers, tmp_path: Path
) -> None:
    async with postgres_database() as url, stubs() as seeded:
        direct = urlsplit(url)
        async with CuttableProxy(direct.port or 5432) as proxy:
            through_proxy = direct._replace(
                netloc=f"{direct.username}@127.0.0.1:{proxy.port}"
            ).geturl()
            environment = server_environment(tmp_path, seeded, through_proxy)
            async with server(environment) as serving:
                command = RunCommand(serving.target, "outage", tmp_path / "out", ITEMS, K)
                stored = StoredRun(url, command.run_id)  # the test reads PostgreSQL directly
                driver = await drivers.start(command)
                await stored.wait_for(ITEMS * K)
                await proxy.cut()
                committed = committed_parts(await stored.records())
                async with AsyncJudgeClient(serving.target, retry=None) as client:
                    with pytest.raises(grpc.aio.AioRpcError) as refused:
                        await client.get_run({"run_id": command.run_id}, timeout_s=10)
                    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
                await asyncio.sleep(2)  # the driver's streams break and it retries meanwhile
                await proxy.restore()
                code, err = await driver.finish()
                assert code == 0, err + serving.errors()
                assert "UNAVAILABLE" in err  # the driver saw the outage and resent
                await stored.close()
        result = await outcome(command, url, seeded)
    assert_complete(result, command, baseline.item_ids)
    final = comparable(result.records)
    assert committed <= committed_parts(result.records)  # nothing committed was lost
    assert final == baseline.rows
    assert result.metrics == baseline.metrics
