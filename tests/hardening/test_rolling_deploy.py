"""SIGTERM during an open JudgeTraces stream loses no trace: the stopping server reads no
further message, answers the traces it has read, and ends the stream UNAVAILABLE; the SDK's
judge_traces sends the traces without a verdict again, by key, to the next server (issue 10,
defect 6). Real `bsa-judge serve` subprocesses, the real SDK."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from collections.abc import Iterator

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import AsyncJudgeClient, JudgeClient

from tests.judging.harness import judge_backend, trace
from tests.support.serve_process import serve_process
from tools.judge_script import agreeable_judge
from tools.openai_stub import OpenAIStub

TRACES = 200


def requests() -> Iterator[judge_pb2.JudgeTracesRequest]:
    # Distinct traces, so that no verdict comes from the cache.
    for number in range(TRACES):
        yield judge_pb2.JudgeTracesRequest(
            key=f"trace-{number}", trace=trace(reasoning=f"Trespass is not ok ({number}).")
        )


@pytest.mark.parametrize("sdk", ["asyncio", "asyncio-batches", "blocking", "blocking-batches"])
async def test_sigterm_mid_stream_every_trace_gets_exactly_one_verdict_from_one_server(
    sdk: str,
) -> None:
    async with OpenAIStub(agreeable_judge(delay_s=0.3)) as stub:
        env = {"BSA_JUDGE_JUDGES": json.dumps([judge_backend(stub)])}
        async with (
            serve_process("--grace-period-s", "1", env=env) as first,
            serve_process(env=env) as second,
        ):
            # pick_first: the first server while it is up, then the second.
            target = f"ipv4:127.0.0.1:{first.port},127.0.0.1:{second.port}"
            verdicts: list[judge_pb2.JudgeTracesResponse] = []

            def received(response: judge_pb2.JudgeTracesResponse) -> None:
                verdicts.append(response)
                if len(verdicts) == 20:
                    first.send(signal.SIGTERM)

            if sdk.startswith("asyncio"):
                batch_size = 8 if sdk == "asyncio-batches" else 1
                async with AsyncJudgeClient(target) as client:
                    async for response in client.judge_traces(
                        requests(), max_in_flight=16, batch_size=batch_size
                    ):
                        received(response)
            else:
                batch_size = 8 if sdk == "blocking-batches" else 1

                def judge_all() -> None:
                    with JudgeClient(target) as client:
                        for response in client.judge_traces(
                            requests(), max_in_flight=16, batch_size=batch_size
                        ):
                            received(response)

                await asyncio.to_thread(judge_all)
            first_code = await first.exit_code()
    keys = Counter(response.key for response in verdicts)
    assert keys == Counter({f"trace-{number}": 1 for number in range(TRACES)})
    statuses = Counter(response.verdict.status for response in verdicts)
    assert statuses == Counter({judge_pb2.JUDGMENT_STATUS_OK: TRACES})
    assert first_code == 0
    method = "/JudgeTraceBatches" if sdk.endswith("-batches") else "/JudgeTraces"
    streams = [e for e in first.events if e["event"] == "rpc" and e["method"].endswith(method)]
    assert [stream["code"] for stream in streams] == ["UNAVAILABLE"]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("sdk", ["asyncio", "blocking"])
async def test_no_server_ever_up_fails_unavailable_after_the_reconnect_wait(sdk: str) -> None:
    # Before the bounded wait, every resubmission waited for a server forever: the call hung
    # (`bsa-judge calibrate --server` at a port nobody listens on never returned).
    target = f"127.0.0.1:{_closed_port()}"
    if sdk == "asyncio":

        async def judge_all() -> None:
            async with AsyncJudgeClient(target, reconnect_timeout_s=0.5) as client:
                async for _ in client.judge_traces(requests(), max_in_flight=4):
                    pass

        call = judge_all()
    else:

        def judge_all_blocking() -> None:
            with JudgeClient(target, reconnect_timeout_s=0.5) as client:
                for _ in client.judge_traces(requests(), max_in_flight=4):
                    pass

        call = asyncio.to_thread(judge_all_blocking)
    # The outer bound only turns a regression (a hang) into a failure.
    with pytest.raises(grpc.RpcError) as raised:
        await asyncio.wait_for(call, timeout=60)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
