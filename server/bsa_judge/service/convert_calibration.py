"""Calibration through a running server: gold traces as Trace messages, verdicts read back."""

from __future__ import annotations

from bsa.judge.v1 import judge_pb2

from bsa_judge.calibration.report import Judged
from bsa_judge.judging.trace import Trace
from bsa_judge.service import enums

_SAFETY = enums.numbers_to_members(enums.SAFETY_LABEL)
_THINKING = enums.numbers_to_members(enums.THINKING_LABEL)


def trace_to_proto(trace: Trace) -> judge_pb2.Trace:
    """A trace as JudgeTraces takes it."""
    return judge_pb2.Trace(
        item=judge_pb2.Item(
            id=trace.item.id,
            query=trace.item.query,
            risk_summary=trace.item.risk_summary,
            scenario=enums.SCENARIO[trace.item.scenario],
            label=trace.item.label,
        ),
        reasoning=trace.reasoning,
        answer=trace.answer,
        sample_status=enums.SAMPLE_STATUS[trace.sample_status],
        model=trace.model,
        sample_index=trace.sample_index,
    )


def judged_from_verdict(verdict: judge_pb2.Verdict) -> Judged:
    """The labels of a verdict (UNSPECIFIED: no label) and who decided."""
    return Judged(
        _THINKING.get(verdict.thinking_label), _SAFETY.get(verdict.safety_label), verdict.decided_by
    )
