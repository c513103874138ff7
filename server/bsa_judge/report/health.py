"""Judge health per model: how often judging failed, re-asked, hit the cache, agreed.

Statuses come with every JSONL row; attempts, cache hits and votes only when the writer
recorded them (None: not recorded, shown as such, never as zero).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.report.details import VerdictDetail


@dataclass(frozen=True, slots=True)
class Share:
    """A count among a number of rows, and its percentage (None when nothing was counted)."""

    count: int
    of: int

    @property
    def percent(self) -> float | None:
        return 100 * self.count / self.of if self.of else None


@dataclass(frozen=True, slots=True)
class JudgeHealth:
    """One model's judging, as its verdict rows tell it."""

    model: str
    n_verdicts: int
    #: Rows with a judgment status; an official CSV records none.
    n_with_status: int
    unparseable: Share
    upstream_errors: Share
    timeouts: Share
    invalid_traces: Share
    #: Judge calls beyond the first of each judgment, among rows that recorded attempts.
    reasks: Share | None
    cache_hits: Share | None
    #: Mean agreement of the verdicts several judges voted on, and how many there were.
    agreement: float | None
    n_voted: int
    judges: tuple[str, ...]
    templates: tuple[str, ...]


@dataclass
class _Tally:
    rows: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reasks: int = 0
    with_attempts: int = 0
    cached: int = 0
    with_cache: int = 0
    agreement: float = 0.0
    voted: int = 0
    judges: set[str] = field(default_factory=set)
    templates: set[str] = field(default_factory=set)

    def add(self, detail: VerdictDetail) -> None:
        self.rows += 1
        if detail.status:
            self.statuses[detail.status] += 1
        attempts = [a for a in (detail.safety_attempts, detail.thinking_attempts) if a is not None]
        if attempts:
            self.with_attempts += 1
            self.reasks += sum(max(a - 1, 0) for a in attempts)
        if detail.cached is not None:
            self.with_cache += 1
            self.cached += detail.cached
        if len(detail.votes) > 1 and detail.agreement is not None:
            self.voted += 1
            self.agreement += detail.agreement
        self.judges.update(j for j in (detail.judge_model, *detail.votes) if j)
        self.templates.update(t for t in (detail.safety_template, detail.thinking_template) if t)

    def health(self, model: str) -> JudgeHealth:
        with_status = sum(self.statuses.values())

        def share(status: JudgmentStatus) -> Share:
            return Share(self.statuses[status.value], with_status)

        return JudgeHealth(
            model=model,
            n_verdicts=self.rows,
            n_with_status=with_status,
            unparseable=share(JudgmentStatus.JUDGE_UNPARSEABLE),
            upstream_errors=share(JudgmentStatus.UPSTREAM_ERROR),
            timeouts=share(JudgmentStatus.TIMEOUT),
            invalid_traces=share(JudgmentStatus.INVALID_TRACE),
            reasks=Share(self.reasks, self.with_attempts) if self.with_attempts else None,
            cache_hits=Share(self.cached, self.with_cache) if self.with_cache else None,
            agreement=self.agreement / self.voted if self.voted else None,
            n_voted=self.voted,
            judges=tuple(sorted(self.judges)),
            templates=tuple(sorted(self.templates)),
        )


class HealthCounter:
    """Counts judge health over verdict rows, one at a time."""

    def __init__(self) -> None:
        self._models: dict[str, _Tally] = {}

    def add(self, detail: VerdictDetail) -> None:
        """Count one verdict row."""
        self._models.setdefault(detail.model, _Tally()).add(detail)

    def health(self, models: Iterable[str]) -> tuple[JudgeHealth, ...]:
        """The health of each of `models`, in that order (a model without rows has none)."""
        return tuple(self._models[m].health(m) for m in models if m in self._models)
