"""A judge endpoint failing one request in five, every way it can: 429 with Retry-After, 500,
503, a connection reset, a hang past the timeout, a truncated body, empty choices. Every trace
still ends with exactly one verdict (labels or an explicit status), no call is tried more
often than its retry budget allows, and the metrics count each fault under its cause."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from bsa.judge.v1 import judge_pb2
from prometheus_client import REGISTRY

from tests.judging.harness import judge_backend, judge_service, trace
from tools.judge_script import AGREEABLE, judge_call, reply, verdict_text
from tools.openai_stub import Failure, OpenAIStub, Reply

BACKEND, MODEL = "faulty-judge", "faulty-model"
MAX_RETRIES, REASKS, TRACES = 3, 2, 40
# Each fault, and the cause its retry or failure is counted under (None: not an upstream
# failure; empty choices are an unreadable answer, asked again by the judge).
FAULTS: list[tuple[str, Failure | Reply, str | None]] = [
    ("429", Failure(429, headers={"Retry-After": "0"}), "rate_limited"),
    ("500", Failure(500, headers={"retry-after-ms": "1"}), "server_error"),
    ("503", Failure(503, headers={"retry-after-ms": "1"}), "server_error"),
    ("reset", Failure(reset=True), "connection"),
    ("hang", Reply(delay_s=5.0), "timeout"),
    ("truncated", Failure(200, raw_body=b'{"id": "chatcmpl-stub", "choi'), "server_error"),
    ("empty choices", Failure(200, body={"id": "chatcmpl-stub", "choices": []}), None),
]


class FaultyJudge:
    """Answers agreeably, but every fifth request gets the next fault of FAULTS."""

    def __init__(self) -> None:
        self.requests = 0
        self.served: Counter[str] = Counter()
        self.bodies: Counter[str] = Counter()  # how often each distinct request was sent

    def __call__(self, body: dict[str, Any]) -> Failure | Reply:
        self.requests += 1
        self.bodies[json.dumps(body, sort_keys=True)] += 1
        if self.requests % 5 == 0:
            name, fault, _cause = FAULTS[(self.requests // 5 - 1) % len(FAULTS)]
            self.served[name] += 1
            return fault
        return reply(verdict_text(AGREEABLE[judge_call(body).kind]))


def total(name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(
        sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def by_cause(name: str) -> Counter[str]:
    causes = {cause for _, _, cause in FAULTS if cause is not None}
    return Counter({cause: total(name, backend=BACKEND, cause=cause) for cause in causes})


async def test_a_fifth_of_judge_calls_failing_every_way_loses_no_trace_and_counts_each_cause() -> (
    None
):
    judge = FaultyJudge()
    retries, errors = (
        by_cause("bsa_judge_upstream_retries_total"),
        by_cause("bsa_judge_upstream_errors_total"),
    )
    unparseable = total("bsa_judge_judge_unparseable_total", judge_model=MODEL)
    requests = [
        judge_pb2.JudgeTracesRequest(
            key=f"t{n}", trace=trace(reasoning=f"Not mine ({n}).", answer=f"No ({n}).")
        )
        for n in range(TRACES)
    ]
    async with OpenAIStub(judge) as stub:
        backend = judge_backend(
            stub, name=BACKEND, model=MODEL, max_retries=MAX_RETRIES, request_timeout_s=1.0
        )
        async with judge_service(stub, judges=[backend], judge_reasks=REASKS) as client:
            responses = [response async for response in client.judge_traces(requests)]
    assert sorted(response.key for response in responses) == sorted(r.key for r in requests)
    for response in responses:
        assert response.verdict.status != judge_pb2.JUDGMENT_STATUS_UNSPECIFIED
        if response.verdict.status == judge_pb2.JUDGMENT_STATUS_OK:
            assert response.verdict.safety_label == judge_pb2.SAFETY_LABEL_SAFE
        else:
            assert response.verdict.error
    assert set(judge.served) == {name for name, _, _ in FAULTS}  # every fault was met
    # Within budget: a first question is sent at most 1 + MAX_RETRIES times; the same
    # re-ask (after an empty answer) at most that for each of the REASKS re-asks.
    first = [n for body, n in judge.bodies.items() if len(json.loads(body)["messages"]) == 1]
    reasks = [n for body, n in judge.bodies.items() if len(json.loads(body)["messages"]) > 1]
    assert max(first) <= 1 + MAX_RETRIES
    assert max(reasks, default=0) <= (1 + MAX_RETRIES) * REASKS
    assert max(first) > 1  # faults did cause retries
    # Each fault served was either retried or, past the budget, reported: under its cause.
    served_by_cause: Counter[str] = Counter()
    for name, _, cause in FAULTS:
        if cause is not None:
            served_by_cause[cause] += judge.served[name]
    counted = (by_cause("bsa_judge_upstream_retries_total") - retries) + (
        by_cause("bsa_judge_upstream_errors_total") - errors
    )
    assert counted == served_by_cause
    empty = total("bsa_judge_judge_unparseable_total", judge_model=MODEL) - unparseable
    assert empty == judge.served["empty choices"]
