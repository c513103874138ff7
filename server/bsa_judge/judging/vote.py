"""Majority vote of several judge models on one trace.

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

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.judging.judgment import JudgeVote, Judgment, Label


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
