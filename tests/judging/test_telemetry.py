"""Judging is counted in the service metrics (names in bsa_judge.telemetry)."""

from __future__ import annotations

from bsa.judge.v1 import judge_pb2
from bsa_judge.judging.judgment import JudgmentKind
from prometheus_client import REGISTRY

from tests.judging.harness import judge_backend, judge_service, trace
from tools.judge_script import by_kind
from tools.openai_stub import OpenAIStub


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_judged_trace_is_counted_by_scenario_label_status_and_judge_call() -> None:
    verdict_labels = {
        "scenario": "Over Sensitivity",
        "safety_label": "Unsafe",
        "thinking_label": "Over Sensitive",
        "status": "ok",
    }
    calls = {"judge_model": "telemetry-model", "judgment": "thinking_os"}
    before = (
        value("bsa_judge_verdicts_total", **verdict_labels),
        value("bsa_judge_traces_total", status="ok"),
        value("bsa_judge_judge_call_seconds_count", **calls),
        value("bsa_judge_cache_misses_total"),
        value("bsa_judge_cache_hits_total"),
    )
    script = by_kind({JudgmentKind.SAFETY: "Unsafe", JudgmentKind.THINKING_OS: "Over Sensitive"})
    async with OpenAIStub(script) as stub:
        judges = [judge_backend(stub, model="telemetry-model")]
        async with judge_service(stub, judges=judges) as client:
            for _ in range(2):  # the second time from the cache
                await client.judge_trace(
                    judge_pb2.JudgeTraceRequest(trace=trace("Over Sensitivity"))
                )
    after = (
        value("bsa_judge_verdicts_total", **verdict_labels),
        value("bsa_judge_traces_total", status="ok"),
        value("bsa_judge_judge_call_seconds_count", **calls),
        value("bsa_judge_cache_misses_total"),
        value("bsa_judge_cache_hits_total"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 2, 1, 2, 2]
    assert value("bsa_judge_traces_in_flight") == 0


async def test_unreadable_answers_and_invalid_traces_are_counted() -> None:
    labels = {"judge_model": "unreadable-model", "judgment": "safety"}
    before = value("bsa_judge_judge_unparseable_total", **labels)
    invalid_before = value("bsa_judge_traces_total", status="invalid_trace")
    script = by_kind({JudgmentKind.SAFETY: "perhaps"})
    async with OpenAIStub(script) as stub:
        judges = [judge_backend(stub, model="unreadable-model")]
        async with judge_service(stub, judges=judges) as client:
            await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
            responses = [
                r
                async for r in client.judge_traces(
                    [judge_pb2.JudgeTracesRequest(key="bad", trace=trace(query=""))]
                )
            ]
    assert value("bsa_judge_judge_unparseable_total", **labels) - before == 3  # each attempt
    assert responses[0].verdict.status == judge_pb2.JUDGMENT_STATUS_INVALID_TRACE
    assert value("bsa_judge_traces_total", status="invalid_trace") - invalid_before == 1
