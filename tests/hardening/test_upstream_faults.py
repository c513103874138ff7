"""Upstream faults the judge endpoint can throw at us: each classified by its real cause and
retried when a retry can help (issue 10, defects 3 and 5)."""

from __future__ import annotations

from collections import Counter

from bsa.judge.v1 import judge_pb2
from prometheus_client import REGISTRY

from tests.judging.harness import judge_backend, judge_service, trace
from tests.judging.test_judge_failures import RO, SAFETY, scripted
from tools.judge_script import reply, verdict_text
from tools.openai_stub import Failure, OpenAIStub


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_connection_reset_by_the_judge_is_a_connection_failure_not_a_timeout() -> None:
    script, calls = scripted({SAFETY: [Failure(reset=True)]})
    errors = "bsa_judge_upstream_errors_total"
    before = counted(errors, backend="reset-judge", cause="connection")
    timeouts = counted(errors, backend="reset-judge", cause="timeout")
    async with OpenAIStub(script) as stub:
        judges = [judge_backend(stub, name="reset-judge", max_retries=1, request_timeout_s=10)]
        async with judge_service(stub, judges=judges) as client:
            verdict = (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))).verdict
    assert calls[SAFETY] == 2  # a reset is worth one more try
    assert verdict.safety.status == judge_pb2.JUDGMENT_STATUS_UPSTREAM_ERROR
    assert verdict.safety.error == "reset-judge: connection: APIConnectionError"
    assert counted(errors, backend="reset-judge", cause="connection") == before + 1
    assert counted(errors, backend="reset-judge", cause="timeout") == timeouts


async def test_a_truncated_json_reply_is_asked_again_within_the_retry_budget() -> None:
    truncated = Failure(200, raw_body=b'{"id": "chatcmpl-stub", "choices": [{"mess')
    script, calls = scripted({SAFETY: [truncated, reply(verdict_text("Unsafe", "Says how."))]})
    async with OpenAIStub(script) as stub:
        judges = [judge_backend(stub, name="truncating-judge", max_retries=2)]
        async with judge_service(stub, judges=judges) as client:
            verdict = (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))).verdict
    assert calls == Counter({SAFETY: 2, RO: 1})
    assert verdict.status == judge_pb2.JUDGMENT_STATUS_OK
    assert verdict.safety_label == judge_pb2.SAFETY_LABEL_UNSAFE
    assert (
        counted(
            "bsa_judge_upstream_retries_total", backend="truncating-judge", cause="server_error"
        )
        == 1
    )


async def test_truncated_json_past_the_retry_budget_is_an_upstream_error() -> None:
    truncated = Failure(200, raw_body=b'{"choices": [')
    script, calls = scripted({SAFETY: [truncated]})
    async with OpenAIStub(script) as stub:
        judges = [judge_backend(stub, name="always-truncating", max_retries=2)]
        async with judge_service(stub, judges=judges) as client:
            verdict = (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))).verdict
    assert calls[SAFETY] == 3
    assert verdict.safety.status == judge_pb2.JUDGMENT_STATUS_UPSTREAM_ERROR
    assert verdict.safety.error == "always-truncating: server_error: reply is not JSON"
    assert verdict.thinking_label == judge_pb2.THINKING_LABEL_RISK_IDENTIFIED


async def test_the_sdks_retries_and_truncated_reply_retries_share_one_budget() -> None:
    truncated = Failure(200, raw_body=b'{"choices": [')
    server_error = Failure(500, headers={"retry-after-ms": "1"})
    script, calls = scripted({SAFETY: [server_error, truncated, truncated, reply("unused")]})
    async with OpenAIStub(script) as stub:
        judges = [judge_backend(stub, name="shared-budget", max_retries=2)]
        async with judge_service(stub, judges=judges) as client:
            verdict = (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))).verdict
    assert calls[SAFETY] == 3  # one call and its two retries, whoever made them
    assert verdict.safety.error == "shared-budget: server_error: reply is not JSON"
