"""Group commit's batch interval: under load a lane lets the next batch gather for the rest of
the interval instead of writing each request as it comes; a lone request never waits."""

from __future__ import annotations

import asyncio

from bsa_judge.runs.group_commit import GroupCommit
from bsa_judge.runs.run import SampleKey

from tests.runs.examples import CREATED_AT, run_spec, sample
from tests.unit.runs.test_group_commit_lanes import HeldCommits


async def _store_with_run() -> HeldCommits:
    store = HeldCommits()
    async with store.unit_of_work() as uow:
        await uow.runs.add_run(run_spec("run-1"), CREATED_AT)
        await uow.commit()
    store.committed.clear()
    return store


async def test_requests_that_come_while_a_batch_is_written_wait_to_gather_into_one_batch() -> None:
    store = await _store_with_run()
    writes = GroupCommit(store, interval_s=0.3)
    keys = [SampleKey("run-1", "RO-1", index) for index in range(3)]
    store.release.clear()
    first = asyncio.create_task(writes.add_sample(keys[0], sample(0)))
    await asyncio.sleep(0)  # the first batch starts and waits in its commit
    second = asyncio.create_task(writes.add_sample(keys[1], sample(1)))
    await asyncio.sleep(0)
    store.release.set()
    assert await first == sample(0)

    # The second request came while the first batch was written: the lane waits out the
    # interval, so a request sent now joins the second's batch instead of a batch of its own.
    third = asyncio.create_task(writes.add_sample(keys[2], sample(2)))
    assert await asyncio.gather(second, third) == [sample(1), sample(2)]
    assert store.committed == ["commit", "commit"]
    await writes.aclose()


async def test_a_request_to_an_idle_lane_is_written_at_once() -> None:
    store = await _store_with_run()
    writes = GroupCommit(store, interval_s=30)
    for index in range(3):
        key = SampleKey("run-1", "RO-1", index)
        # Each comes when nothing else is gathered: none waits for the 30 s interval.
        assert await asyncio.wait_for(writes.add_sample(key, sample(index)), 5) == sample(index)
    assert store.committed == ["commit", "commit", "commit"]
    await writes.aclose()
