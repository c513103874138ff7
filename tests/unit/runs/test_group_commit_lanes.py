"""Group commit's two lanes, on the in-memory store with a commit held open: a judgment
lookup is answered while a write batch waits for its commit (as a SQLite commit that
checkpoints its log waits for the disk), and a judgment put in the cache is queued, not
waited for, yet committed before any verdict queued after it."""

from __future__ import annotations

import asyncio

from bsa_judge.benchmark.scenario import SafetyLabel
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.runs.group_commit import GroupCommit
from bsa_judge.runs.judgment_cache import StoredJudgmentCache
from bsa_judge.runs.memory import InMemoryRunStore, InMemoryUnitOfWork
from bsa_judge.runs.run import SampleKey

from tests.runs.examples import CREATED_AT, judgment, run_spec, sample, verdict


class HeldCommits(InMemoryRunStore):
    """An in-memory store whose commits wait for `release` (and log what they committed)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.release.set()
        self.committed: list[str] = []

    def unit_of_work(self) -> InMemoryUnitOfWork:
        unit = super().unit_of_work()
        commit = unit.commit
        store = self

        async def held_commit() -> None:
            await store.release.wait()
            await commit()
            store.committed.append("commit")

        unit.commit = held_commit  # type: ignore[method-assign]
        return unit


async def test_a_lookup_is_answered_while_a_write_batch_waits_for_its_commit() -> None:
    store = HeldCommits()
    async with store.unit_of_work() as uow:
        await uow.runs.add_run(run_spec("run-1"), CREATED_AT)
        await uow.runs.add_judgment("cached", judgment(JudgmentKind.SAFETY, SafetyLabel.SAFE))
        await uow.commit()
    writes = GroupCommit(store)
    store.release.clear()
    key = SampleKey("run-1", "RO-1", 0)
    held = asyncio.create_task(writes.add_sample(key, sample(0, "held")))
    await asyncio.sleep(0)  # the write batch starts and waits in its commit

    found = await asyncio.wait_for(writes.get_judgment("cached"), timeout=5)

    assert found == judgment(JudgmentKind.SAFETY, SafetyLabel.SAFE)
    assert not held.done()
    assert store.committed == ["commit"]  # only the set-up's commit
    store.release.set()
    assert await held == sample(0, "held")
    await writes.aclose()


async def test_a_cache_put_returns_at_once_and_commits_before_a_verdict_queued_after_it() -> None:
    store = HeldCommits()
    async with store.unit_of_work() as uow:
        await uow.runs.add_run(run_spec("run-1"), CREATED_AT)
        await uow.commit()
    writes = GroupCommit(store)
    key = SampleKey("run-1", "RO-1", 0)
    await writes.add_sample(key, sample(0, "answer"))
    store.release.clear()
    unsafe = judgment(JudgmentKind.SAFETY, SafetyLabel.UNSAFE)

    # The cache's put does not wait for the held commit.
    await asyncio.wait_for(StoredJudgmentCache(writes).put("trace-1", unsafe), timeout=5)
    cached = writes.add_judgment_soon("trace-2", unsafe)
    stored_verdict = asyncio.create_task(writes.add_verdict(key, verdict("RO-1", 0)))
    await asyncio.sleep(0)
    assert not cached.done()
    assert not stored_verdict.done()
    store.release.set()
    assert await stored_verdict == verdict("RO-1", 0)
    # When the verdict is answered, the cache row queued before it is committed too.
    assert cached.done()
    assert cached.exception() is None
    assert await writes.get_judgment("trace-2") == unsafe
    assert await writes.get_judgment("trace-1") == unsafe
    await writes.aclose()
