"""The run resources: create a run, read one with its progress, list them, export one, score
one. Evaluating items into a run is `app.evaluation`.

A run's settings are fixed at creation, with the judge resolved then (its name, model and
template versions), so that every driver of a sharded or resumed run is checked against
the same spec. A run is COMPLETED when every item of its selection has k verdicts; the
EvaluateItems stream that stores the last of them marks it when it ends (see
`app.evaluation`), and reading the run marks it too, so a run whose last stream was cut
after its last commit (a killed driver, a client that closed the stream early, one shard of
many) still reads as COMPLETED.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from bsa_judge.app.judges import JudgePanel
from bsa_judge.benchmark.run import SampleSource
from bsa_judge.errors import FieldViolation, InvalidInput, invalid
from bsa_judge.generation.generator import Generator
from bsa_judge.judging.judgment import Verdict
from bsa_judge.metrics.compute import metrics_for
from bsa_judge.metrics.report import MetricsOptions, MetricsReport
from bsa_judge.metrics.scored_samples import Factorized, ScoredSampleColumns
from bsa_judge.runs.run import Run, RunProgress, RunRecord, RunSpec, RunStatus, SampleKey
from bsa_judge.runs.store import RunStore, RunUnitOfWork

#: A run id: what a file name, a Kubernetes label value and a URL path segment all accept.
RUN_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
#: Records read from the store per query when a run is exported or scored.
PAGE = 500
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RunView:
    """A stored run and what it holds so far."""

    run: Run
    progress: RunProgress


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of runs, newest first, and the token of the next page (empty on the last)."""

    runs: tuple[RunView, ...]
    next_page_token: str


class RunResources:
    """Create, read, list, export and score runs in the store."""

    def __init__(
        self,
        store: RunStore,
        judges: JudgePanel,
        generator: Generator,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.judges = judges
        self.generator = generator
        self.clock = clock

    async def create_run(self, spec: RunSpec) -> tuple[RunView, bool]:
        """Create the run of `spec` (a new id when `spec.run_id` is empty), or find the one
        created with the same settings; True when this call created it.

        Raises InvalidInput naming each bad setting, NotFound for an unknown model (runs the
        server generates) or judge, FailedPrecondition when no judge is configured, and
        RunConflict naming the settings that differ from the stored run's.
        """
        self._check(spec)
        judge = self.judges.identity(spec.judge)
        resolved = replace(
            spec,
            run_id=spec.run_id or self._new_run_id(),
            judge=judge.name,
            judge_model=judge.model,
            template_versions=judge.template_versions,
        )
        now = self.clock()
        async with self.store.unit_of_work() as uow:
            run = await uow.runs.add_run(resolved, now)
            progress = await uow.runs.progress(run.run_id)
            await uow.commit()
        return RunView(run, progress), run.created_at == now

    async def get_run(self, run_id: str) -> RunView:
        """The run and its progress (COMPLETED once every item is); raises RunNotFound."""
        async with self.store.unit_of_work() as uow:
            view = await mark_if_completed(uow, await uow.runs.get_run(run_id), self.clock)
            await uow.commit()
        return view

    async def list_runs(self, page_size: int = 0, page_token: str = "") -> RunPage:
        """A page of runs, newest first; raises InvalidInput for a bad size or token."""
        size = page_size or DEFAULT_PAGE_SIZE
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise invalid("page_size", f"must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        async with self.store.unit_of_work() as uow:
            runs = list(reversed(await uow.runs.list_runs()))
            start = _page_start(runs, page_token)
            page = runs[start : start + size]
            views = tuple([await mark_if_completed(uow, run, self.clock) for run in page])
            await uow.commit()
        more = start + size < len(runs)
        return RunPage(views, _token(page[-1].run_id) if more and page else "")

    async def export_run(self, run_id: str) -> AsyncGenerator[RunRecord, None]:
        """Every stored sample of the run with its verdict, by item id then sample index;
        raises RunNotFound. Read a page at a time, each in its own unit of work."""
        async with self.store.unit_of_work() as uow:
            await uow.runs.get_run(run_id)
        after: SampleKey | None = None
        while True:
            async with self.store.unit_of_work() as uow:
                page = await uow.runs.records(run_id, after=after, limit=PAGE)
            for record in page:
                yield record
            if len(page) < PAGE:
                return
            after = page[-1].key

    async def score_run(self, run_id: str, options: MetricsOptions) -> MetricsReport:
        """The figures of the run's stored verdicts (k = the run's k when `options.k` is 0);
        raises RunNotFound, and InvalidInput when the run has no verdict yet."""
        async with self.store.unit_of_work() as uow:
            run = await uow.runs.get_run(run_id)
        verdicts = [
            record.verdict async for record in self.export_run(run_id) if record.verdict is not None
        ]
        if not verdicts:
            raise invalid("run_id", f"run {run_id!r} has no verdict yet")
        k = options.k or run.spec.k
        columns = scored_samples(verdicts, run.spec.model)
        return await asyncio.to_thread(metrics_for, columns, replace(options, k=k))

    def _check(self, spec: RunSpec) -> None:
        violations: list[FieldViolation] = []
        if spec.run_id and not RUN_ID.fullmatch(spec.run_id):
            violations.append(
                FieldViolation(
                    "run_id", "1 to 128 letters, digits, '.', '_' or '-' (or empty for a new id)"
                )
            )
        if not spec.model.strip():
            violations.append(FieldViolation("settings.model", "required: the model under test"))
        if not 1 <= spec.k <= self.generator.max_k:
            violations.append(
                FieldViolation(
                    "settings.k", f"must be between 1 and {self.generator.max_k}, got {spec.k}"
                )
            )
        if spec.selection.item_count < 1:
            violations.append(
                FieldViolation("settings.selection.item_count", "at least 1 item is required")
            )
        violations.extend(spec.decoding.violations("settings.decoding"))
        if violations:
            raise InvalidInput(violations)
        if spec.sample_source is SampleSource.GENERATED:
            self.generator.models.backend(spec.model)  # NotFound names the configured models

    def _new_run_id(self) -> str:
        return f"run-{self.clock():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


async def mark_if_completed(uow: RunUnitOfWork, run: Run, clock: Clock) -> RunView:
    """The run and its progress; a RUNNING run whose every item has k verdicts is marked
    COMPLETED first (in `uow`, for the caller to commit)."""
    progress = await uow.runs.progress(run.run_id)
    if run.status is RunStatus.RUNNING and progress.items_finished >= run.spec.selection.item_count:
        run = await uow.runs.mark_run(run.run_id, RunStatus.COMPLETED, clock())
    return RunView(run, progress)


def scored_samples(verdicts: list[Verdict], model: str) -> ScoredSampleColumns:
    """Stored verdicts as the columns metrics reads (labels empty where none was given)."""
    n_rows = len(verdicts)
    return ScoredSampleColumns(
        model=Factorized.of(v.model or model for v in verdicts),
        item_id=Factorized.of(v.item_id for v in verdicts),
        scenario=Factorized.of(v.scenario.value if v.scenario else "" for v in verdicts),
        safety_label=Factorized.of(
            v.safety_label.value if v.safety_label else "" for v in verdicts
        ),
        thinking_label=Factorized.of(
            v.thinking_label.value if v.thinking_label else "" for v in verdicts
        ),
        sample_index=np.fromiter((v.sample_index for v in verdicts), np.int64, n_rows),
        has_sample_index=np.ones(n_rows, dtype=np.bool_),
        status=Factorized.of(v.status.value for v in verdicts),
        label=Factorized.of(v.label for v in verdicts),
        sample_status=Factorized.of(
            v.sample_status.value if v.sample_status else "ok" for v in verdicts
        ),
        rows_field="run",
    )


def _token(run_id: str) -> str:
    return base64.urlsafe_b64encode(run_id.encode()).decode()


def _page_start(runs: list[Run], token: str) -> int:
    """Where the page after the run named by `token` starts."""
    if not token:
        return 0
    try:
        after = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        after = None
    for position, run in enumerate(runs):
        if run.run_id == after:
            return position + 1
    raise invalid("page_token", "not a token of this listing: pass next_page_token as given")
