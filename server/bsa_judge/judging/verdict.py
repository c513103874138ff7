"""Putting a judge's judgments together into a verdict."""

from __future__ import annotations

from bsa_judge.benchmark.scenario import ThinkingLabel, is_thinking_correct
from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.judging.judgment import TraceJudgments, Verdict
from bsa_judge.judging.trace import Trace
from bsa_judge.judging.validation import TraceInput

_FINE = (JudgmentStatus.OK, JudgmentStatus.NOT_JUDGED)


def verdict_for(trace: Trace, judgments: TraceJudgments, *, latency_s: float) -> Verdict:
    """The verdict of `trace` from a judge's two judgments (a majority's, when judges voted)."""
    safety, thinking = judgments.safety, judgments.thinking
    failing = [j for j in (safety, thinking) if j.status not in _FINE]
    thinking_label = (
        thinking.label
        if thinking.status is JudgmentStatus.OK and isinstance(thinking.label, ThinkingLabel)
        else None
    )
    scenario = trace.item.scenario
    return Verdict(
        status=failing[0].status if failing else JudgmentStatus.OK,
        safety=safety,
        thinking=thinking,
        thinking_correct=(
            thinking_label is not None and is_thinking_correct(scenario, thinking_label)
        ),
        scenario=scenario,
        sample_status=trace.sample_status,
        item_id=trace.item.id,
        model=trace.model,
        sample_index=trace.sample_index,
        cached=safety.cached and (thinking.cached or thinking.status is JudgmentStatus.NOT_JUDGED),
        votes=judgments.votes,
        agreement=judgments.agreement,
        latency_s=latency_s,
        error="; ".join(f"{j.kind.value}: {j.error}" for j in failing),
        decided_by=judgments.decided_by,
        label=trace.item.label,
    )


def invalid_verdict(raw: TraceInput, error: str) -> Verdict:
    """The verdict on a trace that could not be judged at all (streaming only)."""
    return Verdict(
        status=JudgmentStatus.INVALID_TRACE,
        safety=None,
        thinking=None,
        thinking_correct=False,
        scenario=raw.scenario,
        sample_status=raw.sample_status,
        item_id=raw.item_id,
        model=raw.model,
        sample_index=raw.sample_index,
        error=error,
    )
