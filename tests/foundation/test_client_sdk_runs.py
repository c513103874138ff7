"""The client SDK's run methods against a real loopback server running a small JudgeService
of the test's own: dicts become the contract's messages, and evaluate_items bounds the items
in flight by whole items (k responses each), not by responses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from bsa_judge_client import AsyncJudgeClient, JudgeClient, PendingItems

from tests.support.loopback_servicer import serving_servicer

K = 3


class RunJudge(judge_pb2_grpc.JudgeServiceServicer):
    """Records the run requests; answers every item with one response per sample."""

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.hold_until = 1
        self.most_unfinished = 0  # most items received and not yet fully answered

    async def CreateRun(  # noqa: N802
        self, request: judge_pb2.CreateRunRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> judge_pb2.CreateRunResponse:
        self.received.append(request)
        return judge_pb2.CreateRunResponse(
            run=judge_pb2.Run(run_id=request.run_id or "made-up", settings=request.settings),
            created=True,
        )

    async def GetRun(  # noqa: N802
        self, request: judge_pb2.GetRunRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> judge_pb2.GetRunResponse:
        self.received.append(request)
        return judge_pb2.GetRunResponse(
            run=judge_pb2.Run(run_id=request.run_id, progress=judge_pb2.RunProgress(items=7))
        )

    async def ListRuns(  # noqa: N802
        self, request: judge_pb2.ListRunsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> judge_pb2.ListRunsResponse:
        self.received.append(request)
        return judge_pb2.ListRunsResponse(
            runs=[judge_pb2.Run(run_id="r2"), judge_pb2.Run(run_id="r1")], next_page_token="p2"
        )

    async def ExportRun(  # noqa: N802
        self, request: judge_pb2.ExportRunRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[judge_pb2.ExportRunResponse]:
        self.received.append(request)
        for index in range(2):
            yield judge_pb2.ExportRunResponse(
                item_id="a", sample=judge_pb2.Sample(sample_index=index)
            )

    async def EvaluateItems(  # noqa: N802
        self,
        requests: AsyncIterator[judge_pb2.EvaluateItemsRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[judge_pb2.EvaluateItemsResponse]:
        waiting: list[judge_pb2.EvaluateItemsRequest] = []
        unfinished = 0
        changed = asyncio.Condition()
        reading_done = False

        async def read() -> None:
            nonlocal reading_done, unfinished
            async for request in requests:
                async with changed:
                    self.received.append(request)
                    waiting.append(request)
                    unfinished += 1
                    self.most_unfinished = max(self.most_unfinished, unfinished)
                    changed.notify_all()
            async with changed:
                reading_done = True
                changed.notify_all()

        reader = asyncio.create_task(read())
        try:
            while True:
                async with changed:
                    await changed.wait_for(lambda: len(waiting) >= self.hold_until or reading_done)
                async with changed:
                    batch, waiting[:] = waiting[:], []
                if not batch:
                    break
                # Every sample but the last of each item; a client that freed a slot before
                # an item's last sample would send more meanwhile, and show in most_unfinished.
                for request in batch:
                    for index in range(K - 1):
                        yield _response(request, index)
                await asyncio.sleep(0.02)
                for request in batch:
                    yield _response(request, K - 1)
                    async with changed:
                        unfinished -= 1
        finally:
            reader.cancel()


def _response(
    request: judge_pb2.EvaluateItemsRequest, index: int
) -> judge_pb2.EvaluateItemsResponse:
    return judge_pb2.EvaluateItemsResponse(
        item_id=request.item.id,
        sample=judge_pb2.Sample(sample_index=index, answer=f"answer {index}"),
        verdict=judge_pb2.Verdict(item_id=request.item.id, sample_index=index),
    )


@pytest.fixture
async def judge() -> AsyncIterator[tuple[RunJudge, str]]:
    servicer = RunJudge()
    async with serving_servicer(servicer) as target:
        yield servicer, target


SETTINGS = {
    "model": "qwen3",
    "selection": {
        "dataset": "dataset.csv",
        "description": "scenario=RO limit=10",
        "item_count": 10,
        "items_digest": "ab" * 32,
    },
    "k": K,
    "decoding": {"temperature": 0.6, "top_p": 0.95, "seed": 7},
    "safety_rules": True,
    "judge": "gpt-judge",
    "sample_source": "SAMPLE_SOURCE_GENERATED",
}


def _items(count: int) -> Iterator[dict[str, Any]]:
    for index in range(count):
        yield {
            "run_id": "r1",
            "item": {"id": f"i{index}", "query": "q", "scenario": "SCENARIO_RISK_OMISSION"},
        }


async def test_run_requests_as_dicts_arrive_as_the_contracts_messages(
    judge: tuple[RunJudge, str],
) -> None:
    servicer, target = judge
    async with AsyncJudgeClient(target) as client:
        created = await client.create_run({"run_id": "r1", "settings": SETTINGS})
        got = await client.get_run({"run_id": "r1"})
        page = await client.list_runs({"page_size": 2})
        exported = [
            (r.item_id, r.sample.sample_index) async for r in client.export_run({"run_id": "r1"})
        ]
    assert servicer.received[0] == judge_pb2.CreateRunRequest(
        run_id="r1",
        settings=judge_pb2.RunSettings(
            model="qwen3",
            selection=judge_pb2.ItemSelection(
                dataset="dataset.csv",
                description="scenario=RO limit=10",
                item_count=10,
                items_digest="ab" * 32,
            ),
            k=K,
            decoding=judge_pb2.DecodingSettings(temperature=0.6, top_p=0.95, seed=7),
            safety_rules=True,
            judge="gpt-judge",
            sample_source=judge_pb2.SAMPLE_SOURCE_GENERATED,
        ),
    )
    assert (created.run.run_id, created.created) == ("r1", True)
    assert (got.run.run_id, got.run.progress.items) == ("r1", 7)
    assert servicer.received[2] == judge_pb2.ListRunsRequest(page_size=2)
    assert ([r.run_id for r in page.runs], page.next_page_token) == (["r2", "r1"], "p2")
    assert exported == [("a", 0), ("a", 1)]


async def test_the_blocking_client_has_the_same_run_methods(
    judge: tuple[RunJudge, str],
) -> None:
    _, target = judge

    def calls() -> tuple[judge_pb2.CreateRunResponse, list[str], int, judge_pb2.GetRunResponse]:
        with JudgeClient(target) as client:
            return (
                client.create_run({"settings": SETTINGS}),
                [r.run_id for r in client.list_runs().runs],
                len(list(client.export_run({"run_id": "r1"}))),
                client.get_run(judge_pb2.GetRunRequest(run_id="r9")),
            )

    created, runs, exported, got = await asyncio.to_thread(calls)
    assert created.run.run_id == "made-up"
    assert (runs, exported, got.run.run_id) == (["r2", "r1"], 2, "r9")


async def test_evaluate_items_keeps_at_most_max_in_flight_items_unfinished(
    judge: tuple[RunJudge, str],
) -> None:
    servicer, target = judge
    servicer.hold_until = 3
    pending = PendingItems(K)

    def stream() -> list[tuple[str, int]]:
        with JudgeClient(target) as client:
            return [
                (r.item_id, r.sample.sample_index)
                for r in client.evaluate_items(_items(10), k=K, max_in_flight=3, pending=pending)
            ]

    answered = await asyncio.to_thread(stream)
    assert sorted(answered) == sorted((f"i{n}", index) for n in range(10) for index in range(K))
    assert (len(servicer.received), servicer.most_unfinished, len(pending)) == (10, 3, 0)


async def test_the_async_evaluate_items_is_bounded_by_items_too(
    judge: tuple[RunJudge, str],
) -> None:
    servicer, target = judge
    servicer.hold_until = 4

    async def lazily() -> AsyncIterator[dict[str, Any]]:
        for request in _items(9):
            yield request

    async with AsyncJudgeClient(target) as client:
        answered = [r.item_id async for r in client.evaluate_items(lazily(), k=K, max_in_flight=4)]
    assert sorted(answered) == sorted(f"i{n}" for n in range(9) for _ in range(K))
    assert (len(servicer.received), servicer.most_unfinished) == (9, 4)


def test_pending_items_count_k_responses_or_one_per_sample_sent_or_one_error() -> None:
    pending = PendingItems(k=2)
    generated = judge_pb2.EvaluateItemsRequest(item=judge_pb2.Item(id="a"))
    submitted = judge_pb2.EvaluateItemsRequest(
        item=judge_pb2.Item(id="b"),
        samples=[judge_pb2.Sample(sample_index=i) for i in (0, 1, 4)],
    )
    refused = judge_pb2.EvaluateItemsRequest(item=judge_pb2.Item(id="c"))
    for request in (generated, submitted, refused):
        pending.sent(request)

    def answer(item_id: str, error: str = "") -> bool:
        return pending.answered(judge_pb2.EvaluateItemsResponse(item_id=item_id, error=error))

    assert [answer("a"), answer("a")] == [False, True]
    assert [answer("b"), answer("b"), answer("b")] == [False, False, True]
    assert len(pending) == 1
    assert answer("c", error="item.query: empty") is True
    assert (len(pending), answer("zzz")) == (0, False)
