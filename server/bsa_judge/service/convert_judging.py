"""Proto <-> core for judging: traces in, verdicts out. Nothing else happens here."""

from __future__ import annotations

from bsa.judge.v1 import judge_pb2

from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.judging.trace import Trace
from bsa_judge.judging.validation import TraceInput, validate_trace

_SCENARIOS = {
    judge_pb2.SCENARIO_RISK_OMISSION: Scenario.RISK_OMISSION,
    judge_pb2.SCENARIO_COGNITIVE_SHORTCUT: Scenario.COGNITIVE_SHORTCUT,
    judge_pb2.SCENARIO_OVER_SENSITIVITY: Scenario.OVER_SENSITIVITY,
}
_SAMPLE_STATUSES = {
    judge_pb2.SAMPLE_STATUS_UNSPECIFIED: SampleStatus.OK,  # unset is taken as OK
    judge_pb2.SAMPLE_STATUS_OK: SampleStatus.OK,
    judge_pb2.SAMPLE_STATUS_TRUNCATED: SampleStatus.TRUNCATED,
    judge_pb2.SAMPLE_STATUS_NO_REASONING: SampleStatus.NO_REASONING,
    judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR: SampleStatus.UPSTREAM_ERROR,
    judge_pb2.SAMPLE_STATUS_TIMEOUT: SampleStatus.TIMEOUT,
}


def trace_input(message: judge_pb2.Trace, *, present: bool = True) -> TraceInput:
    """The unvalidated core view of a proto Trace."""
    item = message.item
    return TraceInput(
        item_id=item.id,
        query=item.query,
        risk_summary=item.risk_summary,
        scenario=_SCENARIOS.get(item.scenario),
        label=item.label,
        reasoning=message.reasoning,
        answer=message.answer,
        sample_status=_SAMPLE_STATUSES.get(message.sample_status),
        model=message.model,
        sample_index=message.sample_index,
        present=present,
    )


def trace_from_request(
    request: judge_pb2.JudgeTraceRequest | judge_pb2.JudgeTracesRequest, *, max_field_bytes: int
) -> Trace:
    """The validated trace of a request; raises InvalidInput naming each bad field."""
    raw = trace_input(request.trace, present=request.HasField("trace"))
    return validate_trace(raw, max_field_bytes=max_field_bytes)
