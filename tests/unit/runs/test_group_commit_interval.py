"""Group commit's batch interval: under load (BUSY_BATCHES batches in a row found requests
waiting) a lane lets the next batch gather for the rest of the interval instead of writing
each request as it comes; a lone request, or one that happened to come during a write, never
waits."""

from __future__ import annotations

import asyncio

from bsa_judge.generation.sampler import Sample
from bsa_judge.runs.group_commit import BUSY_BATCHES, GroupCommit
from bsa_judge.runs.run import SampleKey

from tests.runs.examples import CREATED_AT, run_spec, sample
from tests.unit.runs.test_group_commit_lanes import HeldCommits

KEYS = [SampleKey("run-1", "RO-1", index) for index in range(BUSY_BATCHES + 2)]


async def _store_with_run() -> HeldCommits:
    store = HeldCommits()
    async with store.unit_of_work() as uow:
        await uow.runs.add_run(run_spec("run-1"), CREATED_AT)
        await uow.commit()
    store.committed.clear()
    return store


async def test_under_load_the_next_batch_waits_to_gather_the_requests_that_come() -> None:
    store = await _store_with_run()
    writes = GroupCommit(store, interval_s=0.3)
    store.release.clear()

    async def add(index: int) -> asyncio.Task[Sample]:
        task = asyncio.create_task(writes.add_sample(KEYS[index], sample(index)))
        await asyncio.sleep(0)  # gathered (and, for a lone request, its batch started)
        return task

    async def commit_one() -> None:
        # The batch waiting in its commit goes through; the next one will wait in its own.
        store.release.set()
        store.release.clear()

    tasks = [await add(0)]  # batch 1 starts and waits in its commit
    for index in range(1, BUSY_BATCHES + 1):
        # A request comes while the last batch is written; that batch commits, and this
        # request's batch starts at once (not yet BUSY_BATCHES busy batches in a row) ...
        tasks.append(await add(index))
        await commit_one()
        assert await tasks[index - 1] == sample(index - 1)
    # ... until the lane is under load: after the BUSY_BATCHES-th busy batch, the next waits
    # out the interval, so a request sent now joins the one waiting.
    late = asyncio.create_task(writes.add_sample(KEYS[BUSY_BATCHES + 1], sample(BUSY_BATCHES + 1)))
    store.release.set()
    assert await asyncio.gather(tasks[-1], late) == [
        sample(BUSY_BATCHES),
        sample(BUSY_BATCHES + 1),
    ]
    # One batch per request, except the last two together.
    assert store.committed == ["commit"] * (BUSY_BATCHES + 1)
    await writes.aclose()


async def test_one_request_that_comes_during_a_write_does_not_make_the_next_wait() -> None:
    store = await _store_with_run()
    writes = GroupCommit(store, interval_s=30)
    store.release.clear()
    first = asyncio.create_task(writes.add_sample(KEYS[0], sample(0)))
    await asyncio.sleep(0)  # the first batch starts and waits in its commit
    second = asyncio.create_task(writes.add_sample(KEYS[1], sample(1)))
    await asyncio.sleep(0)
    store.release.set()
    # One busy batch is no load: the second request is written at once, not in 30 s.
    assert await asyncio.wait_for(asyncio.gather(first, second), 5) == [sample(0), sample(1)]
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
