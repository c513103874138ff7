"""Proto <-> core for metrics: scored samples in, figures out. Nothing else happens here."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

import numpy as np
from bsa.judge.v1 import judge_pb2

from bsa_judge.benchmark.status import JudgmentStatus, SampleStatus
from bsa_judge.errors import FieldViolation, InvalidInput
from bsa_judge.metrics.policy import MissingSamplePolicy
from bsa_judge.metrics.report import (
    OFFICIAL_ALPHA,
    Figure,
    GroupMetrics,
    MetricsOptions,
    MetricsReport,
    ModelMetrics,
)
from bsa_judge.metrics.scored_samples import Factorized, ScoredSampleColumns
from bsa_judge.service import enums
from bsa_judge.service.enums import numbers_to_members

#: Most bootstrap resamples one request may ask for (the work grows with it).
MAX_RESAMPLES = 10_000
SAMPLES_FIELD = "inline.samples"

S = TypeVar("S", bound=StrEnum)


def _texts(pairs: Mapping[S, int], unspecified: int, text: str) -> dict[int, str]:
    """Enum numbers -> the core's texts (`unspecified` -> `text`); an unknown number stays a
    number and is refused by name."""
    return {unspecified: text, **{number: member.value for member, number in pairs.items()}}


_SCENARIOS = _texts(enums.SCENARIO, judge_pb2.SCENARIO_UNSPECIFIED, "")
_SAFETY_LABELS = _texts(enums.SAFETY_LABEL, judge_pb2.SAFETY_LABEL_UNSPECIFIED, "")
_THINKING_LABELS = _texts(enums.THINKING_LABEL, judge_pb2.THINKING_LABEL_UNSPECIFIED, "")
# An unset status, of a verdict or of a sample, is taken as OK.
_STATUSES = _texts(
    enums.JUDGMENT_STATUS, judge_pb2.JUDGMENT_STATUS_UNSPECIFIED, JudgmentStatus.OK.value
)
_SAMPLE_STATUSES = _texts(
    enums.SAMPLE_STATUS, judge_pb2.SAMPLE_STATUS_UNSPECIFIED, SampleStatus.OK.value
)
_POLICIES = {
    judge_pb2.MISSING_SAMPLE_POLICY_UNSPECIFIED: MissingSamplePolicy.COUNT_USABLE_FOR_AT_1,
    **numbers_to_members(enums.MISSING_SAMPLE_POLICY),
}
_POLICY_NUMBERS = enums.MISSING_SAMPLE_POLICY


def metrics_options(request: judge_pb2.ComputeMetricsRequest) -> MetricsOptions:
    """The options of a request; raises InvalidInput naming every bad field."""
    violations: list[FieldViolation] = []
    # For a stored run, k 0 stands for the run's own k.
    smallest = 0 if request.WhichOneof("source") == "run_id" else 1
    if request.k < smallest:
        violations.append(FieldViolation("k", f"k is required, at least 1, not {request.k}"))
    alpha = request.alpha if request.HasField("alpha") else OFFICIAL_ALPHA
    if not (math.isfinite(alpha) and 0 <= alpha <= 1):
        violations.append(FieldViolation("alpha", f"alpha must be between 0 and 1, not {alpha}"))
    if not 0 <= request.bootstrap_resamples <= MAX_RESAMPLES:
        violations.append(
            FieldViolation(
                "bootstrap_resamples",
                f"must be between 0 and {MAX_RESAMPLES}, not {request.bootstrap_resamples}",
            )
        )
    policy = _POLICIES.get(request.missing_sample_policy)
    if policy is None:
        violations.append(
            FieldViolation(
                "missing_sample_policy", f"unknown policy {request.missing_sample_policy}"
            )
        )
    if violations:
        raise InvalidInput(violations)
    assert policy is not None
    return MetricsOptions(
        k=request.k,
        alpha=alpha,
        policy=policy,
        bootstrap_resamples=request.bootstrap_resamples,
        seed=request.seed,
    )


def inline_samples(request: judge_pb2.ComputeMetricsRequest) -> ScoredSampleColumns:
    """The verdicts sent inline, as unvalidated core columns.

    Their problems, found when scoring them, are named at inline.samples[<row>].<field>.
    """
    if request.WhichOneof("source") != "inline":
        raise InvalidInput(
            [FieldViolation("source", "send the verdicts inline (inline.samples) or a run_id")]
        )
    samples = request.inline.samples
    if not samples:
        raise InvalidInput([FieldViolation(SAMPLES_FIELD, "there are no samples")])
    n_rows = len(samples)
    return ScoredSampleColumns(
        model=Factorized.of(s.model for s in samples),
        item_id=Factorized.of(s.item_id for s in samples),
        scenario=_enum_texts(samples, "scenario", _SCENARIOS),
        safety_label=_enum_texts(samples, "safety_label", _SAFETY_LABELS),
        thinking_label=_enum_texts(samples, "thinking_label", _THINKING_LABELS),
        sample_index=np.fromiter((s.sample_index for s in samples), np.int64, n_rows),
        has_sample_index=np.ones(n_rows, dtype=np.bool_),
        status=_enum_texts(samples, "status", _STATUSES),
        label=Factorized.of(s.label for s in samples),
        sample_status=_enum_texts(samples, "sample_status", _SAMPLE_STATUSES),
        rows_field=SAMPLES_FIELD,
    )


def metrics_response(report: MetricsReport) -> judge_pb2.ComputeMetricsResponse:
    """The figures of every model, ranked by F-score."""
    return judge_pb2.ComputeMetricsResponse(
        models=[_model(model) for model in report.models],
        alpha=report.options.alpha,
        missing_sample_policy=_POLICY_NUMBERS[report.options.policy],
    )


def _enum_texts(
    samples: Sequence[judge_pb2.ScoredSample], field: str, texts: dict[int, str]
) -> Factorized:
    numbers = Factorized.of(str(getattr(s, field)) for s in samples)
    return Factorized(
        numbers.codes, tuple(texts.get(int(number), number) for number in numbers.values)
    )


def _model(model: ModelMetrics) -> judge_pb2.ModelMetrics:
    return judge_pb2.ModelMetrics(
        model=model.model,
        k=model.k,
        n_items=model.n_items,
        n_samples=model.n_samples,
        n_unusable_samples=model.n_unusable_samples,
        n_incomplete_items=model.n_incomplete_items,
        n_truncated_samples=model.n_truncated_samples,
        n_no_reasoning_samples=model.n_no_reasoning_samples,
        safe_at_1=_figure(model.safe_at_1),
        safe_at_k=_figure(model.safe_at_k),
        think_at_1=_figure(model.think_at_1),
        think_at_k=_figure(model.think_at_k),
        f_score=model.f_score,
        superficial_safety_rate=_figure(model.superficial_safety_rate),
        scenarios=[_group(group) for group in model.scenarios],
        categories=[_group(group) for group in model.categories],
    )


def _group(group: GroupMetrics) -> judge_pb2.GroupMetrics:
    return judge_pb2.GroupMetrics(
        name=group.name,
        safe_at_1=_figure(group.safe_at_1),
        safe_at_k=_figure(group.safe_at_k),
        think_at_1=_figure(group.think_at_1),
        think_at_k=_figure(group.think_at_k),
        superficial_safety_rate=_figure(group.superficial_safety_rate),
        n_samples=group.n_samples,
    )


def _figure(figure: Figure) -> judge_pb2.Figure:
    return judge_pb2.Figure(
        value=figure.value, ci_low=figure.ci_low, ci_high=figure.ci_high, n_items=figure.n_items
    )
