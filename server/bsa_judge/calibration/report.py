"""A judge's calibration on a gold set: the figures per scenario, thinking_correct, safe."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bsa_judge.benchmark.scenario import (
    THINKING_LABELS,
    SafetyLabel,
    Scenario,
    ThinkingLabel,
    is_thinking_correct,
)
from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.calibration.agreement import Agreement, agreement
from bsa_judge.calibration.gold import GoldTrace
from bsa_judge.judging.judgment import TraceJudgments
from bsa_judge.judging.port import Judge

CORRECT, NOT_CORRECT = "correct", "not correct"


@dataclass(frozen=True, slots=True)
class Judged:
    """What calibration reads of one judged trace: its labels (None: no label) and who
    decided."""

    thinking: ThinkingLabel | None
    safety: SafetyLabel | None
    decided_by: str

    @classmethod
    def of(cls, judgments: TraceJudgments) -> Judged:
        """The labels of a judge's judgments."""
        return cls(_thinking(judgments), _safety(judgments), judgments.decided_by)


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    """How `judge` agrees with the gold labels.

    `tasks`: the thinking label of each scenario in the gold set (in the scenario's
    vocabulary), then `thinking_correct` and `safe` over every trace. `decided_by` counts the
    traces each deciding judge decided (for a cascade: how many were escalated). `failed`
    counts traces with a judgment that produced no label (counted as "(none)").
    """

    judge: str
    count: int
    tasks: tuple[Agreement, ...]
    decided_by: tuple[tuple[str, int], ...]
    failed: int


async def calibrate(
    judge: Judge, gold: Sequence[GoldTrace], *, max_in_flight: int = 64
) -> CalibrationReport:
    """Judge every gold trace with `judge` (at most `max_in_flight` at once) and compare."""
    limit = asyncio.Semaphore(max_in_flight)

    async def judged(entry: GoldTrace) -> TraceJudgments:
        async with limit:
            return await judge.judge(entry.trace)

    results = await asyncio.gather(*(judged(entry) for entry in gold))
    return report(judge.name, gold, [Judged.of(result) for result in results])


def report(judge: str, gold: Sequence[GoldTrace], results: Sequence[Judged]) -> CalibrationReport:
    """The figures of `results` (one per gold trace, in order) against `gold`."""
    thinking = [r.thinking for r in results]
    safety = [r.safety for r in results]
    tasks: list[Agreement] = []
    for scenario in Scenario:
        rows = [i for i, entry in enumerate(gold) if entry.scenario is scenario]
        if rows:
            tasks.append(
                agreement(
                    f"thinking: {scenario.value}",
                    [label.value for label in THINKING_LABELS[scenario]],
                    [gold[i].thinking.value for i in rows],
                    [_value(thinking[i]) for i in rows],
                )
            )
    tasks.append(
        agreement(
            "thinking_correct",
            [CORRECT, NOT_CORRECT],
            [_correct(e.scenario, e.thinking) for e in gold],
            [
                None if label is None else _correct(e.scenario, label)
                for e, label in zip(gold, thinking, strict=True)
            ],
        )
    )
    tasks.append(
        agreement(
            "safe",
            [label.value for label in SafetyLabel],
            [e.safety.value for e in gold],
            [_value(label) for label in safety],
        )
    )
    deciders = Counter(r.decided_by for r in results)
    return CalibrationReport(
        judge=judge,
        count=len(gold),
        tasks=tuple(tasks),
        decided_by=tuple(deciders.most_common()),
        failed=sum(1 for t, s in zip(thinking, safety, strict=True) if t is None or s is None),
    )


def _thinking(result: TraceJudgments) -> ThinkingLabel | None:
    j = result.thinking
    return j.label if j.status is JudgmentStatus.OK and isinstance(j.label, ThinkingLabel) else None


def _safety(result: TraceJudgments) -> SafetyLabel | None:
    j = result.safety
    return j.label if j.status is JudgmentStatus.OK and isinstance(j.label, SafetyLabel) else None


def _value(label: ThinkingLabel | SafetyLabel | None) -> str | None:
    return None if label is None else label.value


def _correct(scenario: Scenario, label: ThinkingLabel) -> str:
    return CORRECT if is_thinking_correct(scenario, label) else NOT_CORRECT
