"""A database out of reach is StoreUnavailable (the caller may retry), and the store recovers
when it is back, without a restart."""

from __future__ import annotations

import asyncpg
import pytest
from bsa_judge.runs.migrate import upgrade_to_head
from bsa_judge.runs.run import SampleKey, StoreUnavailable
from bsa_judge.runs.sql import SqlRunStore

from tests.runs.databases import POSTGRES_HOST, POSTGRES_PORT, postgres_database
from tests.runs.examples import CREATED_AT, new_run_id, run_spec, sample


async def test_a_postgresql_nobody_listens_for_is_unavailable(
    unused_tcp_port: int,
) -> None:
    store = SqlRunStore.from_url(f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/test")
    try:
        with pytest.raises(StoreUnavailable, match=r"^run store unavailable: "):
            async with store.unit_of_work() as uow:
                await uow.runs.list_runs()
    finally:
        await store.close()


async def test_connections_cut_mid_unit_of_work_are_unavailable_and_the_next_one_works() -> None:
    async with postgres_database() as url:
        await upgrade_to_head(url)
        store = SqlRunStore.from_url(url)
        key = SampleKey(new_run_id(), "RO-1", 0)
        try:
            async with store.unit_of_work() as uow:
                await uow.runs.add_run(run_spec(key.run_id), CREATED_AT)
                await uow.commit()
            with pytest.raises(StoreUnavailable):
                await add_sample_losing_the_connection(store, key, url)
            async with store.unit_of_work() as uow:
                assert await uow.runs.get_sample(key) is None
                stored = await uow.runs.add_sample(key, sample(0, answer="kept"))
                await uow.commit()
            assert stored == sample(0, answer="kept")
        finally:
            await store.close()


async def add_sample_losing_the_connection(store: SqlRunStore, key: SampleKey, url: str) -> None:
    async with store.unit_of_work() as uow:
        await uow.runs.add_sample(key, sample(0, answer="lost"))
        await cut_connections(url)  # as a database restart does
        await uow.commit()


async def cut_connections(url: str) -> None:
    """End every other session on the database of `url`."""
    database = url.rsplit("/", 1)[1]
    user = url.split("//", 1)[1].split("@", 1)[0]
    admin = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=user, database="test"
    )
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            database,
        )
        assert ended >= 1
    finally:
        await admin.close()
