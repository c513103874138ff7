"""The run store on SQLAlchemy 2 async: SQLite (aiosqlite) or PostgreSQL (asyncpg).

Every add is one `INSERT ... ON CONFLICT DO NOTHING` on the key: when it wrote the row, what
was given is what is stored; when it wrote nothing (the key was taken), a read of the stored
row follows. When two callers (tasks or replicas) race on one key, the database lets one
insert win and the other reads the winner's row. Nothing reads first and then decides to
write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bsa_judge.benchmark.run import SampleSource
from bsa_judge.benchmark.status import FAILED_SAMPLES, JudgmentStatus, SampleStatus
from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import Judgment, Verdict
from bsa_judge.runs import codec, sql_judgment_cache
from bsa_judge.runs.run import (
    Run,
    RunConflict,
    RunNotFound,
    RunProgress,
    RunRecord,
    RunSpec,
    RunStatus,
    SampleKey,
    StoreUnavailable,
)
from bsa_judge.runs.schema import create_engine, judgments, runs, samples, verdicts
from bsa_judge.runs.store import RunRepository, RunStore, RunUnitOfWork

_KEY = ("run_id", "item_id", "sample_index")
_CACHE_KEY = ("cache_key",)
_Key = TypeVar("_Key", bound=Hashable)
_Value = TypeVar("_Value")

# What a database that is down, restarting or out of reach raises: at connect, the driver's
# OSError; on a connection in use, SQLAlchemy's wrappers of the driver's errors.
_UNREACHABLE = (OSError, sa.exc.OperationalError, sa.exc.InterfaceError)
# What the drivers raise for a connection that broke while in use, whatever SQLAlchemy wraps
# it in: asyncpg's "connection was closed in the middle of operation" reaches a ROLLBACK as
# a bare DBAPIError, neither invalidated nor an OperationalError. sqlite3's OperationalError
# (a file gone, locked past the busy timeout, a disk error) is what SQLAlchemy wraps as its
# OperationalError; the judge cache's statements meet it unwrapped (sql_judgment_cache).
_DRIVER_DISCONNECTS = (
    OSError,
    asyncpg.exceptions.PostgresConnectionError,
    sqlite3.OperationalError,
)


def _on_conflict_do_nothing(dialect: str, table: sa.Table, key: tuple[str, ...]) -> sa.Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(key))


def _by_key(body: sa.Column[Any]) -> sa.Select[Any]:
    table = body.table
    return sa.select(body).where(*(table.c[name] == sa.bindparam(name) for name in _KEY))


# The statements of the per-sample hot path, built once: SQLAlchemy then finds their compiled
# form in its cache without building and hashing a new statement on every call.
_RUN_TABLE_KEYS = ((samples, _KEY), (verdicts, _KEY))
_TABLE_KEYS = (*_RUN_TABLE_KEYS, (judgments, _CACHE_KEY))
_INSERTS = {
    (dialect, table.name): _on_conflict_do_nothing(dialect, table, key)
    for dialect in ("postgresql", "sqlite")
    for table, key in _TABLE_KEYS
}
# The same inserts for a batch of samples or verdicts, returning the key of each row they
# wrote (the judge cache's batches go through sql_judgment_cache).
_INSERTS_RETURNING_KEYS = {
    (dialect, table.name): _INSERTS[(dialect, table.name)].returning(
        *(table.c[name] for name in key)
    )
    for dialect in ("postgresql", "sqlite")
    for table, key in _RUN_TABLE_KEYS
}
_SAMPLE_BY_KEY = _by_key(samples.c.sample)
# A failed sample (no completion) is replaced by the next one stored under its key; the
# status guard makes the update itself decide, so a usable sample is never overwritten.
_REPLACE_FAILED_SAMPLE = (
    sa.update(samples)
    .where(
        *(samples.c[name] == sa.bindparam(f"key_{name}") for name in _KEY),
        samples.c.status.in_([status.value for status in FAILED_SAMPLES]),
    )
    .values(status=sa.bindparam("status"), sample=sa.bindparam("sample"))
)
_DELETE_VERDICT = sa.delete(verdicts).where(
    *(verdicts.c[name] == sa.bindparam(name) for name in _KEY)
)
_VERDICT_BY_KEY = _by_key(verdicts.c.verdict)
_JUDGMENT_BY_KEY = sa.select(judgments.c.judgment).where(
    judgments.c.cache_key == sa.bindparam("cache_key")
)


def _lost_connection(error: BaseException | None) -> bool:
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, _UNREACHABLE):
        return True
    while error is not None:
        if isinstance(error, _DRIVER_DISCONNECTS):
            return True
        if _closed_asyncpg_connection(error):
            return True
        error = error.__cause__
    return False


def _closed_asyncpg_connection(error: BaseException) -> bool:
    """asyncpg's word for a connection used after it broke (SQLAlchemy's asyncpg dialect
    counts it as a disconnect too); the judge cache's statements meet it unwrapped."""
    is_interface_error = isinstance(error, asyncpg.exceptions.InterfaceError)
    return is_interface_error and "connection is closed" in str(error)


class SqlRunRepository(RunRepository):
    """The repository on one connection, inside its transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._dialect = connection.dialect.name

    async def add_run(self, spec: RunSpec, created_at: datetime) -> Run:
        await self._insert(runs, _run_row(spec, created_at), ("run_id",))
        stored = await self.get_run(spec.run_id)
        if differences := stored.spec.differences(spec):
            raise RunConflict(spec.run_id, differences)
        return stored

    async def get_run(self, run_id: str) -> Run:
        row = (
            await self._connection.execute(sa.select(runs).where(runs.c.run_id == run_id))
        ).first()
        if row is None:
            raise RunNotFound(run_id)
        return _run(row._mapping)

    async def list_runs(self) -> list[Run]:
        rows = await self._connection.execute(
            sa.select(runs).order_by(runs.c.created_at, runs.c.run_id)
        )
        return [_run(row._mapping) for row in rows]

    async def mark_run(self, run_id: str, status: RunStatus, at: datetime) -> Run:
        finished_at = None if status is RunStatus.RUNNING else at.astimezone(UTC)
        result = await self._connection.execute(
            sa.update(runs)
            .where(runs.c.run_id == run_id)
            .values(status=status.value, finished_at=finished_at)
        )
        if result.rowcount == 0:
            raise RunNotFound(run_id)
        return await self.get_run(run_id)

    async def progress(self, run_id: str) -> RunProgress:
        run = await self.get_run(run_id)
        items = await self._connection.scalar(
            sa.select(sa.func.count(sa.distinct(samples.c.item_id))).where(
                samples.c.run_id == run_id
            )
        )
        by_sample_status = {
            SampleStatus(status): count
            for status, count in await self._count_by_status(samples, run_id)
        }
        by_verdict_status = {
            JudgmentStatus(status): count
            for status, count in await self._count_by_status(verdicts, run_id)
        }
        # Verdicts are only stored for sample indices below k: k of them finish an item.
        judged_items = (
            sa.select(verdicts.c.item_id)
            .where(verdicts.c.run_id == run_id)
            .group_by(verdicts.c.item_id)
            .having(sa.func.count() >= run.spec.k)
            .subquery()
        )
        finished = await self._connection.scalar(
            sa.select(sa.func.count()).select_from(judged_items)
        )
        return RunProgress(
            run_id=run_id,
            items=items or 0,
            items_finished=finished or 0,
            samples=sum(by_sample_status.values()),
            verdicts=sum(by_verdict_status.values()),
            samples_by_status=by_sample_status,
            verdicts_by_status=by_verdict_status,
        )

    async def add_sample(self, key: SampleKey, sample: Sample) -> Sample:
        row = _sample_row(key, sample)
        if await self._insert_for_run(samples, row, key.run_id) or await self._replace_failed(row):
            return codec.sample_from_json(row["sample"])  # exactly what a read gives back
        stored = await self.get_sample(key)
        assert stored is not None  # inserted now or before, and never deleted
        return stored

    async def get_sample(self, key: SampleKey) -> Sample | None:
        data = await self._connection.scalar(_SAMPLE_BY_KEY, _key_row(key))
        return codec.sample_from_json(data) if data is not None else None

    async def add_verdict(self, key: SampleKey, verdict: Verdict) -> Verdict:
        row = _verdict_row(key, verdict)
        if await self._insert_for_run(verdicts, row, key.run_id):
            return codec.verdict_from_json(row["verdict"])
        stored = await self.get_verdict(key)
        assert stored is not None
        return stored

    async def get_verdict(self, key: SampleKey) -> Verdict | None:
        data = await self._connection.scalar(_VERDICT_BY_KEY, _key_row(key))
        return codec.verdict_from_json(data) if data is not None else None

    async def records(
        self, run_id: str, *, after: SampleKey | None = None, limit: int = 500
    ) -> list[RunRecord]:
        # The first `limit` keys of the union are each among the first `limit` of their own
        # table, so two ordered, limited reads and a merge give the page.
        found_samples = {
            key: codec.sample_from_json(data)
            for key, data in await self._page(samples, samples.c.sample, run_id, after, limit)
        }
        found_verdicts = {
            key: codec.verdict_from_json(data)
            for key, data in await self._page(verdicts, verdicts.c.verdict, run_id, after, limit)
        }
        keys = sorted(found_samples.keys() | found_verdicts.keys())[:limit]
        return [RunRecord(key, found_samples.get(key), found_verdicts.get(key)) for key in keys]

    async def get_judgment(self, cache_key: str) -> Judgment | None:
        data = await self._connection.scalar(_JUDGMENT_BY_KEY, {"cache_key": cache_key})
        return codec.judgment_from_json(data) if data is not None else None

    async def add_judgment(self, cache_key: str, judgment: Judgment) -> Judgment:
        data = codec.judgment_to_json(judgment)
        row = {"cache_key": cache_key, "judgment": data}
        if await self._insert(judgments, row, ("cache_key",)):
            return codec.judgment_from_json(data)
        stored = await self.get_judgment(cache_key)
        assert stored is not None
        return stored

    async def add_samples(self, entries: Sequence[tuple[SampleKey, Sample]]) -> list[Sample]:
        return await self._add_many(
            samples,
            [(_key_tuple(key), _sample_row(key, sample)) for key, sample in entries],
            lambda row: codec.sample_from_json(row["sample"]),
            lambda key: self.get_sample(SampleKey(*key)),
            self._replace_failed,
        )

    async def add_verdicts(self, entries: Sequence[tuple[SampleKey, Verdict]]) -> list[Verdict]:
        return await self._add_many(
            verdicts,
            [(_key_tuple(key), _verdict_row(key, verdict)) for key, verdict in entries],
            lambda row: codec.verdict_from_json(row["verdict"]),
            lambda key: self.get_verdict(SampleKey(*key)),
        )

    async def keep_judgments(self, entries: Sequence[tuple[str, Judgment]]) -> None:
        rows = [(key, orjson.dumps(codec.judgment_to_json(j)).decode()) for key, j in entries]
        await sql_judgment_cache.keep(self._connection, rows)

    async def get_judgments(self, cache_keys: Sequence[str]) -> dict[str, Judgment]:
        if not cache_keys:
            return {}
        rows = await sql_judgment_cache.find(self._connection, list(dict.fromkeys(cache_keys)))
        return {key: codec.judgment_from_json(orjson.loads(data)) for key, data in rows}

    async def _add_many(
        self,
        table: sa.Table,
        keyed_rows: Sequence[tuple[_Key, dict[str, Any]]],
        decode: Callable[[dict[str, Any]], _Value],
        read_stored: Callable[[_Key], Awaitable[_Value | None]],
        replace: Callable[[dict[str, Any]], Awaitable[bool]] | None = None,
    ) -> list[_Value]:
        """Insert-or-return for many rows: one multi-row insert that ignores taken keys and
        returns the keys it wrote; a read of the stored row for each key it did not write.
        A key given twice is inserted once, and both get the stored value."""
        first: dict[_Key, dict[str, Any]] = {}
        for key, row in keyed_rows:
            first.setdefault(key, row)
        try:
            result = await self._connection.execute(
                _INSERTS_RETURNING_KEYS[(self._dialect, table.name)], list(first.values())
            )
        except sa.exc.IntegrityError:
            # The only constraint such an insert can break: a run's key (samples, verdicts).
            raise RunNotFound(str(keyed_rows[0][1].get("run_id"))) from None
        written = {tuple(row) for row in result}
        stored: dict[_Key, _Value] = {}
        for key, row in first.items():
            if key in written or (replace is not None and await replace(row)):
                stored[key] = decode(row)  # exactly what a read gives back
            else:
                found = await read_stored(key)
                assert found is not None  # inserted now or before, and never deleted
                stored[key] = found
        return [stored[key] for key, _ in keyed_rows]

    async def _replace_failed(self, row: Mapping[str, Any]) -> bool:
        """Replace the failed sample stored under the row's key (and drop its NOT_JUDGED
        verdict); False when the stored sample is usable."""
        values = {f"key_{name}": row[name] for name in _KEY}
        result = await self._connection.execute(
            _REPLACE_FAILED_SAMPLE, {**values, "status": row["status"], "sample": row["sample"]}
        )
        if result.rowcount != 1:
            return False
        await self._connection.execute(_DELETE_VERDICT, {name: row[name] for name in _KEY})
        return True

    async def _insert(self, table: sa.Table, row: Mapping[str, Any], key: tuple[str, ...]) -> bool:
        """Insert the row unless its key is taken; True when this insert wrote it."""
        statement = _INSERTS.get((self._dialect, table.name))
        if statement is None:
            statement = _on_conflict_do_nothing(self._dialect, table, key)
        result = await self._connection.execute(statement, dict(row))
        return bool(result.rowcount == 1)

    async def _insert_for_run(self, table: sa.Table, row: Mapping[str, Any], run_id: str) -> bool:
        try:
            return await self._insert(table, row, _KEY)
        except sa.exc.IntegrityError:
            # The only constraint an insert that ignores conflicts can break: the run's key.
            raise RunNotFound(run_id) from None

    async def _count_by_status(self, table: sa.Table, run_id: str) -> list[tuple[str, int]]:
        rows = await self._connection.execute(
            sa.select(table.c.status, sa.func.count())
            .where(table.c.run_id == run_id)
            .group_by(table.c.status)
        )
        return [(status, count) for status, count in rows]

    async def _page(
        self,
        table: sa.Table,
        body: sa.Column[Any],
        run_id: str,
        after: SampleKey | None,
        limit: int,
    ) -> list[tuple[SampleKey, Any]]:
        query = sa.select(table.c.item_id, table.c.sample_index, body).where(
            table.c.run_id == run_id
        )
        if after is not None:
            query = query.where(
                sa.tuple_(table.c.item_id, table.c.sample_index)
                > sa.tuple_(sa.literal(after.item_id), sa.literal(after.sample_index))
            )
        rows = await self._connection.execute(
            query.order_by(table.c.item_id, table.c.sample_index).limit(limit)
        )
        return [(SampleKey(run_id, item_id, index), data) for item_id, index, data in rows]


class SqlUnitOfWork(RunUnitOfWork):
    """One connection and its transaction, taken from the engine's pool on entry."""

    runs: SqlRunRepository

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        try:
            self._connection = await self._engine.connect()
        except (*_UNREACHABLE, sa.exc.DBAPIError) as error:
            # A database going down while asyncpg connects ends the connect with a bare
            # DBAPIError ("connection was closed in the middle of operation").
            if not _lost_connection(error):
                raise
            raise StoreUnavailable(f"run store unavailable: {error}") from error
        self.runs = SqlRunRepository(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            try:
                await super().__aexit__(exc_type, exc, traceback)
            finally:
                await self._open().close()
        except (*_UNREACHABLE, sa.exc.DBAPIError) as error:
            if not _lost_connection(error):
                raise
            if exc is None:
                raise StoreUnavailable(f"run store unavailable: {error}") from error
            # Otherwise the connection died with the error below, which is what to report.
        if _lost_connection(exc):
            raise StoreUnavailable(f"run store unavailable: {exc}") from exc

    async def commit(self) -> None:
        await self._open().commit()

    async def rollback(self) -> None:
        await self._open().rollback()

    def _open(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("use the unit of work as `async with store.unit_of_work()`")
        return self._connection


class SqlRunStore(RunStore):
    """The run store on a database; `from_url` for a `database_url` setting."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, database_url: str) -> SqlRunStore:
        """A store on `sqlite:///FILE` or `postgresql://...` (the schema must be at head)."""
        return cls(create_engine(database_url))

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()


def _key_row(key: SampleKey) -> dict[str, Any]:
    return {"run_id": key.run_id, "item_id": key.item_id, "sample_index": key.sample_index}


def _key_tuple(key: SampleKey) -> tuple[str, str, int]:
    return (key.run_id, key.item_id, key.sample_index)


def _sample_row(key: SampleKey, sample: Sample) -> dict[str, Any]:
    return {**_key_row(key), "status": sample.status.value, "sample": codec.sample_to_json(sample)}


def _verdict_row(key: SampleKey, verdict: Verdict) -> dict[str, Any]:
    return {
        **_key_row(key),
        "status": verdict.status.value,
        "safety_label": verdict.safety_label.value if verdict.safety_label else None,
        "thinking_label": verdict.thinking_label.value if verdict.thinking_label else None,
        "thinking_correct": verdict.thinking_correct,
        "scenario": verdict.scenario.value if verdict.scenario else None,
        "verdict": codec.verdict_to_json(verdict),
    }


def _run_row(spec: RunSpec, created_at: datetime) -> dict[str, Any]:
    return {
        "run_id": spec.run_id,
        "model": spec.model,
        "selection": codec.selection_to_text(spec.selection),
        "k": spec.k,
        "decoding": codec.decoding_to_json(spec.decoding),
        "safety_rules": spec.safety_rules,
        "sample_source": spec.sample_source.value,
        "judge": spec.judge,
        "judge_model": spec.judge_model,
        "template_versions": [list(pair) for pair in spec.template_versions],
        "status": RunStatus.RUNNING.value,
        "created_at": created_at.astimezone(UTC),
    }


def _run(row: sa.RowMapping) -> Run:
    spec = RunSpec(
        run_id=row["run_id"],
        model=row["model"],
        selection=codec.selection_from_text(row["selection"]),
        k=row["k"],
        decoding=codec.decoding_from_json(row["decoding"]),
        safety_rules=row["safety_rules"],
        sample_source=SampleSource(row["sample_source"]),
        judge=row["judge"],
        judge_model=row["judge_model"],
        template_versions=tuple((name, version) for name, version in row["template_versions"]),
    )
    return Run(
        spec=spec,
        created_at=_utc(row["created_at"]),
        status=RunStatus(row["status"]),
        finished_at=_utc(row["finished_at"]) if row["finished_at"] is not None else None,
    )


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes: they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
