"""Runs: proto messages <-> the run values of the core, and nothing else.

Requests become a `RunSpec` (runs/run.py) or `RunItem`s (benchmark/run.py), unchecked: the
use cases check them and name the bad fields. Runs, their progress and the stored samples
and verdicts become the Run, RunProgress, ExportRunResponse and EvaluateItemsResponse
messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime

from bsa.judge.v1 import judge_pb2
from google.protobuf import timestamp_pb2

from bsa_judge.app.evaluation import EvaluatedSample, ItemOutcome
from bsa_judge.app.runs import RunView
from bsa_judge.benchmark.run import ItemSelection, RunItem, SampleSource, SubmittedSample
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.runs.run import RunRecord, RunSpec, RunStatus
from bsa_judge.service import enums
from bsa_judge.service.convert_generation import decoding, sample_to_proto
from bsa_judge.service.convert_judging import verdict_to_proto
from bsa_judge.service.enums import numbers_to_members

_SCENARIOS = numbers_to_members(enums.SCENARIO)
_SAMPLE_STATUSES = {
    judge_pb2.SAMPLE_STATUS_UNSPECIFIED: SampleStatus.OK,  # unset is taken as OK
    **numbers_to_members(enums.SAMPLE_STATUS),
}
_SAMPLE_SOURCES = {
    judge_pb2.SAMPLE_SOURCE_UNSPECIFIED: SampleSource.GENERATED,
    judge_pb2.SAMPLE_SOURCE_GENERATED: SampleSource.GENERATED,
    judge_pb2.SAMPLE_SOURCE_SUBMITTED: SampleSource.SUBMITTED,
}
_SAMPLE_SOURCE_NUMBERS = {
    SampleSource.GENERATED: judge_pb2.SAMPLE_SOURCE_GENERATED,
    SampleSource.SUBMITTED: judge_pb2.SAMPLE_SOURCE_SUBMITTED,
}
_RUN_STATUSES = {
    RunStatus.RUNNING: judge_pb2.RUN_STATUS_RUNNING,
    RunStatus.COMPLETED: judge_pb2.RUN_STATUS_COMPLETED,
    RunStatus.FAILED: judge_pb2.RUN_STATUS_FAILED,
    RunStatus.CANCELLED: judge_pb2.RUN_STATUS_CANCELLED,
}


def run_spec(request: judge_pb2.CreateRunRequest) -> RunSpec:
    """The run a CreateRunRequest asks for, its judge not yet resolved."""
    message = request.settings
    selection = message.selection
    return RunSpec(
        run_id=request.run_id,
        model=message.model,
        selection=ItemSelection(
            dataset=selection.dataset,
            description=selection.description,
            item_count=selection.item_count,
            items_digest=selection.items_digest,
        ),
        k=message.k,
        decoding=decoding(message.decoding),
        safety_rules=message.safety_rules,
        sample_source=_SAMPLE_SOURCES.get(message.sample_source, SampleSource.GENERATED),
        judge=message.judge,
    )


def run_item(message: judge_pb2.EvaluateItemsRequest) -> RunItem:
    """One item of an EvaluateItems stream; an unknown scenario or status stays None (the
    use case answers that item with an error naming the field)."""
    item = message.item
    return RunItem(
        run_id=message.run_id,
        item_id=item.id,
        query=item.query,
        risk_summary=item.risk_summary,
        scenario=_SCENARIOS.get(item.scenario),
        label=item.label,
        samples=tuple(
            SubmittedSample(
                sample_index=sample.sample_index,
                reasoning=sample.reasoning,
                answer=sample.answer,
                status=_SAMPLE_STATUSES.get(sample.status),
            )
            for sample in message.samples
        ),
    )


async def run_items(
    messages: AsyncIterable[judge_pb2.EvaluateItemsRequest],
) -> AsyncIterator[RunItem]:
    """The items of an EvaluateItems stream, read one at a time as the core asks for them."""
    async for message in messages:
        yield run_item(message)


def run_to_proto(view: RunView) -> judge_pb2.Run:
    """A run with its settings, status and progress."""
    run, progress, spec = view.run, view.progress, view.run.spec
    message = judge_pb2.Run(
        run_id=run.run_id,
        settings=judge_pb2.RunSettings(
            model=spec.model,
            selection=judge_pb2.ItemSelection(
                dataset=spec.selection.dataset,
                description=spec.selection.description,
                item_count=spec.selection.item_count,
                items_digest=spec.selection.items_digest,
            ),
            k=spec.k,
            decoding=_decoding_to_proto(spec),
            safety_rules=spec.safety_rules,
            judge=spec.judge,
            sample_source=_SAMPLE_SOURCE_NUMBERS[spec.sample_source],
        ),
        status=_RUN_STATUSES[run.status],
        create_time=_timestamp(run.created_at),
        judge_model=spec.judge_model,
        template_versions=dict(spec.template_versions),
        progress=judge_pb2.RunProgress(
            items=spec.selection.item_count,
            items_started=progress.items,
            items_finished=progress.items_finished,
            samples=progress.samples,
            verdicts=progress.verdicts,
            samples_by_status=[
                judge_pb2.SampleStatusCount(status=enums.SAMPLE_STATUS[status], count=count)
                for status, count in sorted(progress.samples_by_status.items())
            ],
            verdicts_by_status=[
                judge_pb2.JudgmentStatusCount(status=enums.JUDGMENT_STATUS[status], count=count)
                for status, count in sorted(progress.verdicts_by_status.items())
            ],
        ),
    )
    if run.finished_at is not None:
        message.finish_time.CopyFrom(_timestamp(run.finished_at))
    return message


def export_response(record: RunRecord) -> judge_pb2.ExportRunResponse:
    """One stored sample of a run and its verdict (unset while not judged)."""
    message = judge_pb2.ExportRunResponse(item_id=record.key.item_id)
    if record.sample is not None:
        message.sample.CopyFrom(sample_to_proto(record.sample))
    if record.verdict is not None:
        message.verdict.CopyFrom(verdict_to_proto(record.verdict))
    return message


def evaluate_response(outcome: ItemOutcome) -> judge_pb2.EvaluateItemsResponse:
    """One sample with its verdict, or the error of an item that could not be evaluated."""
    if not isinstance(outcome, EvaluatedSample):
        return judge_pb2.EvaluateItemsResponse(item_id=outcome.item_id, error=outcome.error)
    return judge_pb2.EvaluateItemsResponse(
        item_id=outcome.item_id,
        sample=sample_to_proto(outcome.sample),
        verdict=verdict_to_proto(outcome.verdict),
        stored=outcome.stored,
    )


def _decoding_to_proto(spec: RunSpec) -> judge_pb2.DecodingSettings:
    settings = spec.decoding
    message = judge_pb2.DecodingSettings(stop=list(settings.stop))
    for name in ("temperature", "top_p", "top_k", "max_tokens", "seed"):
        value = getattr(settings, name)
        if value is not None:
            setattr(message, name, value)
    return message


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp
