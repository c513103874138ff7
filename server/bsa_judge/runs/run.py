"""A run: the benchmark on one model, with settings fixed at creation, and its progress."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bsa_judge.benchmark.run import ItemSelection, SampleSource
from bsa_judge.benchmark.status import JudgmentStatus, SampleStatus
from bsa_judge.errors import BsaJudgeError, FailedPrecondition, NotFound
from bsa_judge.generation.decoding import Decoding
from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import Verdict


class RunStatus(StrEnum):
    """Where a run stands; a run that is not RUNNING has a `finished_at`."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class RunSpec:
    """Everything that decides a run's results, fixed when the run is created.

    The one domain type of a run's settings: a caller asks for one (`judge` empty for the
    server's default, `judge_model` and `template_versions` not yet resolved), and the run
    use case stores it with the judge resolved. `selection` describes which benchmark items
    the run covers, as the caller's driver counted them. `template_versions` pairs each judge
    template (safety, thinking_ro, ...) with its version, sorted by template.
    """

    run_id: str
    model: str
    selection: ItemSelection
    k: int
    decoding: Decoding = field(default_factory=Decoding)
    safety_rules: bool = False
    sample_source: SampleSource = SampleSource.GENERATED
    judge: str = ""
    judge_model: str = ""
    template_versions: tuple[tuple[str, str], ...] = ()

    def differences(self, other: RunSpec) -> list[str]:
        """The names of the settings in which `other` differs from this spec."""
        return [
            spec_field.name
            for spec_field in dataclasses.fields(self)
            if getattr(self, spec_field.name) != getattr(other, spec_field.name)
        ]


@dataclass(frozen=True, slots=True)
class Run:
    """A stored run: its spec, when it was created and finished, and its status."""

    spec: RunSpec
    created_at: datetime
    status: RunStatus = RunStatus.RUNNING
    finished_at: datetime | None = None

    @property
    def run_id(self) -> str:
        """The run's id, from its spec."""
        return self.spec.run_id


@dataclass(frozen=True, slots=True)
class RunProgress:
    """What a run holds so far: items with a sample, items with k verdicts (finished),
    samples and verdicts by status."""

    run_id: str
    items: int = 0
    items_finished: int = 0
    samples: int = 0
    verdicts: int = 0
    samples_by_status: Mapping[SampleStatus, int] = field(default_factory=dict)
    verdicts_by_status: Mapping[JudgmentStatus, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, order=True)
class SampleKey:
    """Where one sample and its verdict are kept: (run, item, sample index)."""

    run_id: str
    item_id: str
    sample_index: int


class RunNotFound(NotFound):
    """No run has this id (NOT_FOUND)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r} does not exist")


class StoreUnavailable(BsaJudgeError):  # noqa: N818 - named for the state, like NotFound
    """The store's database cannot be reached now (UNAVAILABLE): the caller may retry.

    Nothing of the failed unit of work was committed.
    """


class RunConflict(FailedPrecondition):
    """A run with this id exists with other settings (FAILED_PRECONDITION); names them."""

    def __init__(self, run_id: str, fields: list[str]) -> None:
        self.run_id = run_id
        self.fields = tuple(fields)
        super().__init__(
            f"run {run_id!r} already exists with other settings: differs in {', '.join(fields)}"
        )


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One (item, sample index) of a run as stored: its sample and its verdict, if any yet."""

    key: SampleKey
    sample: Sample | None
    verdict: Verdict | None
