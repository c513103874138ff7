"""The use cases: judge a trace, judge a stream of traces, generate, score, and runs (create,
read, list, export, evaluate items into one, score one: `app.runs` and `app.evaluation`).

Every entry point (the gRPC servicer, the CLI, the demo) calls these, after converting its
own input into the core's types; nothing here knows about gRPC. Validation, the choice of
judge and the Prometheus record of each verdict and sample happen here, once each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterable, Sequence
from contextlib import aclosing

import structlog

from bsa_judge import telemetry
from bsa_judge.app.evaluation import ItemOutcome, RunEvaluation
from bsa_judge.app.judges import JudgePanel
from bsa_judge.app.runs import RunPage, RunResources, RunView
from bsa_judge.benchmark.run import RunItem
from bsa_judge.calibration.gold import GoldTrace
from bsa_judge.calibration.report import CalibrationReport, calibrate
from bsa_judge.errors import InvalidInput, NotFound
from bsa_judge.generation.generator import GenerationRequest, Generator
from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import Verdict
from bsa_judge.judging.port import Judge
from bsa_judge.judging.stream import StreamRequest, judge_stream, judge_stream_batches
from bsa_judge.judging.trace import Trace
from bsa_judge.judging.validation import TraceInput, validate_trace
from bsa_judge.judging.verdict import invalid_verdict, verdict_for
from bsa_judge.metrics.compute import metrics_for
from bsa_judge.metrics.report import MetricsOptions, MetricsReport
from bsa_judge.metrics.scored_samples import ScoredSampleColumns
from bsa_judge.runs.group_commit import GroupCommit
from bsa_judge.runs.run import RunRecord, RunSpec
from bsa_judge.runs.store import RunStore
from bsa_judge.settings import Settings

_log = structlog.get_logger(__name__)


class Application:
    """The service's use cases over the components the composition root built."""

    def __init__(
        self,
        settings: Settings,
        judges: JudgePanel,
        generator: Generator,
        store: RunStore,
        writes: GroupCommit,
    ) -> None:
        self.settings = settings
        self.judges = judges
        self.generator = generator
        self.store = store
        self.writes = writes
        self.runs = RunResources(store, judges, generator)
        self.evaluation = RunEvaluation(
            store,
            writes,
            judges,
            self.generate,
            self._judged,
            max_items_in_flight=settings.stream_max_in_flight,
            max_field_bytes=settings.max_field_bytes,
            record_verdict=_record,
        )

    # --- judging ------------------------------------------------------------------------
    async def judge_trace(
        self, trace: TraceInput, *, judge: str = "", judges: Sequence[str] = ()
    ) -> Verdict:
        """The verdict on one trace by the judge (or the vote of judges) the caller names.

        Raises InvalidInput naming each bad field, FailedPrecondition when no judge is
        configured, NotFound for an unknown judge.
        """
        valid = validate_trace(trace, max_field_bytes=self.settings.max_field_bytes)
        return await self._judged(valid, self.judges.choose(judge, judges))

    async def judge_traces(
        self, requests: AsyncIterable[StreamRequest]
    ) -> AsyncGenerator[tuple[str, Verdict], None]:
        """(key, verdict) per request, as each is ready, at most `stream_max_in_flight`
        pending. A trace that cannot be judged (bad field, unknown judge) gets a verdict
        INVALID_TRACE and the stream goes on; FailedPrecondition when no judge is configured.
        Closing the iterator cancels the work in flight."""
        self.judges.ensure_configured()
        verdicts = judge_stream(
            requests, self._stream_verdict, max_in_flight=self.settings.stream_max_in_flight
        )
        async with aclosing(verdicts):
            async for keyed in verdicts:
                yield keyed

    async def judge_trace_batches(
        self, requests: AsyncIterable[StreamRequest]
    ) -> AsyncGenerator[list[tuple[str, Verdict]], None]:
        """As `judge_traces`, the verdicts ready together in one batch (at least one)."""
        self.judges.ensure_configured()
        batches = judge_stream_batches(
            requests, self._stream_verdict, max_in_flight=self.settings.stream_max_in_flight
        )
        async with aclosing(batches):
            async for batch in batches:
                yield batch

    async def _stream_verdict(self, request: StreamRequest) -> Verdict:
        try:
            trace = validate_trace(request.trace, max_field_bytes=self.settings.max_field_bytes)
            judge = self.judges.choose(request.judge, request.judges)
        except (InvalidInput, NotFound) as error:
            verdict = invalid_verdict(request.trace, str(error))
            _record(verdict)
            return verdict
        return await self._judged(trace, judge)

    async def _judged(self, trace: Trace, judge: Judge) -> Verdict:
        started = time.perf_counter()
        telemetry.TRACES_IN_FLIGHT.inc()
        try:
            judgments = await judge.judge(trace)
        finally:
            telemetry.TRACES_IN_FLIGHT.dec()
        verdict = verdict_for(trace, judgments, latency_s=time.perf_counter() - started)
        _record(verdict)
        return verdict

    async def calibrate(self, gold: Sequence[GoldTrace], *, judge: str = "") -> CalibrationReport:
        """How the judge `judge` (default: the default judge) agrees with gold labels.

        Raises NotFound for an unknown judge.
        """
        return await calibrate(
            self.judges.choose(judge), gold, max_in_flight=self.settings.stream_max_in_flight
        )

    # --- generation ---------------------------------------------------------------------
    async def generate(self, request: GenerationRequest) -> AsyncGenerator[Sample, None]:
        """The request's k samples, each as soon as it completes. Raises InvalidInput naming
        each bad field, NotFound for an unknown model. Closing the iterator cancels the
        requests in flight."""
        async with aclosing(self.generator.generate(request)) as samples:
            async for sample in samples:
                telemetry.labelled(telemetry.SAMPLES, request.model, sample.status.value).inc()
                yield sample

    # --- scoring ------------------------------------------------------------------------
    async def score(self, samples: ScoredSampleColumns, options: MetricsOptions) -> MetricsReport:
        """The benchmark figures of scored samples, computed off the event loop (up to
        millions of rows). Raises ScoredSampleError, an InvalidInput naming each bad row."""
        return await asyncio.to_thread(metrics_for, samples, options)

    async def score_run(self, run_id: str, options: MetricsOptions) -> MetricsReport:
        """The figures of a stored run's verdicts; k 0 takes the run's k. Raises RunNotFound."""
        return await self.runs.score_run(run_id, options)

    # --- runs ---------------------------------------------------------------------------
    async def create_run(self, spec: RunSpec) -> tuple[RunView, bool]:
        """Create a run, or find the one created with the same settings (True: created).

        Raises InvalidInput naming each bad setting, RunConflict naming the settings that
        differ from the stored run's, NotFound for an unknown model or judge.
        """
        return await self.runs.create_run(spec)

    async def get_run(self, run_id: str) -> RunView:
        """One run with its progress; raises RunNotFound."""
        return await self.runs.get_run(run_id)

    async def list_runs(self, page_size: int = 0, page_token: str = "") -> RunPage:
        """A page of runs, newest first."""
        return await self.runs.list_runs(page_size, page_token)

    async def export_run(self, run_id: str) -> AsyncGenerator[RunRecord, None]:
        """Every stored sample of a run with its verdict, by item id then sample index."""
        async with aclosing(self.runs.export_run(run_id)) as records:
            async for record in records:
                yield record

    async def evaluate_items(
        self, requests: AsyncIterable[RunItem]
    ) -> AsyncGenerator[ItemOutcome, None]:
        """Items into their runs: each sample and its verdict once both are stored (see
        `app.evaluation`). Raises StoreUnavailable when the store cannot be reached."""
        async with aclosing(self.evaluation.evaluate_items(requests)) as outcomes:
            async for outcome in outcomes:
                yield outcome

    # --- life cycle ---------------------------------------------------------------------
    async def reload(self) -> None:
        """Re-read the files the settings point to (SIGHUP); components opt in here."""
        # A bad backends or rules file is logged and leaves the running models untouched.
        await self.generator.reload()
        _log.info("runtime_reloaded")

    async def aclose(self) -> None:
        """Release upstream connections and other resources."""
        await self.judges.aclose()
        await self.generator.aclose()
        await self.writes.aclose()
        await self.store.close()


def _record(verdict: Verdict) -> None:
    """The one place a finished verdict is counted in Prometheus."""
    telemetry.labelled(telemetry.TRACES, verdict.status.value).inc()
    telemetry.labelled(
        telemetry.VERDICTS,
        verdict.scenario.value if verdict.scenario else "none",
        verdict.safety_label.value if verdict.safety_label else "none",
        verdict.thinking_label.value if verdict.thinking_label else "none",
        verdict.status.value,
    ).inc()
