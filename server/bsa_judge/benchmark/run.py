"""What a run is made of: the items it covers, where its samples come from, and one item
sent into it.

A run evaluates one model on a selection of items, k samples each, every sample judged. Its
settings are `bsa_judge.runs.run.RunSpec`; these are the plain values around it that the
application layer's run use cases take (the service builds them from the contract's
messages, service/convert_runs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.benchmark.status import SampleStatus


class SampleSource(StrEnum):
    """Where the samples of a run come from."""

    GENERATED = "generated"  # the server generates them with the run's model backend
    SUBMITTED = "submitted"  # the caller sends samples generated elsewhere


@dataclass(frozen=True, slots=True)
class ItemSelection:
    """Which items a run covers, as its drivers describe them."""

    dataset: str
    description: str
    item_count: int
    items_digest: str


@dataclass(frozen=True, slots=True)
class SubmittedSample:
    """A sample generated elsewhere, sent with its item into a SUBMITTED run."""

    sample_index: int
    reasoning: str
    answer: str
    status: SampleStatus | None  # None: unknown


@dataclass(frozen=True, slots=True)
class RunItem:
    """One item sent into a run, as received: checked by the use case, which names every bad
    field. `scenario` is None when unset or unknown; `samples` come with SUBMITTED runs."""

    run_id: str
    item_id: str
    query: str
    risk_summary: str
    scenario: Scenario | None
    label: str = ""
    samples: tuple[SubmittedSample, ...] = ()
