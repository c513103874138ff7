"""The run store in memory: for unit tests of the run use cases, and nothing else.

Writes are visible at once (one event loop makes each insert-or-return atomic); `rollback`
undoes the writes of a unit of work that was not committed.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from bsa_judge.benchmark.status import FAILED_SAMPLES
from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import Judgment, Verdict
from bsa_judge.runs.run import (
    Run,
    RunConflict,
    RunNotFound,
    RunProgress,
    RunRecord,
    RunSpec,
    RunStatus,
    SampleKey,
)
from bsa_judge.runs.store import RunRepository, RunStore, RunUnitOfWork

_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass
class _Tables:
    runs: dict[str, Run] = field(default_factory=dict)
    samples: dict[SampleKey, Sample] = field(default_factory=dict)
    verdicts: dict[SampleKey, Verdict] = field(default_factory=dict)
    judgments: dict[str, Judgment] = field(default_factory=dict)


class InMemoryRunRepository(RunRepository):
    """The repository over plain dicts; `undo` collects how to revert each write."""

    def __init__(self, tables: _Tables) -> None:
        self._tables = tables
        self.undo: list[Callable[[], None]] = []

    async def add_run(self, spec: RunSpec, created_at: datetime) -> Run:
        stored = self._tables.runs.get(spec.run_id)
        if stored is None:
            stored = self._insert(self._tables.runs, spec.run_id, Run(spec, created_at))
        elif differences := stored.spec.differences(spec):
            raise RunConflict(spec.run_id, differences)
        return stored

    async def get_run(self, run_id: str) -> Run:
        try:
            return self._tables.runs[run_id]
        except KeyError:
            raise RunNotFound(run_id) from None

    async def list_runs(self) -> list[Run]:
        return sorted(self._tables.runs.values(), key=lambda run: (run.created_at, run.run_id))

    async def mark_run(self, run_id: str, status: RunStatus, at: datetime) -> Run:
        before = await self.get_run(run_id)
        finished_at = None if status is RunStatus.RUNNING else at
        after = replace(before, status=status, finished_at=finished_at)
        self._tables.runs[run_id] = after
        self.undo.append(lambda: self._tables.runs.__setitem__(run_id, before))
        return after

    async def progress(self, run_id: str) -> RunProgress:
        run = await self.get_run(run_id)
        samples = {k: s for k, s in self._tables.samples.items() if k.run_id == run_id}
        verdicts = [v for k, v in self._tables.verdicts.items() if k.run_id == run_id]
        judged = Counter(key.item_id for key in self._tables.verdicts if key.run_id == run_id)
        return RunProgress(
            run_id=run_id,
            items=len({key.item_id for key in samples}),
            items_finished=sum(1 for count in judged.values() if count >= run.spec.k),
            samples=len(samples),
            verdicts=len(verdicts),
            samples_by_status=dict(Counter(sample.status for sample in samples.values())),
            verdicts_by_status=dict(Counter(verdict.status for verdict in verdicts)),
        )

    async def add_sample(self, key: SampleKey, sample: Sample) -> Sample:
        await self.get_run(key.run_id)
        stored = self._tables.samples.get(key)
        if stored is None:
            return self._insert(self._tables.samples, key, sample)
        if stored.status not in FAILED_SAMPLES:
            return stored
        self._delete(self._tables.samples, key)
        self._delete(self._tables.verdicts, key)
        return self._insert(self._tables.samples, key, sample)

    async def get_sample(self, key: SampleKey) -> Sample | None:
        return self._tables.samples.get(key)

    async def add_verdict(self, key: SampleKey, verdict: Verdict) -> Verdict:
        await self.get_run(key.run_id)
        stored = self._tables.verdicts.get(key)
        return stored if stored is not None else self._insert(self._tables.verdicts, key, verdict)

    async def get_verdict(self, key: SampleKey) -> Verdict | None:
        return self._tables.verdicts.get(key)

    async def records(
        self, run_id: str, *, after: SampleKey | None = None, limit: int = 500
    ) -> list[RunRecord]:
        keys = sorted(
            key
            for key in self._tables.samples.keys() | self._tables.verdicts.keys()
            if key.run_id == run_id
        )
        start = bisect.bisect_right(keys, after) if after is not None else 0
        return [
            RunRecord(key, self._tables.samples.get(key), self._tables.verdicts.get(key))
            for key in keys[start : start + limit]
        ]

    async def get_judgment(self, cache_key: str) -> Judgment | None:
        return self._tables.judgments.get(cache_key)

    async def add_judgment(self, cache_key: str, judgment: Judgment) -> Judgment:
        stored = self._tables.judgments.get(cache_key)
        if stored is not None:
            return stored
        return self._insert(self._tables.judgments, cache_key, judgment)

    def _delete(self, table: dict[_K, _V], key: _K) -> None:
        if key not in table:
            return
        value = table.pop(key)
        self.undo.append(lambda: table.__setitem__(key, value))

    def _insert(self, table: dict[_K, _V], key: _K, value: _V) -> _V:
        table[key] = value

        def undo() -> None:
            del table[key]

        self.undo.append(undo)
        return value


class InMemoryUnitOfWork(RunUnitOfWork):
    """A unit of work on the in-memory tables."""

    def __init__(self, tables: _Tables) -> None:
        self.runs = self._repository = InMemoryRunRepository(tables)
        self.committed = False

    async def commit(self) -> None:
        self._repository.undo.clear()
        self.committed = True

    async def rollback(self) -> None:
        for undo in reversed(self._repository.undo):
            undo()
        self._repository.undo.clear()


class InMemoryRunStore(RunStore):
    """A run store that lives as long as the object."""

    def __init__(self) -> None:
        self._tables = _Tables()

    def unit_of_work(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self._tables)

    async def close(self) -> None:
        """Nothing to release."""
