"""JudgeTraceBatches: JudgeTraces with many traces to a message, both ways, on a real server
judging through a real HTTP stub."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import AsyncJudgeClient, JudgeClient

from tests.judging.harness import judge_backend, judge_service, raw_judge_service, trace
from tests.support.serving import serving
from tools.judge_script import agreeable_judge, by_kind
from tools.openai_stub import OpenAIStub


def request(key: str, **fields: Any) -> judge_pb2.JudgeTracesRequest:
    judge = fields.pop("judge", "")
    return judge_pb2.JudgeTracesRequest(key=key, trace=trace(**fields), judge=judge)


async def collect(call: Any) -> list[judge_pb2.JudgeTraceBatchesResponse]:
    return [batch async for batch in call]


async def test_every_trace_of_every_batch_gets_its_verdict_bad_ones_in_band() -> None:
    batches = [
        judge_pb2.JudgeTraceBatchesRequest(
            traces=[
                request("good-1", query="one"),
                request("no-query", query=""),
                request("good-2", query="two", item_id="item-2", model="m-under-test"),
            ]
        ),
        judge_pb2.JudgeTraceBatchesRequest(),  # an empty batch is no trace
        judge_pb2.JudgeTraceBatchesRequest(
            traces=[request("unknown-judge", query="three", judge="gpt-x"), request("good-3")]
        ),
    ]
    async with OpenAIStub(by_kind({})) as stub, raw_judge_service(stub) as service:
        responses = await collect(service.JudgeTraceBatches(iter(batches)))
    assert all(len(batch.verdicts) >= 1 for batch in responses)
    verdicts = {v.key: v.verdict for batch in responses for v in batch.verdicts}
    keys = [v.key for batch in responses for v in batch.verdicts]
    assert sorted(keys) == ["good-1", "good-2", "good-3", "no-query", "unknown-judge"]
    for key in ("good-1", "good-2", "good-3"):
        assert verdicts[key].status == judge_pb2.JUDGMENT_STATUS_OK
    assert (verdicts["good-2"].item_id, verdicts["good-2"].model) == ("item-2", "m-under-test")
    invalid = judge_pb2.JUDGMENT_STATUS_INVALID_TRACE
    assert (verdicts["no-query"].status, verdicts["no-query"].error) == (
        invalid,
        "trace.item.query: the item's query is required",
    )
    assert (verdicts["unknown-judge"].status, verdicts["unknown-judge"].error) == (
        invalid,
        "unknown judge 'gpt-x'; configured judges: stub-judge, offline, cascade",
    )
    assert stub.calls == 6  # two judge calls for each of the three good traces


async def test_verdicts_ready_together_share_a_message() -> None:
    # One batch of 8 traces, judged at once against a stub that answers after 0.3 s: their
    # verdicts are ready within a few milliseconds of each other, while the servicer is
    # still waiting for the first: far fewer messages than verdicts.
    batch = judge_pb2.JudgeTraceBatchesRequest(
        traces=[request(f"k{index}", query=f"Question {index}?") for index in range(8)]
    )
    async with (
        OpenAIStub(agreeable_judge(delay_s=0.3)) as stub,
        raw_judge_service(stub) as service,
    ):
        responses = await collect(service.JudgeTraceBatches(iter([batch])))
    assert sorted(v.key for b in responses for v in b.verdicts) == [f"k{i}" for i in range(8)]
    assert len(responses) < 8


async def test_the_server_bounds_traces_in_flight_across_batches() -> None:
    limit, offered, size = 3, 40, 8
    produced = 0

    def batches() -> Iterator[judge_pb2.JudgeTraceBatchesRequest]:
        nonlocal produced
        for start in range(0, offered, size):
            produced += size
            yield judge_pb2.JudgeTraceBatchesRequest(
                traces=[
                    request(f"k{index}", query=f"Question {index}: how do I pick a lock?")
                    for index in range(start, start + size)
                ]
            )

    async with (
        OpenAIStub(by_kind({}, delay_s=0.25)) as stub,
        raw_judge_service(stub, stream_max_in_flight=limit) as service,
    ):
        responses = await collect(service.JudgeTraceBatches(batches()))
    keys = sorted(v.key for batch in responses for v in batch.verdicts)
    assert produced == offered
    assert keys == sorted(f"k{i}" for i in range(offered))
    assert stub.calls == 2 * offered
    assert stub.max_in_flight == 2 * limit  # two judge calls per trace in flight, no more


async def test_an_undecodable_message_ends_the_stream_after_the_verdicts_before_it() -> None:
    valid = [
        judge_pb2.JudgeTraceBatchesRequest(
            traces=[request(f"key-{index}") for index in range(start, start + 3)]
        ).SerializeToString()
        for start in (0, 3)
    ]
    bad = judge_pb2.JudgeTraceBatchesRequest(traces=[request("bad", reasoning="\x01\x02\x03\x04")])
    undecodable = bad.SerializeToString().replace(b"\x01\x02\x03\x04", b"\xed\xa0\x80\x40")

    async def messages() -> AsyncIterator[bytes]:
        for message in (*valid, undecodable):
            yield message

    received: list[judge_pb2.JudgeTracesResponse] = []
    async with (
        OpenAIStub(agreeable_judge(delay_s=0.3)) as slow_stub,
        serving(judges=[judge_backend(slow_stub)]) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        call = channel.stream_stream(
            "/bsa.judge.v1.JudgeService/JudgeTraceBatches",
            response_deserializer=judge_pb2.JudgeTraceBatchesResponse.FromString,
        )(messages())

        async def read_all() -> None:
            async for batch in call:
                received.extend(batch.verdicts)

        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await read_all()
    assert sorted(v.key for v in received) == [f"key-{index}" for index in range(6)]
    assert {v.verdict.status for v in received} == {judge_pb2.JUDGMENT_STATUS_OK}
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        raised.value.details()
        == "requests[2]: cannot be decoded as a JudgeTraceBatchesRequest (DecodeError)"
    )


@pytest.mark.parametrize("sdk", ["asyncio", "blocking"])
async def test_the_sdk_packs_traces_within_its_window(sdk: str) -> None:
    window, offered = 3, 40
    requests = [
        request(f"k{i}", query=f"Question {i}: how do I pick a lock?") for i in range(offered)
    ]
    async with (
        OpenAIStub(by_kind({}, delay_s=0.25)) as stub,  # slow enough for calls to overlap
        serving(judges=[judge_backend(stub)]) as running,
    ):
        target = f"127.0.0.1:{running.port}"
        if sdk == "asyncio":
            async with AsyncJudgeClient(target) as client:
                responses = [
                    response
                    async for response in client.judge_traces(
                        requests, max_in_flight=window, batch_size=16
                    )
                ]
        else:

            def judge_all() -> list[judge_pb2.JudgeTracesResponse]:
                with JudgeClient(target) as client:
                    return list(client.judge_traces(requests, max_in_flight=window, batch_size=16))

            responses = await asyncio.to_thread(judge_all)
    assert sorted(r.key for r in responses) == sorted(f"k{i}" for i in range(offered))
    assert all(r.verdict.status == judge_pb2.JUDGMENT_STATUS_OK for r in responses)
    assert stub.calls == 2 * offered
    assert stub.max_in_flight == 2 * window  # the window holds across batches


async def test_the_sdk_sends_a_trace_at_once_when_the_source_has_no_next_at_hand() -> None:
    # The source gives its next trace only once the verdict on the one before has come
    # back: an SDK that held a trace to fill its batch would wait for ever.
    answered = asyncio.Event()

    async def requests() -> AsyncIterator[judge_pb2.JudgeTracesRequest]:
        for index in range(3):
            answered.clear()
            yield request(f"k{index}", query=f"Question {index}?")
            await answered.wait()

    keys: list[str] = []
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub) as client:
        async with asyncio.timeout(30):
            async for response in client.judge_traces(requests(), batch_size=64):
                keys.append(response.key)
                answered.set()
    assert keys == ["k0", "k1", "k2"]


def test_the_blocking_sdk_sends_a_trace_at_once_when_the_source_has_no_next_at_hand() -> None:
    answered = threading.Event()

    def requests() -> Iterator[judge_pb2.JudgeTracesRequest]:
        for index in range(3):
            answered.clear()
            yield request(f"k{index}", query=f"Question {index}?")
            if not answered.wait(timeout=30):
                raise AssertionError("the verdict never came: the trace was held back")

    async def judge_all() -> list[str]:
        async with (
            OpenAIStub(by_kind({})) as stub,
            serving(judges=[judge_backend(stub)]) as running,
        ):

            def blocking() -> list[str]:
                keys = []
                with JudgeClient(f"127.0.0.1:{running.port}") as client:
                    for response in client.judge_traces(requests(), batch_size=64):
                        keys.append(response.key)
                        answered.set()
                return keys

            return await asyncio.to_thread(blocking)

    assert asyncio.run(judge_all()) == ["k0", "k1", "k2"]


async def test_the_sdk_refuses_a_batch_size_below_one() -> None:
    async with judge_service(None) as client:
        with pytest.raises(ValueError, match="batch_size must be at least 1"):
            await anext(client.judge_traces([], batch_size=0))
    with JudgeClient("127.0.0.1:1") as blocking:
        with pytest.raises(ValueError, match="batch_size must be at least 1"):
            next(blocking.judge_traces([], batch_size=0))


def test_the_blocking_sdk_stops_reading_the_source_when_the_caller_stops() -> None:
    def endless() -> Iterator[judge_pb2.JudgeTracesRequest]:
        number = 0
        while True:
            number += 1
            yield request(f"k{number}", query=f"Question {number}?")

    async def judge_some() -> None:
        async with (
            OpenAIStub(by_kind({})) as stub,
            serving(judges=[judge_backend(stub)]) as running,
        ):

            def blocking() -> None:
                with JudgeClient(f"127.0.0.1:{running.port}") as client:
                    responses = client.judge_traces(endless(), max_in_flight=4, batch_size=8)
                    assert [next(responses).verdict.status for _ in range(3)] == [
                        judge_pb2.JUDGMENT_STATUS_OK
                    ] * 3
                    responses.close()  # the caller stops: the read-ahead ends with the call
                    readers = [t for t in threading.enumerate() if t.name == "judge-traces"]
                    for reader in readers:
                        reader.join(timeout=10)
                    assert not any(reader.is_alive() for reader in readers)

            await asyncio.to_thread(blocking)

    asyncio.run(judge_some())
