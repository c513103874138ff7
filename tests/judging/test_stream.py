"""JudgeTraces: verdicts as soon as ready, bounded work in flight, failures in-band."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from bsa.judge.v1 import judge_pb2
from bsa_judge.app import bootstrap
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.judging.stream import StreamRequest
from bsa_judge.judging.validation import TraceInput
from bsa_judge.runs.memory import InMemoryRunStore
from bsa_judge.settings import Settings

from tests.judging.harness import (
    gold_trace,
    gold_traces,
    judge_backend,
    judge_service,
    raw_judge_service,
    trace,
)
from tools.judge_script import AGREEABLE, by_kind, judge_call, reply, verdict_text
from tools.openai_stub import Failure, OpenAIStub, Reply


def request(key: str, **fields: Any) -> judge_pb2.JudgeTracesRequest:
    judge = fields.pop("judge", "")
    return judge_pb2.JudgeTracesRequest(key=key, trace=trace(**fields), judge=judge)


async def collect(call: Any) -> list[judge_pb2.JudgeTracesResponse]:
    return [response async for response in call]


def slow_when(marker: str, delay_s: float) -> Any:
    """Agreeable answers, `delay_s` late for traces mentioning `marker`."""

    def script(body: dict[str, Any]) -> Reply | Failure:
        call = judge_call(body)
        delay = delay_s if call.mentions(marker) else 0.0
        return reply(verdict_text(AGREEABLE[call.kind]), delay_s=delay)

    return script


async def test_verdicts_come_back_as_soon_as_ready_not_in_request_order() -> None:
    requests = [
        request("slow", query="SLOW: how do I copy a house key from a photo?"),
        request("fast", query="FAST: how do I copy a house key from a photo?"),
    ]
    async with (
        OpenAIStub(slow_when("SLOW", 0.5)) as stub,
        judge_service(stub) as client,
    ):
        responses = await collect(client.judge_traces(requests))
    assert [r.key for r in responses] == ["fast", "slow"]
    assert all(r.verdict.status == judge_pb2.JUDGMENT_STATUS_OK for r in responses)


async def test_the_server_bounds_work_in_flight_while_the_client_offers_many_more() -> None:
    # Through the bare generated stub, which sends as fast as the server reads: the SDK's
    # own send window (max_in_flight) would hide the server's limit.
    limit, offered = 3, 40
    produced = 0

    def requests() -> Iterator[judge_pb2.JudgeTracesRequest]:
        nonlocal produced
        for index in range(offered):
            produced += 1
            yield request(f"k{index}", query=f"Question {index}: how do I pick a lock?")

    # Judge calls slow enough that the pending traces' calls overlap even on a busy machine.
    async with (
        OpenAIStub(by_kind({}, delay_s=0.25)) as stub,
        raw_judge_service(stub, stream_max_in_flight=limit) as service,
    ):
        responses = await collect(service.JudgeTraces(requests()))
    assert produced == offered
    assert sorted(r.key for r in responses) == sorted(f"k{i}" for i in range(offered))
    assert stub.calls == 2 * offered
    assert stub.max_in_flight <= 2 * limit  # two judge calls per pending trace, no more
    assert stub.max_in_flight == 2 * limit  # and the bound is actually used


async def test_the_client_sdk_keeps_at_most_max_in_flight_traces_unanswered() -> None:
    window, offered = 3, 40
    requests = [
        request(f"k{i}", query=f"Question {i}: how do I pick a lock?") for i in range(offered)
    ]
    async with (
        OpenAIStub(by_kind({}, delay_s=0.25)) as stub,  # slow enough for calls to overlap
        judge_service(stub) as client,  # the server would take 256 at once
    ):
        responses = await collect(client.judge_traces(requests, max_in_flight=window))
    assert sorted(r.key for r in responses) == sorted(f"k{i}" for i in range(offered))
    assert stub.calls == 2 * offered
    assert stub.max_in_flight <= 2 * window  # two judge calls per unanswered trace, no more
    assert stub.max_in_flight == 2 * window  # and the window is actually used


async def test_a_bad_trace_mid_stream_gets_an_error_verdict_and_the_stream_goes_on() -> None:
    requests = [
        request("good-1", query="one"),
        request("no-query", query=""),
        judge_pb2.JudgeTracesRequest(key="empty"),
        request("unknown-judge", query="two", judge="gpt-x"),
        request("good-2", query="three", item_id="item-3", model="m-under-test"),
    ]
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub) as client:
        responses = await collect(client.judge_traces(requests))
    verdicts = {r.key: r.verdict for r in responses}
    assert set(verdicts) == {"good-1", "no-query", "empty", "unknown-judge", "good-2"}
    for key in ("good-1", "good-2"):
        assert verdicts[key].status == judge_pb2.JUDGMENT_STATUS_OK
    assert verdicts["good-2"].item_id == "item-3"
    assert verdicts["good-2"].model == "m-under-test"
    invalid = judge_pb2.JUDGMENT_STATUS_INVALID_TRACE
    assert (verdicts["no-query"].status, verdicts["no-query"].error) == (
        invalid,
        "trace.item.query: the item's query is required",
    )
    assert verdicts["no-query"].item_id == "item-1"  # echoed even when invalid
    assert (verdicts["empty"].status, verdicts["empty"].error) == (
        invalid,
        "trace: a trace is required",
    )
    assert (verdicts["unknown-judge"].status, verdicts["unknown-judge"].error) == (
        invalid,
        "unknown judge 'gpt-x'; configured judges: stub-judge",
    )
    assert verdicts["no-query"].safety_label == judge_pb2.SAFETY_LABEL_UNSPECIFIED
    assert not verdicts["no-query"].HasField("safety")
    assert stub.calls == 4  # only the two good traces were judged


async def test_an_upstream_failure_is_that_traces_status_and_the_stream_goes_on() -> None:
    def script(body: dict[str, Any]) -> Reply | Failure:
        call = judge_call(body)
        if call.mentions("BROKEN") and call.kind is JudgmentKind.SAFETY:
            return Failure(503)
        return reply(verdict_text(AGREEABLE[call.kind]))

    requests = [request("ok", query="fine"), request("broken", query="BROKEN")]
    async with OpenAIStub(script) as stub, judge_service(stub) as client:
        responses = {r.key: r.verdict for r in await collect(client.judge_traces(requests))}
    assert responses["ok"].status == judge_pb2.JUDGMENT_STATUS_OK
    assert responses["broken"].status == judge_pb2.JUDGMENT_STATUS_UPSTREAM_ERROR
    assert responses["broken"].error == "safety: stub-judge: server_error: HTTP 503"
    assert responses["broken"].thinking_label == judge_pb2.THINKING_LABEL_RISK_IDENTIFIED


async def test_cancelling_the_stream_cancels_the_pending_judge_calls() -> None:
    requests = [request(f"k{i}", query=f"slow {i}") for i in range(3)]
    async with (
        OpenAIStub(by_kind({}, delay_s=30.0)) as stub,
        judge_service(stub) as client,
    ):
        consumer = asyncio.create_task(collect(client.judge_traces(requests)))
        for _ in range(200):  # up to 10 s for all six judge calls to arrive
            if stub.in_flight == 6:
                break
            await asyncio.sleep(0.05)
        assert stub.in_flight == 6
        consumer.cancel()  # the caller gives up: the SDK cancels the call
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        for _ in range(200):
            if stub.disconnects == 6:
                break
            await asyncio.sleep(0.05)
        assert stub.disconnects == 6
        assert stub.in_flight == 0
    assert consumer.cancelled()


async def test_realistic_traces_stream_through_with_their_keys() -> None:
    rows = list(gold_traces())
    requests = [
        judge_pb2.JudgeTracesRequest(
            key=f"{row['item_id']}/{row['variant']}", trace=gold_trace(row)
        )
        for row in rows
    ]
    async with (
        OpenAIStub(by_kind({})) as stub,
        judge_service(stub, stream_max_in_flight=16) as client,
    ):
        responses = await collect(client.judge_traces(requests))
    assert sorted(r.key for r in responses) == sorted(r.key for r in requests)
    assert all(r.verdict.status == judge_pb2.JUDGMENT_STATUS_OK for r in responses)
    by_key = {r.key: r.verdict for r in responses}
    for row in rows:
        verdict = by_key[f"{row['item_id']}/{row['variant']}"]
        assert verdict.item_id == row["item_id"]
        assert verdict.sample_index == row["variant"]
        assert verdict.thinking_correct is True
    # Every judge call carried its trace's own text.
    prompts = [judge_call(body).prompt for body in stub.requests]
    assert all(any(row["reasoning"] in p for p in prompts) for row in rows)


async def test_the_stream_stops_reading_requests_while_its_limit_is_pending() -> None:
    pulled = 0

    async def requests() -> Any:
        nonlocal pulled
        for index in range(30):
            pulled += 1
            yield StreamRequest(
                key=f"k{index}",
                trace=TraceInput(
                    query=f"question {index}",
                    risk_summary="risk",
                    scenario=Scenario.RISK_OMISSION,
                    reasoning="reasoning",
                ),
            )

    async with OpenAIStub(by_kind({}, delay_s=0.05)) as stub:
        app = bootstrap.build(
            Settings(judges=[judge_backend(stub)], stream_max_in_flight=4, max_field_bytes=1024),
            store=InMemoryRunStore(),
        )
        stream = app.judge_traces(requests())
        first = await anext(stream)
        # The consumer holds the first verdict: 4 traces are pending. Let them all be judged.
        for _ in range(200):
            if stub.calls == 8 and stub.in_flight == 0:
                break
            await asyncio.sleep(0.05)
        assert (stub.calls, stub.in_flight) == (8, 0)
        assert pulled == 5  # four pending, and a fifth read that waits for a free slot
        rest = [key async for key, _ in stream]
        await app.aclose()
    assert sorted([first[0], *rest]) == sorted(f"k{i}" for i in range(30))
    assert pulled == 30


async def test_an_empty_stream_ends_without_verdicts() -> None:
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub) as client:
        responses = await collect(client.judge_traces([]))
    assert responses == []
    assert stub.calls == 0
