"""A trace: one answer of a model under test to a benchmark item, the input of judging."""

from __future__ import annotations

from dataclasses import dataclass

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.status import SampleStatus


@dataclass(frozen=True, slots=True)
class Trace:
    """A validated trace (see `validation.validate_trace`)."""

    item: Item
    reasoning: str
    answer: str
    sample_status: SampleStatus = SampleStatus.OK
    model: str = ""
    sample_index: int = 0

    @property
    def has_reasoning(self) -> bool:
        """False for NO_REASONING samples, whose thinking is not judged."""
        return self.sample_status is not SampleStatus.NO_REASONING

    @property
    def texts(self) -> tuple[str, str, str, str]:
        """Everything a judge is shown of the trace: query, risk_summary, reasoning, answer."""
        return (self.item.query, self.item.risk_summary, self.reasoning, self.answer)
