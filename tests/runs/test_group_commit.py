"""Group commit: concurrent callers' samples, verdicts and cached judgments written in shared
transactions, each caller answered with what is stored, once it is committed; the same for
every kind of store (in memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from bsa_judge.benchmark.scenario import SafetyLabel
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.runs.group_commit import GroupCommit
from bsa_judge.runs.run import RunNotFound, SampleKey, StoreUnavailable
from bsa_judge.runs.schema import samples
from bsa_judge.runs.sql import SqlRunStore
from bsa_judge.runs.store import RunStore

from tests.runs.examples import CREATED_AT, judgment, new_run_id, run_spec, sample, verdict


async def new_run(store: RunStore) -> str:
    run_id = new_run_id()
    async with store.unit_of_work() as uow:
        await uow.runs.add_run(run_spec(run_id), CREATED_AT)
        await uow.commit()
    return run_id


async def test_concurrent_writes_are_each_stored_once_and_answered_with_the_stored_value(
    store: RunStore,
) -> None:
    run_id = await new_run(store)
    writes = GroupCommit(store)
    keys = [SampleKey(run_id, f"RO-{item}", index) for item in range(10) for index in range(3)]
    # Every key offered twice at once, with different answers: the first offer is stored.
    offers = [(key, sample(key.sample_index, f"first {key.item_id}")) for key in keys] + [
        (key, sample(key.sample_index, f"second {key.item_id}")) for key in keys
    ]
    try:
        answers = await asyncio.gather(*(writes.add_sample(key, s) for key, s in offers))
        verdicts = await asyncio.gather(
            *(writes.add_verdict(key, verdict(key.item_id, key.sample_index)) for key in keys)
        )
    finally:
        await writes.aclose()

    first = [sample(key.sample_index, f"first {key.item_id}") for key in keys]
    assert answers == first + first
    assert verdicts == [verdict(key.item_id, key.sample_index) for key in keys]
    async with store.unit_of_work() as uow:
        records = await uow.runs.records(run_id)
    assert [(r.key, r.sample, r.verdict) for r in records] == sorted(
        (key, s, verdict(key.item_id, key.sample_index)) for key, s in zip(keys, first, strict=True)
    )


async def test_a_sample_stored_before_is_returned_and_not_replaced(store: RunStore) -> None:
    run_id = await new_run(store)
    key = SampleKey(run_id, "RO-1", 0)
    async with store.unit_of_work() as uow:
        stored = await uow.runs.add_sample(key, sample(0, "stored before"))
        await uow.commit()
    writes = GroupCommit(store)
    try:
        again, fresh = await asyncio.gather(
            writes.add_sample(key, sample(0, "sent again")),
            writes.add_sample(SampleKey(run_id, "RO-1", 1), sample(1, "new")),
        )
    finally:
        await writes.aclose()
    assert (again, fresh) == (stored, sample(1, "new"))


async def test_cached_judgments_are_written_once_and_found_by_lookups(store: RunStore) -> None:
    safe = judgment(JudgmentKind.SAFETY, SafetyLabel.SAFE)
    unsafe = judgment(JudgmentKind.SAFETY, SafetyLabel.UNSAFE)
    key = f"{new_run_id()}-sha256"
    writes = GroupCommit(store)
    try:
        assert await writes.get_judgment(key) is None
        # Two puts of one key in one batch: the first is kept, the second changes nothing.
        await asyncio.gather(writes.add_judgment(key, safe), writes.add_judgment(key, unsafe))
        found, missing = await asyncio.gather(
            writes.get_judgment(key), writes.get_judgment(f"{key}-other")
        )
    finally:
        await writes.aclose()
    assert (found, missing) == (safe, None)


async def test_a_write_for_an_unknown_run_fails_alone(store: RunStore) -> None:
    run_id = await new_run(store)
    writes = GroupCommit(store)
    try:
        good, bad = await asyncio.gather(
            writes.add_sample(SampleKey(run_id, "RO-1", 0), sample(0)),
            writes.add_sample(SampleKey("no-such-run", "RO-1", 0), sample(0)),
            return_exceptions=True,
        )
    finally:
        await writes.aclose()
    assert good == sample(0)
    assert isinstance(bad, RunNotFound)
    assert str(bad) == "run 'no-such-run' does not exist"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_writes_are_committed_when_the_caller_is_answered(
    kind: str, request: pytest.FixtureRequest
) -> None:
    store_url: str = request.getfixturevalue(f"{kind}_url")
    store = SqlRunStore.from_url(store_url)
    writes = GroupCommit(store)
    try:
        run_id = await new_run(store)
        await asyncio.gather(
            *(writes.add_sample(SampleKey(run_id, "RO-1", i), sample(i)) for i in range(5))
        )
        # Read through a connection of another engine: only committed rows are visible.
        other = SqlRunStore.from_url(store_url)
        async with other.engine.connect() as connection:
            count = await connection.scalar(
                sa.select(sa.func.count()).select_from(samples).where(samples.c.run_id == run_id)
            )
        await other.close()
        assert count == 5
    finally:
        await writes.aclose()
        await store.close()


async def test_an_unavailable_store_fails_every_caller_of_the_batch(unused_tcp_port: int) -> None:
    down = SqlRunStore.from_url(f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/test")
    writes = GroupCommit(down)
    try:
        answers = await asyncio.gather(
            writes.add_sample(SampleKey("r", "RO-1", 0), sample(0)),
            writes.get_judgment("some-key"),
            return_exceptions=True,
        )
    finally:
        await writes.aclose()
        await down.close()
    assert [type(answer) for answer in answers] == [StoreUnavailable, StoreUnavailable]
