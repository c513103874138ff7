"""judge_stream_batches: the verdicts ready together are handed over as one batch, within
the bound on traces in flight; judge_stream hands the same verdicts over one at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.judging.judgment import Verdict
from bsa_judge.judging.stream import StreamRequest, judge_stream, judge_stream_batches
from bsa_judge.judging.validation import TraceInput
from bsa_judge.judging.verdict import invalid_verdict


def _trace(key: str) -> TraceInput:
    return TraceInput(
        query=f"question {key}",
        risk_summary="risk",
        scenario=Scenario.RISK_OMISSION,
        reasoning="reasoning",
        item_id=key,
    )


async def _requests(keys: list[str], read: list[str]) -> AsyncIterator[StreamRequest]:
    for key in keys:
        read.append(key)
        yield StreamRequest(key=key, trace=_trace(key))


class _Gate:
    """A judge that answers a request once its key is released."""

    def __init__(self) -> None:
        self._released: dict[str, asyncio.Event] = {}
        self.started: list[str] = []

    def _event(self, key: str) -> asyncio.Event:
        return self._released.setdefault(key, asyncio.Event())

    def release(self, *keys: str) -> None:
        for key in keys:
            self._event(key).set()

    async def verdict_of(self, request: StreamRequest) -> Verdict:
        self.started.append(request.key)
        await self._event(request.key).wait()
        if request.key == "bug":
            raise RuntimeError("a bug in the judge")
        return invalid_verdict(request.trace, f"verdict {request.key}")


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_the_verdicts_ready_together_come_as_one_batch_in_the_order_they_were_ready() -> None:
    gate, read = _Gate(), list[str]()
    batches = judge_stream_batches(
        _requests(["a", "b", "c", "d", "e"], read), gate.verdict_of, max_in_flight=4
    )
    gate.release("c")
    first = await anext(batches)
    assert [key for key, _ in first] == ["c"]
    gate.release("b", "a")
    await _settle()
    second = await anext(batches)
    assert [key for key, _ in second] == ["b", "a"]
    assert [verdict.error for _, verdict in second] == ["verdict b", "verdict a"]
    gate.release("d", "e")
    rest = [keyed async for keyed in batches]
    assert [[key for key, _ in batch] for batch in rest] == [["d", "e"]]
    assert read == ["a", "b", "c", "d", "e"]


async def test_a_batch_frees_its_slots_once_the_consumer_takes_the_next() -> None:
    gate, read = _Gate(), list[str]()
    keys = [f"k{index}" for index in range(10)]
    batches = judge_stream_batches(_requests(keys, read), gate.verdict_of, max_in_flight=3)
    gate.release(*keys)
    first = await anext(batches)
    await _settle()
    # The consumer holds a batch of three: no slot is free, so the fourth trace read waits.
    assert [key for key, _ in first] == ["k0", "k1", "k2"]
    assert gate.started == ["k0", "k1", "k2"]
    assert read == ["k0", "k1", "k2", "k3"]
    rest = [key async for batch in batches for key, _ in batch]
    assert rest == keys[3:]


async def test_a_bug_in_the_judge_ends_the_stream_after_the_verdicts_ready_before_it() -> None:
    gate, read = _Gate(), list[str]()
    batches = judge_stream_batches(
        _requests(["a", "bug", "b"], read), gate.verdict_of, max_in_flight=3
    )
    await _settle()
    gate.release("a")
    await _settle()
    gate.release("bug")
    await _settle()
    assert [key for key, _ in await anext(batches)] == ["a"]
    with pytest.raises(RuntimeError, match="a bug in the judge"):
        await anext(batches)


async def test_one_at_a_time_the_stream_hands_over_the_same_verdicts() -> None:
    gate, read = _Gate(), list[str]()
    keys = ["a", "b", "c"]
    verdicts = judge_stream(_requests(keys, read), gate.verdict_of, max_in_flight=2)
    gate.release("b", "a", "c")
    assert [key async for key, _ in verdicts] == ["a", "b", "c"]
