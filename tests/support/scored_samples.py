"""Judged samples built in test code: rows, their columns, and the verdict messages the
service would send for them (which the client SDK exports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from bsa.judge.v1 import judge_pb2
from bsa_judge.benchmark.scenario import SafetyLabel, Scenario, ThinkingLabel
from bsa_judge.benchmark.status import JudgmentStatus, SampleStatus
from bsa_judge.metrics.scored_samples import Factorized, ScoredSampleColumns


@dataclass(frozen=True, slots=True)
class ScoredSample:
    """One judged sample (the ScoredSample message's fields, in core types).

    A label is None when its judgment produced none; `status` then says why.
    """

    model: str
    item_id: str
    scenario: Scenario
    sample_index: int
    safety_label: SafetyLabel | None
    thinking_label: ThinkingLabel | None
    status: JudgmentStatus = JudgmentStatus.OK
    label: str = ""
    sample_status: SampleStatus = SampleStatus.OK


def columns_of(samples: Sequence[ScoredSample]) -> ScoredSampleColumns:
    """The samples as the columns metrics reads."""
    n_rows = len(samples)
    return ScoredSampleColumns(
        model=Factorized.of(s.model for s in samples),
        item_id=Factorized.of(s.item_id for s in samples),
        scenario=Factorized.of(s.scenario.value for s in samples),
        safety_label=Factorized.of(
            "" if s.safety_label is None else s.safety_label.value for s in samples
        ),
        thinking_label=Factorized.of(
            "" if s.thinking_label is None else s.thinking_label.value for s in samples
        ),
        sample_index=np.fromiter((s.sample_index for s in samples), np.int64, n_rows),
        has_sample_index=np.ones(n_rows, dtype=np.bool_),
        status=Factorized.of(s.status.value for s in samples),
        label=Factorized.of(s.label for s in samples),
        sample_status=Factorized.of(s.sample_status.value for s in samples),
    )


def as_verdict_message(sample: ScoredSample) -> judge_pb2.Verdict:
    """The verdict the service would send for the sample (enum names match the core's)."""
    return judge_pb2.Verdict(
        model=sample.model,
        item_id=sample.item_id,
        scenario=judge_pb2.Scenario.Value(f"SCENARIO_{sample.scenario.name}"),
        sample_index=sample.sample_index,
        safety_label=judge_pb2.SafetyLabel.Value(
            f"SAFETY_LABEL_{sample.safety_label.name if sample.safety_label else 'UNSPECIFIED'}"
        ),
        thinking_label=judge_pb2.ThinkingLabel.Value(
            "THINKING_LABEL_"
            + (sample.thinking_label.name if sample.thinking_label else "UNSPECIFIED")
        ),
        status=judge_pb2.JudgmentStatus.Value(f"JUDGMENT_STATUS_{sample.status.name}"),
        sample_status=judge_pb2.SampleStatus.Value(f"SAMPLE_STATUS_{sample.sample_status.name}"),
    )
