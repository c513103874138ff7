"""Callers racing on one key end with one stored row and the same answer for each.

Each caller is its own task with its own unit of work (its own connection on SQL stores),
offering a different value; on SQLite and PostgreSQL half the callers go through a second
engine, as a second replica would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
import sqlalchemy as sa
from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import Verdict
from bsa_judge.runs.run import Run, SampleKey
from bsa_judge.runs.schema import samples, verdicts
from bsa_judge.runs.sql import SqlRunStore
from bsa_judge.runs.store import RunStore, RunUnitOfWork

from tests.runs.examples import CREATED_AT, failed_sample, new_run_id, run_spec, sample, verdict

CALLERS = 16
T = TypeVar("T")


@pytest.fixture
async def replicas(store: RunStore, store_url: str) -> AsyncIterator[list[RunStore]]:
    """The store, and on a database a second store on its own engine."""
    if store_url == "memory":
        yield [store]
        return
    second = SqlRunStore.from_url(store_url)
    yield [store, second]
    await second.close()


async def race(
    stores: list[RunStore], add: Callable[[RunUnitOfWork, int], Awaitable[T]]
) -> list[T]:
    async def one(caller: int) -> T:
        async with stores[caller % len(stores)].unit_of_work() as uow:
            stored = await add(uow, caller)
            await uow.commit()
            return stored

    return list(await asyncio.gather(*(one(caller) for caller in range(CALLERS))))


async def rows(store: RunStore, table: sa.Table, key: SampleKey) -> int:
    """Rows stored under `key` (the in-memory store holds one value per key by construction)."""
    if not isinstance(store, SqlRunStore):
        async with store.unit_of_work() as uow:
            return len(await uow.runs.records(key.run_id))
    async with store.engine.connect() as connection:
        count = await connection.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.run_id == key.run_id)
        )
    return int(count or 0)


async def new_run(store: RunStore) -> SampleKey:
    run_id = new_run_id()
    async with store.unit_of_work() as uow:
        await uow.runs.add_run(run_spec(run_id), CREATED_AT)
        await uow.commit()
    return SampleKey(run_id, "RO-1", 0)


async def test_racing_samples_on_one_key_store_one_and_all_get_it(
    store: RunStore, replicas: list[RunStore]
) -> None:
    key = await new_run(store)

    async def add(uow: RunUnitOfWork, caller: int) -> Sample:
        return await uow.runs.add_sample(key, sample(0, answer=f"answer of caller {caller}"))

    answers = await race(replicas, add)
    async with store.unit_of_work() as uow:
        stored = await uow.runs.get_sample(key)
    assert stored is not None
    assert stored.answer.startswith("answer of caller ")
    assert answers == [stored] * CALLERS
    assert await rows(store, samples, key) == 1


async def test_racing_retries_of_a_failed_sample_store_one_and_all_get_it(
    store: RunStore, replicas: list[RunStore]
) -> None:
    key = await new_run(store)
    async with store.unit_of_work() as uow:
        await uow.runs.add_sample(key, failed_sample(0))
        await uow.commit()

    async def add(uow: RunUnitOfWork, caller: int) -> Sample:
        return await uow.runs.add_sample(key, sample(0, answer=f"retry of caller {caller}"))

    answers = await race(replicas, add)
    async with store.unit_of_work() as uow:
        stored = await uow.runs.get_sample(key)
    assert stored is not None
    assert stored.answer.startswith("retry of caller ")
    assert answers == [stored] * CALLERS
    assert await rows(store, samples, key) == 1


async def test_racing_verdicts_on_one_key_store_one_and_all_get_it(
    store: RunStore, replicas: list[RunStore]
) -> None:
    key = await new_run(store)

    async def add(uow: RunUnitOfWork, caller: int) -> Verdict:
        return await uow.runs.add_verdict(key, verdict("RO-1", explanation=f"caller {caller}"))

    answers = await race(replicas, add)
    async with store.unit_of_work() as uow:
        stored = await uow.runs.get_verdict(key)
    assert stored is not None
    assert answers == [stored] * CALLERS
    assert await rows(store, verdicts, key) == 1


async def test_racing_creations_of_one_run_store_one_and_all_get_it(
    store: RunStore, replicas: list[RunStore]
) -> None:
    run_id = new_run_id()

    async def add(uow: RunUnitOfWork, caller: int) -> Run:
        return await uow.runs.add_run(run_spec(run_id), CREATED_AT + timedelta(seconds=caller))

    created = await race(replicas, add)
    async with store.unit_of_work() as uow:
        stored = await uow.runs.get_run(run_id)
    assert created == [stored] * CALLERS
