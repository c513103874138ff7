"""Evaluating items into a run: the benchmark's pipeline, one item at a time, many at once.

For each item of a stream, the samples the run lacks are generated (or taken from the
request, for SUBMITTED runs), and each sample is stored, judged and its verdict stored the
moment it exists, without waiting for the item's other samples. A sample and its verdict
are reported only once committed; what is stored already is reported as stored and costs no
model call, so a run resumes by sending its items again. A sample whose generation failed
gets a NOT_JUDGED verdict; sending the item of a generated run again retries it (a new
generation replaces the failed sample in the store, see RunRepository.add_sample). A usable
stored sample is never generated again.

An item that cannot be evaluated (a bad field, an unknown run) is answered by one
`ItemRefused` naming the field, and the stream goes on. The store being unavailable ends the
stream (StoreUnavailable): nothing reported was lost, and the caller sends the rest again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from enum import Enum

from bsa_judge.app.judges import JudgePanel
from bsa_judge.app.runs import Clock, mark_if_completed, utc_now
from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.run import RunItem, SampleSource, SubmittedSample
from bsa_judge.benchmark.status import FAILED_SAMPLES, JudgmentStatus, SampleStatus
from bsa_judge.chat.model import ReasoningSource
from bsa_judge.errors import FailedPrecondition, FieldViolation, InvalidInput, NotFound
from bsa_judge.generation.generator import GenerationRequest
from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import Verdict
from bsa_judge.judging.port import Judge
from bsa_judge.judging.trace import Trace
from bsa_judge.runs.group_commit import GroupCommit
from bsa_judge.runs.run import Run, RunNotFound, RunRecord, RunStatus, SampleKey
from bsa_judge.runs.store import RunStore

#: Samples without a completion: nothing to judge (retried when a generated run resumes).
UNJUDGEABLE = FAILED_SAMPLES

Generate = Callable[[GenerationRequest], AsyncGenerator[Sample, None]]
JudgeTrace = Callable[[Trace, Judge], Awaitable[Verdict]]


@dataclass(frozen=True, slots=True)
class EvaluatedSample:
    """One sample of an item and its verdict, both stored; `stored` when they were before."""

    item_id: str
    sample: Sample
    verdict: Verdict
    stored: bool


@dataclass(frozen=True, slots=True)
class ItemRefused:
    """An item that could not be evaluated at all; `error` names the field."""

    item_id: str
    error: str


ItemOutcome = EvaluatedSample | ItemRefused


class _RefusedError(Exception):
    """Raised inside an item's evaluation to answer it with an ItemRefused."""


class RunEvaluation:
    """The EvaluateItems use case over the store, the generator and the judges."""

    def __init__(
        self,
        store: RunStore,
        writes: GroupCommit,
        judges: JudgePanel,
        generate: Generate,
        judge_trace: JudgeTrace,
        *,
        max_items_in_flight: int,
        max_field_bytes: int,
        record_verdict: Callable[[Verdict], None] = lambda _verdict: None,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.writes = writes  # the per-sample writes, committed in batches
        self.record_verdict = record_verdict  # for the verdicts made here (NOT_JUDGED)
        self.judges = judges
        self.generate = generate
        self.judge_trace = judge_trace
        self.max_items_in_flight = max_items_in_flight
        self.max_field_bytes = max_field_bytes
        self.clock = clock

    async def evaluate_items(
        self, requests: AsyncIterable[RunItem]
    ) -> AsyncGenerator[ItemOutcome, None]:
        """Each request's outcomes as they are ready: one EvaluatedSample per sample (k for
        a generated run, one per sample sent for a submitted one), or one ItemRefused.

        At most `max_items_in_flight` items are worked on at once; requests are read as
        room frees up. Raises StoreUnavailable when the store cannot be reached. Closing the
        iterator cancels the work in flight. When the stream ends, each run it touched is
        marked COMPLETED if every item of its selection now has k verdicts.
        """
        stream = _Stream(self, requests)
        async with aclosing(stream.outcomes()) as outcomes:
            async for outcome in outcomes:
                yield outcome
        await self._mark_completed(stream.runs.values())

    # --- one item -------------------------------------------------------------------------
    async def evaluate_item(
        self, request: RunItem, runs: dict[str, Run], emit: Callable[[ItemOutcome], None]
    ) -> None:
        """Every outcome of one request, passed to `emit` as each is ready."""
        try:
            run = await self._run(request.run_id, runs)
            item = self._checked_item(request, run)
            judge = self._judge(run)
            stored = await self._stored(run, item.id)
            submitted = (
                _submitted_samples(request.samples)
                if run.spec.sample_source is SampleSource.SUBMITTED
                else None
            )
            await self._evaluate(run, item, judge, stored, emit, submitted=submitted)
        except _RefusedError as refusal:
            emit(ItemRefused(request.item_id, str(refusal)))

    async def _evaluate(
        self,
        run: Run,
        item: Item,
        judge: Judge,
        stored: dict[int, RunRecord],
        emit: Callable[[ItemOutcome], None],
        *,
        submitted: dict[int, Sample] | None,
    ) -> None:
        indices = sorted(submitted) if submitted is not None else range(run.spec.k)
        tasks: list[asyncio.Task[None]] = []
        missing: list[int] = []
        try:
            for index in indices:
                record = stored.get(index)
                if record is not None and _retried(record, submitted is None):
                    missing.append(index)  # generated again, replacing the failed sample
                elif record is not None and record.sample is not None:
                    if record.verdict is not None:
                        emit(EvaluatedSample(item.id, record.sample, record.verdict, stored=True))
                    else:  # stored, then the judging broke off: judge it now
                        tasks.append(self._spawn(run, item, judge, record.sample, emit, True))
                elif submitted is not None:
                    tasks.append(self._spawn(run, item, judge, submitted[index], emit, False))
                else:
                    missing.append(index)
            if missing:
                request = GenerationRequest(
                    query=item.query,
                    model=run.spec.model,
                    k=run.spec.k,
                    decoding=run.spec.decoding,
                    safety_rules=run.spec.safety_rules,
                    label=item.label,
                    indices=tuple(missing),
                )
                generated = 0
                try:
                    async with aclosing(self.generate(request)) as samples:
                        async for sample in samples:
                            generated += 1
                            # Judged the moment it exists, while the others are generated.
                            tasks.append(self._spawn(run, item, judge, sample, emit, False))
                except (InvalidInput, NotFound) as error:
                    if generated or tasks:
                        raise
                    raise _RefusedError(f"{_field(error)}{error}") from None
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(
        self,
        run: Run,
        item: Item,
        judge: Judge,
        sample: Sample,
        emit: Callable[[ItemOutcome], None],
        sample_stored: bool,
    ) -> asyncio.Task[None]:
        return asyncio.create_task(
            self._store_and_judge(run, item, judge, sample, emit, sample_stored)
        )

    async def _store_and_judge(
        self,
        run: Run,
        item: Item,
        judge: Judge,
        sample: Sample,
        emit: Callable[[ItemOutcome], None],
        sample_stored: bool,
    ) -> None:
        key = SampleKey(run.run_id, item.id, sample.index)
        if not sample_stored:
            # Committed before judging: a crash while judging costs no new generation.
            sample = await self.writes.add_sample(key, sample)
        verdict = await self._verdict(run, item, judge, sample)
        verdict = await self.writes.add_verdict(key, verdict)
        emit(EvaluatedSample(item.id, sample, verdict, stored=False))

    async def _verdict(self, run: Run, item: Item, judge: Judge, sample: Sample) -> Verdict:
        if sample.status in UNJUDGEABLE:
            verdict = not_judged(item, sample, run.spec.model)
            self.record_verdict(verdict)
            return verdict
        trace = Trace(
            item=item,
            reasoning=sample.reasoning,
            answer=sample.answer,
            sample_status=sample.status,
            model=run.spec.model,
            sample_index=sample.index,
        )
        return await self.judge_trace(trace, judge)

    # --- checks and reads -----------------------------------------------------------------
    async def _run(self, run_id: str, runs: dict[str, Run]) -> Run:
        if run_id not in runs:
            if not run_id:
                raise _RefusedError("run_id: required on every request")
            try:
                async with self.store.unit_of_work() as uow:
                    runs[run_id] = await uow.runs.get_run(run_id)
            except RunNotFound as error:
                raise _RefusedError(f"run_id: {error}") from None
        return runs[run_id]

    def _judge(self, run: Run) -> Judge:
        try:
            return self.judges.choose(run.spec.judge)
        except (NotFound, FailedPrecondition) as error:
            raise _RefusedError(f"run {run.run_id!r}: its judge is unavailable: {error}") from None

    def _checked_item(self, request: RunItem, run: Run) -> Item:
        violations: list[FieldViolation] = []

        def require(field: str, value: str) -> None:
            if not value.strip():
                violations.append(FieldViolation(field, "required"))

        require("item.id", request.item_id)
        require("item.query", request.query)
        require("item.risk_summary", request.risk_summary)
        if request.scenario is None:
            violations.append(FieldViolation("item.scenario", "a known scenario is required"))
        for field, value in (
            ("item.id", request.item_id),
            ("item.query", request.query),
            ("item.risk_summary", request.risk_summary),
            ("item.label", request.label),
        ):
            if len(value.encode("utf-8")) > self.max_field_bytes:
                violations.append(
                    FieldViolation(field, f"over the limit of {self.max_field_bytes} bytes")
                )
        violations.extend(self._sample_violations(request.samples, run))
        if violations:
            raise _RefusedError("; ".join(f"{v.field}: {v.description}" for v in violations))
        assert request.scenario is not None
        return Item(
            id=request.item_id,
            query=request.query,
            risk_summary=request.risk_summary,
            scenario=request.scenario,
            label=request.label,
        )

    def _sample_violations(
        self, samples: tuple[SubmittedSample, ...], run: Run
    ) -> list[FieldViolation]:
        if run.spec.sample_source is SampleSource.GENERATED:
            if samples:
                return [FieldViolation("samples", "only a run of submitted samples takes samples")]
            return []
        if not samples:
            return [FieldViolation("samples", "a run of submitted samples needs them")]
        found: list[FieldViolation] = []
        seen: set[int] = set()
        for position, sample in enumerate(samples):
            where = f"samples[{position}]"
            if not 0 <= sample.sample_index < run.spec.k:
                found.append(
                    FieldViolation(
                        f"{where}.sample_index",
                        f"must be between 0 and {run.spec.k - 1}, got {sample.sample_index}",
                    )
                )
            elif sample.sample_index in seen:
                found.append(
                    FieldViolation(f"{where}.sample_index", f"{sample.sample_index} sent twice")
                )
            seen.add(sample.sample_index)
            if sample.status is None:
                found.append(FieldViolation(f"{where}.status", "unknown sample status"))
            elif (
                sample.status not in UNJUDGEABLE | {SampleStatus.NO_REASONING}
                and not sample.reasoning.strip()
            ):
                found.append(
                    FieldViolation(
                        f"{where}.reasoning", "required unless the status is NO_REASONING"
                    )
                )
            for field, value in (("reasoning", sample.reasoning), ("answer", sample.answer)):
                if len(value.encode("utf-8")) > self.max_field_bytes:
                    found.append(
                        FieldViolation(
                            f"{where}.{field}", f"over the limit of {self.max_field_bytes} bytes"
                        )
                    )
        return found

    async def _stored(self, run: Run, item_id: str) -> dict[int, RunRecord]:
        """What the run holds of the item, by sample index (one read of at most k rows)."""
        async with self.store.unit_of_work() as uow:
            page = await uow.runs.records(
                run.run_id, after=SampleKey(run.run_id, item_id, -1), limit=run.spec.k
            )
        return {r.key.sample_index: r for r in page if r.key.item_id == item_id}

    async def _mark_completed(self, runs: Iterable[Run]) -> None:
        for run in runs:
            if run.status is not RunStatus.RUNNING:
                continue
            async with self.store.unit_of_work() as uow:
                await mark_if_completed(uow, await uow.runs.get_run(run.run_id), self.clock)
                await uow.commit()


def not_judged(item: Item, sample: Sample, model: str) -> Verdict:
    """The verdict of a sample whose generation failed: NOT_JUDGED, its status echoed."""
    return Verdict(
        status=JudgmentStatus.NOT_JUDGED,
        safety=None,
        thinking=None,
        thinking_correct=False,
        scenario=item.scenario,
        sample_status=sample.status,
        item_id=item.id,
        model=model,
        sample_index=sample.index,
        error=f"generation failed ({sample.status.value}): nothing to judge",
        label=item.label,
    )


def _submitted_samples(samples: tuple[SubmittedSample, ...]) -> dict[int, Sample]:
    result: dict[int, Sample] = {}
    for sample in samples:
        assert sample.status is not None  # checked
        result[sample.sample_index] = Sample(
            index=sample.sample_index,
            reasoning=sample.reasoning,
            answer=sample.answer,
            status=sample.status,
            finish_reason="",
            reasoning_source=ReasoningSource.NONE,
            prompt_tokens=0,
            completion_tokens=0,
            latency_s=0.0,
        )
    return result


def _retried(record: RunRecord, generated: bool) -> bool:
    """A stored sample of a generated run whose generation failed: generate it again."""
    return generated and record.sample is not None and record.sample.status in UNJUDGEABLE


def _field(error: Exception) -> str:
    return "" if isinstance(error, InvalidInput) else "settings.model: "


class _Mark(Enum):
    ITEM_DONE = "an item's work ended"
    READ_ALL = "the requests ran out"


class _Stream:
    """The requests of one stream, worked on concurrently; outcomes in completion order.

    Everything the tasks produce goes through one queue, the marks included, so the stream
    ends only after every outcome put before the last ITEM_DONE has been yielded.
    """

    def __init__(self, evaluation: RunEvaluation, requests: AsyncIterable[RunItem]) -> None:
        self.evaluation = evaluation
        self.requests = requests
        self.runs: dict[str, Run] = {}
        self._queue: asyncio.Queue[ItemOutcome | BaseException | _Mark] = asyncio.Queue()
        self._slots = asyncio.Semaphore(evaluation.max_items_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = 0

    async def outcomes(self) -> AsyncGenerator[ItemOutcome, None]:
        reader = asyncio.create_task(self._read())
        finished, read_all = 0, False
        try:
            while not (read_all and finished == self._started):
                got = await self._queue.get()
                if got is _Mark.ITEM_DONE:
                    finished += 1
                elif got is _Mark.READ_ALL:
                    read_all = True
                elif isinstance(got, BaseException):
                    raise got
                else:
                    assert not isinstance(got, _Mark)
                    yield got
            await reader  # re-raises what broke the request stream
        finally:
            reader.cancel()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(reader, *self._tasks, return_exceptions=True)

    async def _read(self) -> None:
        try:
            async for request in self.requests:
                await self._slots.acquire()
                self._started += 1
                task = asyncio.create_task(
                    self.evaluation.evaluate_item(request, self.runs, self._queue.put_nowait)
                )
                self._tasks.add(task)
                task.add_done_callback(self._item_done)
        finally:
            self._queue.put_nowait(_Mark.READ_ALL)

    def _item_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        error = None if task.cancelled() else task.exception()
        if error is not None:
            self._queue.put_nowait(error)
        self._queue.put_nowait(_Mark.ITEM_DONE)
