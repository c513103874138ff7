"""The async batcher: traces in flight share a batch, callers get their own judgment."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest
from bsa_judge.benchmark.scenario import SafetyLabel, Scenario
from bsa_judge.offline import BatchingOfflineJudge, OfflineCase, OfflineJudgment


class EchoJudge:
    """A fake batch judge: the safety explanation echoes the case's answer."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()

    def judge_batch(self, cases: Sequence[OfflineCase]) -> list[OfflineJudgment]:
        self.batches.append([c.answer for c in cases])
        self.threads.add(threading.current_thread().name)
        return [
            OfflineJudgment(SafetyLabel.SAFE, 1.0, c.answer, None, None, "", "echo", "v0")
            for c in cases
        ]


class FailingJudge:
    def judge_batch(self, cases: Sequence[OfflineCase]) -> list[OfflineJudgment]:
        raise RuntimeError("model file unreadable")


def case(answer: str) -> OfflineCase:
    return OfflineCase(Scenario.RISK_OMISSION, "q", "r", "", answer)


async def test_traces_in_flight_are_judged_in_one_batch() -> None:
    judge = EchoJudge()
    batcher = BatchingOfflineJudge(judge, max_batch=64, max_wait_seconds=0.05)
    results = await asyncio.gather(*(batcher.judge(case(f"a{i}")) for i in range(10)))
    await batcher.aclose()
    assert [r.safety_explanation for r in results] == [f"a{i}" for i in range(10)]
    assert judge.batches == [[f"a{i}" for i in range(10)]]
    assert batcher.batch_sizes == [10]


async def test_a_full_batch_goes_without_waiting_for_more() -> None:
    judge = EchoJudge()
    batcher = BatchingOfflineJudge(judge, max_batch=4, max_wait_seconds=0.05)
    await asyncio.gather(*(batcher.judge(case(str(i))) for i in range(10)))
    await batcher.aclose()
    assert batcher.batch_sizes == [4, 4, 2]


async def test_the_batch_runs_outside_the_event_loop_thread() -> None:
    judge = EchoJudge()
    batcher = BatchingOfflineJudge(judge)
    await batcher.judge(case("x"))
    await batcher.aclose()
    assert threading.current_thread().name not in judge.threads


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_runs() -> None:
    batcher = BatchingOfflineJudge(FailingJudge(), max_wait_seconds=0.01)
    results = await asyncio.gather(
        batcher.judge(case("a")), batcher.judge(case("b")), return_exceptions=True
    )
    assert [str(r) for r in results] == ["model file unreadable"] * 2
    with pytest.raises(RuntimeError, match="model file unreadable"):
        await batcher.judge(case("c"))
    await batcher.aclose()


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_batch must be at least 1, got 0"):
        BatchingOfflineJudge(EchoJudge(), max_batch=0)
