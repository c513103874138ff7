"""Group commit: the per-sample writes and judgment-cache reads of every concurrent caller,
gathered into one unit of work per batch.

    writes = GroupCommit(store)
    sample = await writes.add_sample(key, sample)   # returns once committed

A caller's request joins the batch being gathered; one worker task takes everything gathered
so far, writes it in one transaction (a few multi-row statements instead of a transaction per
row), commits, and only then releases each caller with its stored value. While a batch is
being written the next one gathers; under load (BUSY_BATCHES batches in a row found
requests waiting) the next starts no sooner than BATCH_INTERVAL_S after the last one
started. So a batch is as large as the load makes it, while a lone caller waits for one
transaction, never for a timer. The store's guarantees hold per row: insert-or-return, and
committed before the caller returns.

A batch that fails as a whole (say, one row names a run that does not exist) is written
again one request per transaction, so each caller gets its own answer or error; a store that
is unavailable fails the whole batch (StoreUnavailable) and every caller sends again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import Judgment, Verdict
from bsa_judge.runs.run import SampleKey, StoreUnavailable
from bsa_judge.runs.store import RunRepository, RunStore

# Under load, each lane starts at most one batch per interval (PostgreSQL's commit_delay,
# for the same reason): a batch's statements cost about as much for 3 rows as for 30, and a
# lane that starts the next batch as soon as one is written keeps its batches as small as
# its own speed allows. Judging at saturation, 5 ms took the judge cache's store cost from
# 0.3-0.4 to 0.05-0.3 ms of CPU per trace (bench/RESULTS.md, "Issue 11, fourth landing");
# a request waits for at most one interval more. "Under load": the last BUSY_BATCHES
# batches in a row each found requests waiting when written. One such batch is a request
# that happened to come during a write (light load), and should not wait; at saturation
# every batch finds some, however small the batches, so the interval always sets in.
BATCH_INTERVAL_S = 0.005
BUSY_BATCHES = 3

_K = TypeVar("_K")
_V = TypeVar("_V")
_R = TypeVar("_R")


@dataclass(slots=True)
class _Requests(Generic[_K, _V, _R]):
    """Requests of one kind in a batch: what each caller sent, and where its answer goes."""

    entries: list[tuple[_K, _V]] = field(default_factory=list)
    answers: list[asyncio.Future[_R]] = field(default_factory=list)

    def add(self, key: _K, value: _V) -> asyncio.Future[_R]:
        answer: asyncio.Future[_R] = asyncio.get_running_loop().create_future()
        self.entries.append((key, value))
        self.answers.append(answer)
        return answer

    def resolve(self, results: Sequence[_R]) -> None:
        for answer, result in zip(self.answers, results, strict=True):
            if not answer.done():  # a caller that went away has a cancelled future
                answer.set_result(result)

    def fail(self, error: BaseException) -> None:
        for answer in self.answers:
            if not answer.done():
                answer.set_exception(error)


@dataclass(slots=True)
class _Batch:
    samples: _Requests[SampleKey, Sample, Sample] = field(default_factory=_Requests)
    verdicts: _Requests[SampleKey, Verdict, Verdict] = field(default_factory=_Requests)
    judgments: _Requests[str, Judgment, None] = field(default_factory=_Requests)
    lookups: _Requests[str, None, Judgment | None] = field(default_factory=_Requests)

    def __len__(self) -> int:
        return sum(len(kind.entries) for kind in self._kinds())

    @property
    def writes(self) -> bool:
        return bool(self.samples.entries or self.verdicts.entries or self.judgments.entries)

    async def run(self, runs: RunRepository) -> list[list[object]]:
        """Every request on one repository: writes first, so a lookup sees them."""
        samples = await runs.add_samples(self.samples.entries) if self.samples.entries else []
        verdicts = await runs.add_verdicts(self.verdicts.entries) if self.verdicts.entries else []
        if self.judgments.entries:
            await runs.keep_judgments(self.judgments.entries)
        judgments: list[object] = [None] * len(self.judgments.entries)
        lookups = [key for key, _ in self.lookups.entries]
        found = await runs.get_judgments(lookups) if lookups else {}
        return [list(samples), list(verdicts), judgments, [found.get(k) for k in lookups]]

    def resolve(self, results: list[list[object]]) -> None:
        for kind, result in zip(self._kinds(), results, strict=True):
            kind.resolve(result)

    def fail(self, error: BaseException) -> None:
        for kind in self._kinds():
            kind.fail(error)

    def singles(self) -> list[_Batch]:
        """One batch per request, in the same order."""
        batches: list[_Batch] = []
        for name in ("samples", "verdicts", "judgments", "lookups"):
            requests: _Requests[object, object, object] = getattr(self, name)
            for entry, answer in zip(requests.entries, requests.answers, strict=True):
                single = _Batch()
                getattr(single, name).entries.append(entry)
                getattr(single, name).answers.append(answer)
                batches.append(single)
        return batches

    def _kinds(self) -> tuple[_Requests[object, object, object], ...]:
        return (self.samples, self.verdicts, self.judgments, self.lookups)  # type: ignore[return-value]


class _Lane:
    """One queue of requests, written by one worker task a batch at a time."""

    def __init__(self, store: RunStore, name: str, interval_s: float) -> None:
        self.store = store
        self.name = name
        self.interval_s = interval_s
        self.gathering = _Batch()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False  # the worker stops once nothing is gathered

    def wake(self) -> None:
        """Make sure the worker runs and sees what was just gathered."""
        if self._worker is None or self._worker.done():
            self._wake = asyncio.Event()
            self._closing = False
            self._worker = asyncio.create_task(self._work(), name=self.name)
        self._wake.set()

    async def aclose(self) -> None:
        """Write what is gathered, then stop the worker."""
        worker, self._worker = self._worker, None
        if worker is None or worker.done():
            return
        self._closing = True
        self._wake.set()
        await worker

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        busy = 0  # batches in a row that found requests waiting when written
        while True:
            await self._wake.wait()
            self._wake.clear()
            while len(self.gathering):
                started = loop.time()
                batch, self.gathering = self.gathering, _Batch()
                await self._write(batch)
                busy = busy + 1 if len(self.gathering) else 0
                # Under load, let the next batch gather for the rest of the interval.
                rest = self.interval_s - (loop.time() - started)
                if rest > 0 and busy >= BUSY_BATCHES and not self._closing:
                    await asyncio.sleep(rest)
            busy = 0
            if self._closing:
                return

    async def _write(self, batch: _Batch) -> None:
        try:
            async with self.store.unit_of_work() as uow:
                results = await batch.run(uow.runs)
                if batch.writes:
                    await uow.commit()
        except asyncio.CancelledError:
            batch.fail(StoreUnavailable("run store closing"))
            raise
        except StoreUnavailable as error:
            batch.fail(error)
        except Exception as error:  # each caller gets its own answer below
            if len(batch) == 1:
                batch.fail(error)
                return
            for single in batch.singles():
                await self._write(single)
        else:
            batch.resolve(results)


class GroupCommit:
    """Samples, verdicts and cached judgments written (and judgments looked up) in batches,
    each caller answered after its batch committed. One per store and event loop.

    Two lanes, each with its own worker and connection: the writes, and the judgment
    lookups. A lookup never waits for a commit (with SQLite, a commit that checkpoints the
    write-ahead log waits for the disk: tens of ms that every judged trace's lookup queued
    behind it used to wait too); it sees what was committed when it runs.
    """

    def __init__(self, store: RunStore, interval_s: float = BATCH_INTERVAL_S) -> None:
        self.store = store
        self._writes = _Lane(store, "group-commit", interval_s)
        self._reads = _Lane(store, "group-commit-lookups", interval_s)

    async def add_sample(self, key: SampleKey, sample: Sample) -> Sample:
        """The store's `add_sample`, committed when it returns."""
        return await self._submit(self._writes, self._writes.gathering.samples.add(key, sample))

    async def add_verdict(self, key: SampleKey, verdict: Verdict) -> Verdict:
        """The store's `add_verdict`, committed when it returns."""
        return await self._submit(self._writes, self._writes.gathering.verdicts.add(key, verdict))

    async def add_judgment(self, cache_key: str, judgment: Judgment) -> None:
        """Cache `judgment` under `cache_key` unless one is (the store's `keep_judgments`),
        committed when it returns."""
        await self.add_judgment_soon(cache_key, judgment)

    def add_judgment_soon(self, cache_key: str, judgment: Judgment) -> asyncio.Future[None]:
        """Queue the cache row now, without waiting: it is committed with the next batch, so
        no later than any sample or verdict queued after it. The future is done (or has the
        store's error) once committed."""
        answer = self._writes.gathering.judgments.add(cache_key, judgment)
        self._writes.wake()
        return answer

    async def get_judgment(self, cache_key: str) -> Judgment | None:
        """The judgment cached under `cache_key`, read with the batch's other lookups."""
        return await self._submit(self._reads, self._reads.gathering.lookups.add(cache_key, None))

    async def flushed(self) -> None:
        """Returns once every write queued so far is committed (cache rows included)."""
        # A lookup on the write lane is answered after its batch, which holds every write
        # queued before it, has committed.
        await self._submit(self._writes, self._writes.gathering.lookups.add("", None))

    async def aclose(self) -> None:
        """Write what is gathered (cache rows queued without waiting included), then stop."""
        await self._reads.aclose()
        await self._writes.aclose()

    @staticmethod
    async def _submit(lane: _Lane, answer: asyncio.Future[_R]) -> _R:
        lane.wake()
        return await answer
