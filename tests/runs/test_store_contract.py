"""The RunStore contract, the same for every kind: in memory, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from bsa_judge.benchmark.scenario import SafetyLabel
from bsa_judge.benchmark.status import JudgmentStatus, SampleStatus
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.runs.run import (
    Run,
    RunConflict,
    RunNotFound,
    RunProgress,
    RunRecord,
    RunStatus,
    SampleKey,
)
from bsa_judge.runs.store import RunStore

from tests.runs.examples import (
    CREATED_AT,
    failed_sample,
    failed_verdict,
    judgment,
    new_run_id,
    run_spec,
    sample,
    verdict,
)


async def create(store: RunStore, run_id: str, at: datetime = CREATED_AT) -> Run:
    async with store.unit_of_work() as uow:
        run = await uow.runs.add_run(run_spec(run_id), at)
        await uow.commit()
    return run


async def test_a_created_run_is_running_and_reads_back_with_every_setting(
    store: RunStore,
) -> None:
    run_id = new_run_id()
    created = await create(store, run_id)
    async with store.unit_of_work() as uow:
        stored = await uow.runs.get_run(run_id)
    assert created == Run(run_spec(run_id), CREATED_AT, RunStatus.RUNNING, None)
    assert stored == created


async def test_creating_a_run_again_with_the_same_settings_returns_the_stored_run(
    store: RunStore,
) -> None:
    run_id = new_run_id()
    await create(store, run_id)
    again = await create(store, run_id, at=CREATED_AT + timedelta(hours=1))
    assert again.created_at == CREATED_AT


async def test_creating_a_run_again_with_other_settings_names_every_difference(
    store: RunStore,
) -> None:
    run_id = new_run_id()
    await create(store, run_id)
    other = replace(run_spec(run_id), k=3, judge_model="gpt-4o", safety_rules=False)
    async with store.unit_of_work() as uow:
        with pytest.raises(RunConflict) as raised:
            await uow.runs.add_run(other, CREATED_AT)
    assert raised.value.fields == ("k", "safety_rules", "judge_model")
    assert str(raised.value) == (
        f"run {run_id!r} already exists with other settings: "
        "differs in k, safety_rules, judge_model"
    )


async def test_an_unknown_run_is_not_found(store: RunStore) -> None:
    key = SampleKey("no-such-run", "RO-1", 0)
    async with store.unit_of_work() as uow:
        with pytest.raises(RunNotFound, match="run 'no-such-run' does not exist"):
            await uow.runs.get_run("no-such-run")
        with pytest.raises(RunNotFound):
            await uow.runs.progress("no-such-run")
        with pytest.raises(RunNotFound):
            await uow.runs.mark_run("no-such-run", RunStatus.FAILED, CREATED_AT)
    async with store.unit_of_work() as uow:
        with pytest.raises(RunNotFound):
            await uow.runs.add_sample(key, sample())
    async with store.unit_of_work() as uow:
        with pytest.raises(RunNotFound):
            await uow.runs.add_verdict(key, verdict("RO-1"))


async def test_runs_are_listed_oldest_first(store: RunStore) -> None:
    later, earlier = new_run_id(), new_run_id()
    await create(store, later, CREATED_AT + timedelta(days=400))
    await create(store, earlier, CREATED_AT + timedelta(days=300))
    async with store.unit_of_work() as uow:
        listed = [run.run_id for run in await uow.runs.list_runs()]
    assert [run_id for run_id in listed if run_id in (later, earlier)] == [earlier, later]


async def test_a_finished_run_has_its_status_and_finish_time_and_resuming_clears_it(
    store: RunStore,
) -> None:
    run_id = new_run_id()
    await create(store, run_id)
    finished_at = CREATED_AT + timedelta(minutes=42)
    async with store.unit_of_work() as uow:
        finished = await uow.runs.mark_run(run_id, RunStatus.COMPLETED, finished_at)
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.runs.get_run(run_id) == finished
        resumed = await uow.runs.mark_run(run_id, RunStatus.RUNNING, finished_at)
        await uow.commit()
    assert (finished.status, finished.finished_at) == (RunStatus.COMPLETED, finished_at)
    assert (resumed.status, resumed.finished_at) == (RunStatus.RUNNING, None)


async def test_a_stored_sample_is_returned_for_its_key_and_never_replaced(
    store: RunStore,
) -> None:
    run_id = new_run_id()
    await create(store, run_id)
    key = SampleKey(run_id, "RO-1", 2)
    async with store.unit_of_work() as uow:
        first = await uow.runs.add_sample(key, sample(2, answer="first"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        second = await uow.runs.add_sample(key, sample(2, answer="second"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        stored = await uow.runs.get_sample(key)
        missing = await uow.runs.get_sample(replace(key, sample_index=3))
    assert first == second == stored == sample(2, answer="first")
    assert missing is None


@pytest.mark.parametrize("batched", [False, True], ids=["one", "batch"])
async def test_a_failed_sample_is_replaced_by_the_next_and_its_verdict_dropped(
    store: RunStore, batched: bool
) -> None:
    run_id = new_run_id()
    await create(store, run_id)
    key = SampleKey(run_id, "RO-1", 0)
    async with store.unit_of_work() as uow:
        await uow.runs.add_sample(key, failed_sample(0))
        await uow.runs.add_verdict(key, failed_verdict("RO-1", 0))
        await uow.commit()
    async with store.unit_of_work() as uow:
        if batched:
            [retried] = await uow.runs.add_samples([(key, sample(0, answer="retried"))])
        else:
            retried = await uow.runs.add_sample(key, sample(0, answer="retried"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        # The retry is usable now: never replaced again.
        again = await uow.runs.add_sample(key, failed_sample(0))
        await uow.commit()
    async with store.unit_of_work() as uow:
        records = await uow.runs.records(run_id)
    assert retried == again == sample(0, answer="retried")
    assert records == [RunRecord(key, sample(0, answer="retried"), None)]


async def test_a_stored_verdict_reads_back_whole_and_is_never_replaced(store: RunStore) -> None:
    run_id = new_run_id()
    await create(store, run_id)
    key = SampleKey(run_id, "RO-1", 0)
    async with store.unit_of_work() as uow:
        first = await uow.runs.add_verdict(key, verdict("RO-1", explanation="first"))
        await uow.commit()
    async with store.unit_of_work() as uow:
        second = await uow.runs.add_verdict(key, verdict("RO-1", explanation="second"))
        stored = await uow.runs.get_verdict(key)
        missing = await uow.runs.get_verdict(replace(key, item_id="RO-2"))
    assert first == second == stored == verdict("RO-1", explanation="first")
    assert missing is None


async def test_a_unit_of_work_left_without_commit_stores_nothing(store: RunStore) -> None:
    run_id = new_run_id()
    await create(store, run_id)
    key = SampleKey(run_id, "RO-1", 0)
    async with store.unit_of_work() as uow:
        await uow.runs.add_sample(key, sample())
        safe = judgment(JudgmentKind.SAFETY, SafetyLabel.SAFE)
        await uow.runs.add_judgment(f"{run_id}-cache", safe)
    async with store.unit_of_work() as uow:
        assert await uow.runs.get_sample(key) is None
        assert await uow.runs.get_judgment(f"{run_id}-cache") is None


async def test_progress_counts_items_samples_and_verdicts_by_status(store: RunStore) -> None:
    run_id = new_run_id()
    await create(store, run_id)  # k = 5: RO-1 is finished, RO-2 is not
    async with store.unit_of_work() as uow:
        for index in range(5):
            await uow.runs.add_sample(SampleKey(run_id, "RO-1", index), sample(index))
            await uow.runs.add_verdict(SampleKey(run_id, "RO-1", index), verdict("RO-1", index))
        await uow.runs.add_sample(SampleKey(run_id, "RO-2", 0), failed_sample(0))
        await uow.runs.add_sample(SampleKey(run_id, "RO-2", 1), sample(1))
        await uow.runs.add_verdict(SampleKey(run_id, "RO-2", 1), failed_verdict("RO-2", 1))
        await uow.commit()
    async with store.unit_of_work() as uow:
        progress = await uow.runs.progress(run_id)
    assert progress == RunProgress(
        run_id=run_id,
        items=2,
        items_finished=1,
        samples=7,
        verdicts=6,
        samples_by_status={SampleStatus.OK: 6, SampleStatus.TIMEOUT: 1},
        verdicts_by_status={JudgmentStatus.OK: 5, JudgmentStatus.TIMEOUT: 1},
    )


async def test_records_page_through_a_run_by_item_id_then_sample_index(store: RunStore) -> None:
    run_id, other_run = new_run_id(), new_run_id()
    await create(store, run_id)
    await create(store, other_run)
    # Code point order: upper case before lower case, "item-10" before "item-9", "é" last.
    item_ids = ["é", "item-9", "item-10", "B", "a"]
    async with store.unit_of_work() as uow:
        for item_id in item_ids:
            for index in (1, 0):
                await uow.runs.add_sample(SampleKey(run_id, item_id, index), sample(index))
        await uow.runs.add_verdict(SampleKey(run_id, "a", 1), verdict("a", 1))
        await uow.runs.add_verdict(SampleKey(run_id, "a", 2), verdict("a", 2))  # no sample
        await uow.runs.add_sample(SampleKey(other_run, "a", 0), sample(0))
        await uow.commit()
    pages: list[list[RunRecord]] = []
    after: SampleKey | None = None
    while True:
        async with store.unit_of_work() as uow:
            page = await uow.runs.records(run_id, after=after, limit=4)
        if not page:
            break
        pages.append(page)
        after = page[-1].key
    records = [record for page in pages for record in page]
    assert [len(page) for page in pages] == [4, 4, 3]
    assert [(r.key.item_id, r.key.sample_index) for r in records] == [
        ("B", 0), ("B", 1), ("a", 0), ("a", 1), ("a", 2), ("item-10", 0), ("item-10", 1),
        ("item-9", 0), ("item-9", 1), ("é", 0), ("é", 1),
    ]  # fmt: skip
    assert records[3] == RunRecord(SampleKey(run_id, "a", 1), sample(1), verdict("a", 1))
    assert records[4] == RunRecord(SampleKey(run_id, "a", 2), None, verdict("a", 2))


async def test_a_cached_judgment_is_found_by_its_key_and_never_replaced(store: RunStore) -> None:
    key = f"{new_run_id()}-sha256"
    safe = judgment(JudgmentKind.SAFETY, SafetyLabel.SAFE)
    unsafe = judgment(JudgmentKind.SAFETY, SafetyLabel.UNSAFE)
    async with store.unit_of_work() as uow:
        assert await uow.runs.get_judgment(key) is None
        first = await uow.runs.add_judgment(key, safe)
        await uow.commit()
    async with store.unit_of_work() as uow:
        second = await uow.runs.add_judgment(key, unsafe)
        await uow.commit()
        stored = await uow.runs.get_judgment(key)
    assert first == second == stored == safe
