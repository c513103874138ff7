"""What a run is: the settings fixed at its creation, and one item sent into it.

A run evaluates one model on a selection of items, k samples each, every sample judged.
These are the plain values the application layer's run use cases take; the service builds
them from the contract's messages (service/convert_runs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.generation.decoding import Decoding


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
class RunSettings:
    """Everything fixed when a run is created; a second creation must match it exactly."""

    model: str
    selection: ItemSelection
    k: int
    decoding: Decoding
    safety_rules: bool
    judge: str
    sample_source: SampleSource


@dataclass(frozen=True, slots=True)
class SubmittedSample:
    """A sample generated elsewhere, sent with its item into a SUBMITTED run."""

    sample_index: int
    reasoning: str
    answer: str
    status: SampleStatus


@dataclass(frozen=True, slots=True)
class RunItem:
    """One item sent into a run, with its submitted samples (SUBMITTED runs)."""

    run_id: str
    item: Item
    samples: tuple[SubmittedSample, ...] = ()
