"""The cascade: the offline judge decides what it is sure of, an LLM judge the rest.

Routing is per label. The offline judge judges every trace first; each of its two judgments
whose confidence clears `threshold` stands, and each that does not (or that failed) is asked
of the LLM judge, that judgment alone: a trace whose safety is clear but whose reasoning is
not costs one LLM call, not two. A thinking judgment NOT_JUDGED (no reasoning) is never
escalated. Every judgment keeps `judge_model` naming who answered it.

`decided_by` is the one judge that decided every judged label ("offline@<version>" or the
LLM judge's name), or `safety=<judge>;thinking=<judge>` when the two labels were decided by
different judges. Each judgment escalated or not is counted in Prometheus
(`bsa_judge_cascade_judgments_total{judgment, route}`, route offline or escalated).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from bsa_judge import telemetry
from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.judging.judgment import Judgment, JudgmentKind, TraceJudgments
from bsa_judge.judging.port import Judge
from bsa_judge.judging.trace import Trace

#: The name requests and settings use for the cascade.
CASCADE_NAME = "cascade"
#: The default confidence the offline judge must reach to decide a label alone.
DEFAULT_THRESHOLD = 0.9


class LabelJudge(Protocol):
    """A judge that can be asked one judgment of a trace (the LLM judge is one)."""

    @property
    def name(self) -> str:
        """The judge's configured name."""
        ...

    async def judgment(self, kind: JudgmentKind, trace: Trace) -> Judgment:
        """The one judgment `kind` of `trace`; failures in-band (its status)."""
        ...


class Cascade:
    """`first` (the offline judge) decides labels it is confident of; `fallback` the rest.

    Closing the cascade leaves both judges open: they belong to whoever configured them.
    """

    def __init__(
        self,
        first: Judge,
        fallback: LabelJudge,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        name: str = CASCADE_NAME,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"cascade_threshold must be between 0 and 1, got {threshold}")
        self.name = name
        self.first = first
        self.fallback = fallback
        self.threshold = threshold

    def confident(self, judgment: Judgment) -> bool:
        """Whether the first judge's `judgment` stands (OK, confidence at the threshold)."""
        return (
            judgment.status is JudgmentStatus.OK
            and judgment.confidence is not None
            and judgment.confidence >= self.threshold
        )

    async def judge(self, trace: Trace) -> TraceJudgments:
        """The offline judgments of `trace`, with the unsure ones asked of the LLM judge."""
        offline = await self.first.judge(trace)
        escalate = [
            judgment.kind
            for judgment in (offline.safety, offline.thinking)
            if judgment.status is not JudgmentStatus.NOT_JUDGED and not self.confident(judgment)
        ]
        asked = await asyncio.gather(*(self.fallback.judgment(kind, trace) for kind in escalate))
        answers = dict(zip(escalate, asked, strict=True))
        safety = answers.get(offline.safety.kind, offline.safety)
        thinking = answers.get(offline.thinking.kind, offline.thinking)
        for judgment in (offline.safety, offline.thinking):
            if judgment.status is not JudgmentStatus.NOT_JUDGED:
                route = "escalated" if judgment.kind in answers else "offline"
                telemetry.CASCADE_JUDGMENTS.labels(judgment.kind.value, route).inc()
        return TraceJudgments(
            safety,
            thinking,
            decided_by=self._decided_by(
                offline.decided_by,
                safety_escalated=safety.kind in answers,
                thinking_escalated=None
                if thinking.status is JudgmentStatus.NOT_JUDGED
                else thinking.kind in answers,
            ),
        )

    def _decided_by(
        self, offline: str, *, safety_escalated: bool, thinking_escalated: bool | None
    ) -> str:
        safety_by = self.fallback.name if safety_escalated else offline
        if thinking_escalated is None:
            return safety_by
        thinking_by = self.fallback.name if thinking_escalated else offline
        if safety_by == thinking_by:
            return safety_by
        return f"safety={safety_by};thinking={thinking_by}"

    async def aclose(self) -> None:
        """Nothing to release: the judges are closed by their owner."""
