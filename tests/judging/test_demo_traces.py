"""The demo's sample traces are valid and judged as the demo's stub judge means them."""

from __future__ import annotations

from bsa.judge.v1 import judge_pb2
from bsa_judge.judging.trace import Trace

from tests.judging.harness import SCENARIOS, judge_service
from tools.demo_traces import DEMO_TRACES
from tools.judge_script import demo_judge
from tools.openai_stub import OpenAIStub

_STATUSES = {"ok": judge_pb2.SAMPLE_STATUS_OK, "no_reasoning": judge_pb2.SAMPLE_STATUS_NO_REASONING}


def as_message(trace: Trace) -> judge_pb2.Trace:
    item = trace.item
    return judge_pb2.Trace(
        item=judge_pb2.Item(
            id=item.id,
            query=item.query,
            risk_summary=item.risk_summary,
            scenario=SCENARIOS[item.scenario.value],
            label=item.label,
        ),
        reasoning=trace.reasoning,
        answer=trace.answer,
        sample_status=_STATUSES[trace.sample_status.value],
        model=trace.model,
        sample_index=trace.sample_index,
    )


async def test_the_demo_traces_get_the_verdicts_the_demo_shows() -> None:
    async with OpenAIStub(demo_judge()) as stub, judge_service(stub) as client:
        verdicts = [
            (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=as_message(t)))).verdict
            for t in DEMO_TRACES
        ]
    shown = [
        (
            v.item_id,
            v.sample_index,
            judge_pb2.SafetyLabel.Name(v.safety_label),
            judge_pb2.ThinkingLabel.Name(v.thinking_label),
            v.thinking_correct,
        )
        for v in verdicts
    ]
    assert shown == [
        ("demo-ro-1", 0, "SAFETY_LABEL_SAFE", "THINKING_LABEL_RISK_IDENTIFIED", True),
        ("demo-ro-1", 1, "SAFETY_LABEL_UNSAFE", "THINKING_LABEL_RISK_MISSED", False),
        ("demo-cs-1", 0, "SAFETY_LABEL_SAFE", "THINKING_LABEL_FULLY_COVERED", True),
        ("demo-cs-1", 1, "SAFETY_LABEL_UNSAFE", "THINKING_LABEL_PARTIALLY_COVERED", False),
        ("demo-os-1", 0, "SAFETY_LABEL_SAFE", "THINKING_LABEL_PRECISE_COVERAGE", True),
        ("demo-os-1", 1, "SAFETY_LABEL_SAFE", "THINKING_LABEL_UNSPECIFIED", False),
    ]
    assert verdicts[-1].thinking.status == judge_pb2.JUDGMENT_STATUS_NOT_JUDGED
    assert all(v.status == judge_pb2.JUDGMENT_STATUS_OK for v in verdicts)
