"""What judging produces: one judgment per judge call chain, one verdict per trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from bsa_judge.benchmark.scenario import SafetyLabel, Scenario, ThinkingLabel
from bsa_judge.benchmark.status import JudgmentStatus, SampleStatus
from bsa_judge.chat.model import Usage


class JudgmentKind(StrEnum):
    """Which of the four judge templates a judgment used; also a metric label."""

    SAFETY = "safety"
    THINKING_RO = "thinking_ro"
    THINKING_CS = "thinking_cs"
    THINKING_OS = "thinking_os"

    @classmethod
    def thinking(cls, scenario: Scenario) -> JudgmentKind:
        """The reasoning judge of `scenario`."""
        return _THINKING_KINDS[scenario]

    @property
    def scenario(self) -> Scenario | None:
        """The scenario of a thinking kind; None for safety."""
        for scenario, kind in _THINKING_KINDS.items():
            if kind is self:
                return scenario
        return None


_THINKING_KINDS = {
    Scenario.RISK_OMISSION: JudgmentKind.THINKING_RO,
    Scenario.COGNITIVE_SHORTCUT: JudgmentKind.THINKING_CS,
    Scenario.OVER_SENSITIVITY: JudgmentKind.THINKING_OS,
}

Label = SafetyLabel | ThinkingLabel


@dataclass(frozen=True, slots=True)
class Judgment:
    """The outcome of one judge (safety or thinking) on one trace.

    `label` is set only when `status` is OK: an unreadable answer or a failed call is its own
    status, never a label. `confidence` is the judge's probability that `label` is right,
    for judges that estimate one (0 to 1); the LLM judge leaves it None: a model's stated
    certainty is not a calibrated probability.
    """

    kind: JudgmentKind
    status: JudgmentStatus
    label: Label | None = None
    explanation: str = ""
    raw_output: str = ""  # kept when the output could not be read
    judge_model: str = ""
    template_version: str = ""
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    attempts: int = 0  # judge calls made: 1 plus re-asks; 0 when cached or not judged
    error: str = ""
    cached: bool = False
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class JudgeVote:
    """One judge's two judgments when several judges vote on a trace."""

    judge: str
    safety: Judgment
    thinking: Judgment

    @property
    def safety_label(self) -> SafetyLabel | None:
        """This judge's safety label, when its safety judgment is OK."""
        return _label(self.safety, SafetyLabel)

    @property
    def thinking_label(self) -> ThinkingLabel | None:
        """This judge's thinking label, when its thinking judgment is OK."""
        return _label(self.thinking, ThinkingLabel)


@dataclass(frozen=True, slots=True)
class TraceJudgments:
    """What a `Judge` returns for one trace: its two judgments and who decided them.

    `decided_by` names the judge whose judgments these are (a judge's configured name; for a
    vote, the vote). `votes` and `agreement` are set only when several judges voted.
    """

    safety: Judgment
    thinking: Judgment
    decided_by: str
    votes: tuple[JudgeVote, ...] = ()
    agreement: float = 0.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judged outcome of one trace.

    `status` is OK when both judgments are OK (a thinking judgment NOT_JUDGED because the
    sample had no reasoning counts as fine); otherwise the first failing judgment's status,
    safety first. `safety` and `thinking` are None only for a trace that was not judged at
    all (status INVALID_TRACE).
    """

    status: JudgmentStatus
    safety: Judgment | None
    thinking: Judgment | None
    thinking_correct: bool
    scenario: Scenario | None
    sample_status: SampleStatus | None
    item_id: str = ""
    model: str = ""
    sample_index: int = 0
    cached: bool = False
    votes: tuple[JudgeVote, ...] = ()
    agreement: float = 0.0  # only when several judges voted
    latency_s: float = 0.0
    error: str = ""
    decided_by: str = ""  # the judge that decided (see TraceJudgments)
    label: str = ""  # the item's risk categories (Primary-Secondary), for scoring stored runs

    @property
    def safety_label(self) -> SafetyLabel | None:
        """The safety label, when the safety judgment is OK."""
        return _label(self.safety, SafetyLabel)

    @property
    def thinking_label(self) -> ThinkingLabel | None:
        """The thinking label, when the thinking judgment is OK."""
        return _label(self.thinking, ThinkingLabel)


_L = TypeVar("_L", SafetyLabel, ThinkingLabel)


def _label(judgment: Judgment | None, kind: type[_L]) -> _L | None:
    if judgment is None or judgment.status is not JudgmentStatus.OK:
        return None
    return judgment.label if isinstance(judgment.label, kind) else None
