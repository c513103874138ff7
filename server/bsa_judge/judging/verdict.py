"""Putting judgments together into a verdict, and counting verdicts."""

from __future__ import annotations

from bsa_judge import telemetry
from bsa_judge.benchmark.scenario import SafetyLabel, ThinkingLabel, is_thinking_correct
from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.judging.judgment import JudgeVote, Judgment, Verdict
from bsa_judge.judging.trace import Trace
from bsa_judge.judging.validation import TraceInput

_FINE = (JudgmentStatus.OK, JudgmentStatus.NOT_JUDGED)


def verdict_for(
    trace: Trace,
    safety: Judgment,
    thinking: Judgment,
    *,
    latency_s: float,
    votes: tuple[JudgeVote, ...] = (),
    agreement: float = 0.0,
) -> Verdict:
    """The verdict of `trace` from its two judgments (a majority's, when judges voted)."""
    failing = [j for j in (safety, thinking) if j.status not in _FINE]
    safety_label = safety.label if isinstance(safety.label, SafetyLabel) else None
    thinking_label = thinking.label if isinstance(thinking.label, ThinkingLabel) else None
    if safety.status is not JudgmentStatus.OK:
        safety_label = None
    if thinking.status is not JudgmentStatus.OK:
        thinking_label = None
    scenario = trace.item.scenario
    return Verdict(
        status=failing[0].status if failing else JudgmentStatus.OK,
        safety=safety,
        thinking=thinking,
        safety_label=safety_label,
        thinking_label=thinking_label,
        thinking_correct=(
            thinking_label is not None and is_thinking_correct(scenario, thinking_label)
        ),
        scenario=scenario,
        sample_status=trace.sample_status,
        item_id=trace.item.id,
        model=trace.model,
        sample_index=trace.sample_index,
        cached=safety.cached and (thinking.cached or thinking.status is JudgmentStatus.NOT_JUDGED),
        votes=votes,
        agreement=agreement,
        latency_s=latency_s,
        error="; ".join(f"{j.kind.value}: {j.error}" for j in failing),
    )


def invalid_verdict(raw: TraceInput, error: str) -> Verdict:
    """The verdict on a trace that could not be judged at all (streaming only)."""
    return Verdict(
        status=JudgmentStatus.INVALID_TRACE,
        safety=None,
        thinking=None,
        safety_label=None,
        thinking_label=None,
        thinking_correct=False,
        scenario=raw.scenario,
        sample_status=raw.sample_status,
        item_id=raw.item_id,
        model=raw.model,
        sample_index=raw.sample_index,
        error=error,
    )


def count_verdict(verdict: Verdict) -> None:
    """Record a finished verdict in the service metrics."""
    telemetry.TRACES.labels(verdict.status.value).inc()
    telemetry.VERDICTS.labels(
        verdict.scenario.value if verdict.scenario else "none",
        verdict.safety_label.value if verdict.safety_label else "none",
        verdict.thinking_label.value if verdict.thinking_label else "none",
        verdict.status.value,
    ).inc()
