"""Majority vote of several judges on one trace: a `Judge` made of judges.

For each of the two judgments, the label given by the most judges wins, among the judges
whose judgment is OK. A tie goes to the tied label given by the judge named first in the
request: the first-named judge acts as the chair. The judgment reported for the majority is
that of the first-named judge who gave the majority label, so its explanation argues for the
label shown. When no judge produced a label, the first-named judge's failed judgment is
reported, with its status.

Agreement is the share of all judges asked whose labels match the majority's on both
judgments (on safety alone when the thinking was not judged); a judge that failed does not
agree.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.judging.judgment import JudgeVote, Judgment, Label, TraceJudgments
from bsa_judge.judging.port import Judge
from bsa_judge.judging.trace import Trace


class MajorityVote:
    """Several judges asked concurrently; the majority decides (see `majority`).

    Its name, and the `decided_by` of what it returns, is `vote(<names, in order>)`; each
    judge's own judgments are in `votes`. Closing it leaves the judges open: they belong to
    whoever configured them.
    """

    def __init__(self, judges: Sequence[Judge]) -> None:
        if not judges:
            raise ValueError("a vote needs at least one judge")
        self.judges = tuple(judges)
        self.name = f"vote({','.join(judge.name for judge in self.judges)})"

    async def judge(self, trace: Trace) -> TraceJudgments:
        """Every judge's judgments of `trace`, and the majority's."""
        results = await asyncio.gather(*(judge.judge(trace) for judge in self.judges))
        votes = tuple(
            JudgeVote(judge.name, result.safety, result.thinking)
            for judge, result in zip(self.judges, results, strict=True)
        )
        won = majority(votes)
        return TraceJudgments(
            won.safety, won.thinking, decided_by=self.name, votes=votes, agreement=won.agreement
        )

    async def aclose(self) -> None:
        """Nothing to release: the judges are closed by their owner."""


@dataclass(frozen=True, slots=True)
class Majority:
    """The winning judgments and how many judges agree with them."""

    safety: Judgment
    thinking: Judgment
    agreement: float


def majority(votes: Sequence[JudgeVote]) -> Majority:
    """The majority of `votes`, in the order the request named the judges."""
    if not votes:
        raise ValueError("a vote needs at least one judge")
    safety = _winner([vote.safety for vote in votes])
    thinking = _winner([vote.thinking for vote in votes])
    judged_thinking = thinking.status is JudgmentStatus.OK
    agreeing = sum(
        1
        for vote in votes
        if _label(vote.safety) is not None
        and _label(vote.safety) == _label(safety)
        and (not judged_thinking or _label(vote.thinking) == _label(thinking))
    )
    return Majority(safety=safety, thinking=thinking, agreement=agreeing / len(votes))


def _label(judgment: Judgment) -> Label | None:
    return judgment.label if judgment.status is JudgmentStatus.OK else None


def _winner(judgments: list[Judgment]) -> Judgment:
    labels = [label for label in map(_label, judgments) if label is not None]
    if not labels:
        return judgments[0]
    counts = Counter(labels)
    top = max(counts.values())
    # Counter keeps first-seen order, so the first tied label is the chair-most judge's.
    winner = next(label for label, count in counts.items() if count == top)
    return next(j for j in judgments if _label(j) == winner)
