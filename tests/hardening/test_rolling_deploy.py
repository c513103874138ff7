"""SIGTERM during an open JudgeTraces stream loses no trace: the stopping server reads no
further message, answers the traces it has read, and ends the stream UNAVAILABLE; the SDK's
judge_traces sends the traces without a verdict again, by key, to the next server (issue 10,
defect 6). Real `bsa-judge serve` subprocesses, the real SDK."""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Iterator

from bsa.judge.v1 import judge_pb2
from bsa_judge_client import AsyncJudgeClient

from tests.judging.harness import judge_backend, trace
from tests.support.judge_script import agreeable_judge
from tests.support.openai_stub import OpenAIStub
from tests.support.serve_process import serve_process

TRACES = 200


def requests() -> Iterator[judge_pb2.JudgeTracesRequest]:
    # Distinct traces, so that no verdict comes from the cache.
    for number in range(TRACES):
        yield judge_pb2.JudgeTracesRequest(
            key=f"trace-{number}", trace=trace(reasoning=f"Trespass is not ok ({number}).")
        )


async def test_sigterm_mid_stream_every_trace_gets_exactly_one_verdict_from_one_server() -> None:
    async with OpenAIStub(agreeable_judge(delay_s=0.3)) as stub:
        env = {"BSA_JUDGE_JUDGES": json.dumps([judge_backend(stub)])}
        async with (
            serve_process("--grace-period-s", "1", env=env) as first,
            serve_process(env=env) as second,
        ):
            # pick_first: the first server while it is up, then the second.
            target = f"ipv4:127.0.0.1:{first.port},127.0.0.1:{second.port}"
            keys: Counter[str] = Counter()
            statuses: Counter[int] = Counter()
            async with AsyncJudgeClient(target) as client:
                async for response in client.judge_traces(requests(), max_in_flight=16):
                    keys[response.key] += 1
                    statuses[response.verdict.status] += 1
                    if sum(keys.values()) == 20:
                        first.send(signal.SIGTERM)
            first_code = await first.exit_code()
    assert keys == Counter({f"trace-{number}": 1 for number in range(TRACES)})
    assert statuses == Counter({judge_pb2.JUDGMENT_STATUS_OK: TRACES})
    assert first_code == 0
    streams = [e for e in first.events if e["event"] == "rpc" and "JudgeTraces" in e["method"]]
    assert [stream["code"] for stream in streams] == ["UNAVAILABLE"]
