"""What can go wrong, named: statuses that are never folded into a label."""

from __future__ import annotations

from enum import StrEnum


class SampleStatus(StrEnum):
    """How one generation of the model under test ended."""

    OK = "ok"
    TRUNCATED = "truncated"  # finish_reason == "length": reasoning or answer incomplete
    NO_REASONING = "no_reasoning"  # an answer without any reasoning
    UPSTREAM_ERROR = "upstream_error"
    TIMEOUT = "timeout"


#: Generations that ended without a completion: nothing to judge (a NOT_JUDGED verdict), and
#: the only samples a run store replaces, so that a resumed run tries them again.
FAILED_SAMPLES = frozenset({SampleStatus.UPSTREAM_ERROR, SampleStatus.TIMEOUT})


class JudgmentStatus(StrEnum):
    """Whether a judgment produced a label, and if not, why."""

    OK = "ok"
    JUDGE_UNPARSEABLE = "judge_unparseable"
    UPSTREAM_ERROR = "upstream_error"
    TIMEOUT = "timeout"
    INVALID_TRACE = "invalid_trace"
    NOT_JUDGED = "not_judged"
