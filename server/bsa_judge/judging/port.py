"""The `Judge` port: a trace in, its two judgments out, and the name of who decided.

Every way of judging implements it: the LLM judge (llm_judge.py: templates, a `ChatModel`,
the parser, re-asks), a majority vote of judges (vote.py), and later an offline judge and a
cascade. The application layer chooses a judge and turns its judgments into a verdict; it
never knows which kind answered.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bsa_judge.judging.judgment import TraceJudgments
from bsa_judge.judging.trace import Trace


class Judge(Protocol):
    """Something that judges traces.

    `judge` returns both judgments with the benchmark's labels, statuses and explanations,
    a `confidence` per judgment where the judge estimates one, and `decided_by`. A failure of
    the judge's model is reported in-band (the judgment's status), never raised.
    """

    @property
    def name(self) -> str:
        """The judge's configured name, the one requests use."""
        ...

    async def judge(self, trace: Trace) -> TraceJudgments:
        """The safety and thinking judgments of `trace`."""
        ...

    async def aclose(self) -> None:
        """Release what the judge holds (connections, models)."""
        ...


@runtime_checkable
class DescribedJudge(Protocol):
    """A judge that can say which model and template versions its judgments come from (the
    LLM judge can); a run records both when it is created."""

    @property
    def model(self) -> str:
        """The judge model's name."""
        ...

    @property
    def template_versions(self) -> tuple[tuple[str, str], ...]:
        """The version of each template, by template name, sorted."""
        ...
