"""The core's enums and the proto's, paired by member name, in one place.

Each proto enum value is its enum's prefix plus the core member's name
(`Scenario.RISK_OMISSION` <-> `SCENARIO_RISK_OMISSION`); a core member without its proto
value fails at import, so the two vocabularies cannot drift apart silently.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TypeVar

from bsa.judge.v1 import judge_pb2

from bsa_judge.benchmark.scenario import SafetyLabel, Scenario, ThinkingLabel
from bsa_judge.benchmark.status import JudgmentStatus, SampleStatus
from bsa_judge.generation.reasoning import ReasoningSource
from bsa_judge.metrics.policy import MissingSamplePolicy

E = TypeVar("E", bound=Enum)
V = TypeVar("V", bound=int)  # a proto enum's ValueType


def _paired(core: type[E], value_of: Callable[[str], V], prefix: str) -> dict[E, V]:
    return {member: value_of(prefix + member.name) for member in core}


def numbers_to_members(pairs: dict[E, V]) -> dict[V, E]:
    """The inverse pairing: proto number -> core member."""
    return {number: member for member, number in pairs.items()}


SCENARIO = _paired(Scenario, judge_pb2.Scenario.Value, "SCENARIO_")
SAFETY_LABEL = _paired(SafetyLabel, judge_pb2.SafetyLabel.Value, "SAFETY_LABEL_")
THINKING_LABEL = _paired(ThinkingLabel, judge_pb2.ThinkingLabel.Value, "THINKING_LABEL_")
JUDGMENT_STATUS = _paired(JudgmentStatus, judge_pb2.JudgmentStatus.Value, "JUDGMENT_STATUS_")
SAMPLE_STATUS = _paired(SampleStatus, judge_pb2.SampleStatus.Value, "SAMPLE_STATUS_")
REASONING_SOURCE = _paired(ReasoningSource, judge_pb2.ReasoningSource.Value, "REASONING_SOURCE_")
MISSING_SAMPLE_POLICY = _paired(
    MissingSamplePolicy, judge_pb2.MissingSamplePolicy.Value, "MISSING_SAMPLE_POLICY_"
)
