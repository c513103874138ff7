"""The run store port: a repository of runs, samples, verdicts and cached judgments, used
through a unit of work (the cosmicpython pattern).

    async with store.unit_of_work() as uow:
        sample = await uow.runs.add_sample(key, sample)
        await uow.commit()

Leaving the block without `commit()` rolls back. Every `add_*` is insert-or-return: when the
key is already stored, the stored value is returned unchanged and nothing is written, so two
callers racing on one key get the same answer. The one exception: a failed sample (a
generation without a completion) is replaced by the next sample stored under its key. A
caller reports a sample or verdict only after `commit()` returned.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import Judgment, Verdict
from bsa_judge.runs.run import Run, RunProgress, RunRecord, RunSpec, RunStatus, SampleKey


class RunRepository(abc.ABC):
    """Runs and what they hold, inside one unit of work."""

    @abc.abstractmethod
    async def add_run(self, spec: RunSpec, created_at: datetime) -> Run:
        """Create the run, or return the stored one when it has the same spec.

        Raises RunConflict naming the settings that differ from the stored run's.
        """

    @abc.abstractmethod
    async def get_run(self, run_id: str) -> Run:
        """The run; raises RunNotFound."""

    @abc.abstractmethod
    async def list_runs(self) -> list[Run]:
        """Every run, oldest first."""

    @abc.abstractmethod
    async def mark_run(self, run_id: str, status: RunStatus, at: datetime) -> Run:
        """Set the run's status; `finished_at` becomes `at`, or None for RUNNING (resumed).

        Raises RunNotFound.
        """

    @abc.abstractmethod
    async def progress(self, run_id: str) -> RunProgress:
        """Counts of what the run holds; raises RunNotFound."""

    @abc.abstractmethod
    async def add_sample(self, key: SampleKey, sample: Sample) -> Sample:
        """Store the sample under `key` unless a usable one is stored; returns the stored one.

        A failed sample stored under `key` (FAILED_SAMPLES: no completion) is the one thing
        replaced: by `sample`, in one guarded update, its NOT_JUDGED verdict deleted with it,
        so that a resumed run retries it. A usable sample is never replaced, and of callers
        racing to replace a failed one, all get the sample that ends up stored.

        Raises RunNotFound when the run does not exist.
        """

    @abc.abstractmethod
    async def get_sample(self, key: SampleKey) -> Sample | None:
        """The sample stored under `key`, if any."""

    @abc.abstractmethod
    async def add_verdict(self, key: SampleKey, verdict: Verdict) -> Verdict:
        """Store the verdict under `key` unless one is stored; returns the stored one.

        Raises RunNotFound when the run does not exist.
        """

    @abc.abstractmethod
    async def get_verdict(self, key: SampleKey) -> Verdict | None:
        """The verdict stored under `key`, if any."""

    @abc.abstractmethod
    async def records(
        self, run_id: str, *, after: SampleKey | None = None, limit: int = 500
    ) -> list[RunRecord]:
        """At most `limit` records of the run after `after`, by (item_id, sample_index).

        Page through a whole run by passing the last key of one page as `after` of the next.
        """

    @abc.abstractmethod
    async def get_judgment(self, cache_key: str) -> Judgment | None:
        """The judgment cached under a content address (see judging.cache.judgment_key)."""

    @abc.abstractmethod
    async def add_judgment(self, cache_key: str, judgment: Judgment) -> Judgment:
        """Cache the judgment under `cache_key` unless one is; returns the stored one."""

    # --- many at once (group commit): each as its one-at-a-time form, in order; a store
    # overrides them to write or read a whole batch in a few statements.
    async def add_samples(self, entries: Sequence[tuple[SampleKey, Sample]]) -> list[Sample]:
        """`add_sample` of each entry; the stored samples, in the order given."""
        return [await self.add_sample(key, sample) for key, sample in entries]

    async def add_verdicts(self, entries: Sequence[tuple[SampleKey, Verdict]]) -> list[Verdict]:
        """`add_verdict` of each entry; the stored verdicts, in the order given."""
        return [await self.add_verdict(key, verdict) for key, verdict in entries]

    async def keep_judgments(self, entries: Sequence[tuple[str, Judgment]]) -> None:
        """`add_judgment` of each entry, in order, with nothing read back: a judge cache's
        put needs no answer (the first judgment stored under a key stays)."""
        for key, judgment in entries:
            await self.add_judgment(key, judgment)

    async def get_judgments(self, cache_keys: Sequence[str]) -> dict[str, Judgment]:
        """The judgments cached under any of `cache_keys`, by key (misses left out)."""
        found = {key: await self.get_judgment(key) for key in dict.fromkeys(cache_keys)}
        return {key: judgment for key, judgment in found.items() if judgment is not None}


class RunUnitOfWork(abc.ABC):
    """One transaction on the store: `runs` is its repository."""

    runs: RunRepository

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.rollback()  # a no-op after commit()

    @abc.abstractmethod
    async def commit(self) -> None:
        """Make every write of this unit of work durable."""

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Drop every write not yet committed."""


class RunStore(abc.ABC):
    """Where runs are kept: hands out units of work."""

    @abc.abstractmethod
    def unit_of_work(self) -> RunUnitOfWork:
        """A new unit of work; use it as `async with`."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the store's connections."""
