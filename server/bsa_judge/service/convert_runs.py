"""Runs: proto messages <-> the run values of the core (benchmark/run.py), and nothing else.

Only requests are converted here for now: what the run use cases return (runs, progress,
stored samples and verdicts) is the application layer's to define; its proto side follows
the Run, RunProgress, ExportRunResponse and EvaluateItemsResponse messages.
"""

from __future__ import annotations

from bsa.judge.v1 import judge_pb2

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.run import (
    ItemSelection,
    RunItem,
    RunSettings,
    SampleSource,
    SubmittedSample,
)
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.service import enums
from bsa_judge.service.convert_generation import decoding
from bsa_judge.service.enums import numbers_to_members

_SCENARIOS = numbers_to_members(enums.SCENARIO)
_SAMPLE_STATUSES = numbers_to_members(enums.SAMPLE_STATUS)
_SAMPLE_SOURCES = {
    judge_pb2.SAMPLE_SOURCE_UNSPECIFIED: SampleSource.GENERATED,
    judge_pb2.SAMPLE_SOURCE_GENERATED: SampleSource.GENERATED,
    judge_pb2.SAMPLE_SOURCE_SUBMITTED: SampleSource.SUBMITTED,
}


def run_settings(message: judge_pb2.RunSettings) -> RunSettings:
    """The settings of a CreateRunRequest (checked by the use case, not here)."""
    selection = message.selection
    return RunSettings(
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
        judge=message.judge,
        sample_source=_SAMPLE_SOURCES.get(message.sample_source, SampleSource.GENERATED),
    )


def run_item(message: judge_pb2.EvaluateItemsRequest) -> RunItem | None:
    """One item of an EvaluateItems stream; None when its scenario is unknown (the use case
    answers that item with an error naming `item.scenario`)."""
    scenario = _SCENARIOS.get(message.item.scenario)
    if scenario is None:
        return None
    item = message.item
    return RunItem(
        run_id=message.run_id,
        item=Item(
            id=item.id,
            query=item.query,
            risk_summary=item.risk_summary,
            scenario=scenario,
            label=item.label,
        ),
        samples=tuple(
            SubmittedSample(
                sample_index=sample.sample_index,
                reasoning=sample.reasoning,
                answer=sample.answer,
                status=_SAMPLE_STATUSES.get(sample.status, SampleStatus.OK),
            )
            for sample in message.samples
        ),
    )
