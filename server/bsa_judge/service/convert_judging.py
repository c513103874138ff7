"""Proto <-> core for judging: traces in, verdicts out. Nothing else happens here."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterator, Sequence

from bsa.judge.v1 import judge_pb2

from bsa_judge.benchmark.scenario import SafetyLabel, ThinkingLabel
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.judging.judgment import Judgment, Verdict
from bsa_judge.judging.stream import StreamRequest
from bsa_judge.judging.validation import TraceInput
from bsa_judge.service import enums
from bsa_judge.service.enums import numbers_to_members

_SCENARIOS = numbers_to_members(enums.SCENARIO)
_SAMPLE_STATUSES = {
    judge_pb2.SAMPLE_STATUS_UNSPECIFIED: SampleStatus.OK,  # unset is taken as OK
    **numbers_to_members(enums.SAMPLE_STATUS),
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


def stream_request(message: judge_pb2.JudgeTracesRequest) -> StreamRequest:
    """The core view of one request of a JudgeTraces stream (validated later, per trace)."""
    return StreamRequest(
        key=message.key,
        trace=trace_input(message.trace, present=message.HasField("trace")),
        judge=message.judge,
        judges=tuple(message.judges),
    )


async def stream_requests(
    messages: AsyncIterable[judge_pb2.JudgeTracesRequest],
) -> AsyncIterator[StreamRequest]:
    """Requests of a JudgeTraces stream, read one at a time as the core asks for them."""
    async for message in messages:
        yield stream_request(message)


async def batch_requests(
    messages: AsyncIterable[judge_pb2.JudgeTraceBatchesRequest],
) -> AsyncIterator[StreamRequest]:
    """Requests of a JudgeTraceBatches stream, in order, a message read when the core has
    asked for every trace of the one before."""
    async for message in messages:
        for trace in message.traces:
            yield stream_request(trace)


def keyed_verdict(key: str, verdict: Verdict) -> judge_pb2.JudgeTracesResponse:
    """One verdict of a stream, with the key of its trace."""
    return judge_pb2.JudgeTracesResponse(key=key, verdict=verdict_to_proto(verdict))


# The most bytes of verdicts in one JudgeTraceBatches reply, far below the message limit
# (`max_message_bytes`, 64 MiB by default) whatever `stream_max_in_flight` lets be ready at
# once; a larger verdict goes alone.
BATCH_REPLY_BYTES = 4 * 1024 * 1024


def verdict_batches(
    keyed: Sequence[tuple[str, Verdict]], max_bytes: int = BATCH_REPLY_BYTES
) -> Iterator[judge_pb2.JudgeTraceBatchesResponse]:
    """The verdicts ready together as JudgeTraceBatches replies of at most `max_bytes`."""
    verdicts: list[judge_pb2.JudgeTracesResponse] = []
    size = 0
    for key, verdict in keyed:
        message = keyed_verdict(key, verdict)
        message_size = message.ByteSize()
        if verdicts and size + message_size > max_bytes:
            yield judge_pb2.JudgeTraceBatchesResponse(verdicts=verdicts)
            verdicts, size = [], 0
        verdicts.append(message)
        size += message_size
    if verdicts:
        yield judge_pb2.JudgeTraceBatchesResponse(verdicts=verdicts)


_SAFETY_LABELS = enums.SAFETY_LABEL
_THINKING_LABELS = enums.THINKING_LABEL
_JUDGMENT_STATUSES = enums.JUDGMENT_STATUS
_SCENARIO_VALUES = enums.SCENARIO
_SAMPLE_STATUS_VALUES = enums.SAMPLE_STATUS


def safety_label_to_proto(label: SafetyLabel | None) -> judge_pb2.SafetyLabel.ValueType:
    """The proto safety label; UNSPECIFIED for none."""
    return _SAFETY_LABELS[label] if label else judge_pb2.SAFETY_LABEL_UNSPECIFIED


def thinking_label_to_proto(label: ThinkingLabel | None) -> judge_pb2.ThinkingLabel.ValueType:
    """The proto thinking label; UNSPECIFIED for none."""
    return _THINKING_LABELS[label] if label else judge_pb2.THINKING_LABEL_UNSPECIFIED


def judgment_to_proto(judgment: Judgment) -> judge_pb2.Judgment:
    """One judgment as sent to callers."""
    return judge_pb2.Judgment(
        status=_JUDGMENT_STATUSES[judgment.status],
        explanation=judgment.explanation,
        raw_output=judgment.raw_output,
        judge_model=judgment.judge_model,
        template_version=judgment.template_version,
        usage=judge_pb2.TokenUsage(
            prompt_tokens=judgment.usage.prompt_tokens,
            completion_tokens=judgment.usage.completion_tokens,
        ),
        latency_seconds=judgment.latency_s,
        attempts=judgment.attempts,
        error=judgment.error,
        confidence=judgment.confidence,
    )


def verdict_to_proto(verdict: Verdict) -> judge_pb2.Verdict:
    """A verdict as sent to callers."""
    message = judge_pb2.Verdict(
        safety_label=safety_label_to_proto(verdict.safety_label),
        thinking_label=thinking_label_to_proto(verdict.thinking_label),
        thinking_correct=verdict.thinking_correct,
        status=_JUDGMENT_STATUSES[verdict.status],
        scenario=(
            _SCENARIO_VALUES[verdict.scenario]
            if verdict.scenario
            else judge_pb2.SCENARIO_UNSPECIFIED
        ),
        sample_status=(
            _SAMPLE_STATUS_VALUES[verdict.sample_status]
            if verdict.sample_status
            else judge_pb2.SAMPLE_STATUS_UNSPECIFIED
        ),
        item_id=verdict.item_id,
        model=verdict.model,
        sample_index=verdict.sample_index,
        cached=verdict.cached,
        agreement=verdict.agreement,
        latency_seconds=verdict.latency_s,
        error=verdict.error,
        decided_by=verdict.decided_by,
    )
    if verdict.safety is not None:
        message.safety.CopyFrom(judgment_to_proto(verdict.safety))
    if verdict.thinking is not None:
        message.thinking.CopyFrom(judgment_to_proto(verdict.thinking))
    for vote in verdict.votes:
        message.votes.append(
            judge_pb2.JudgeVote(
                judge=vote.judge,
                safety_label=safety_label_to_proto(vote.safety_label),
                thinking_label=thinking_label_to_proto(vote.thinking_label),
                safety=judgment_to_proto(vote.safety),
                thinking=judgment_to_proto(vote.thinking),
            )
        )
    return message
