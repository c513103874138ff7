"""The serving process's collector: start-up heap frozen, thresholds spaced out."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from bsa_judge.service.gc_tuning import (
    MIDDLE_THRESHOLD,
    OLD_THRESHOLD,
    YOUNG_THRESHOLD,
    tune_collector,
)


class Node:
    """An object that can sit in a reference cycle."""

    partner: Node | None = None


@pytest.fixture
def collector() -> Iterator[None]:
    """No automatic collection during the test; the collector left as it was after it."""
    thresholds = gc.get_threshold()
    gc.disable()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.enable()


@pytest.mark.usefixtures("collector")
def test_tuning_freezes_what_lives_and_spaces_collections_out() -> None:
    survivor = [Node() for _ in range(1000)]  # a start-up structure
    assert any(o is survivor for o in gc.get_objects())
    cycle = Node()
    cycle.partner = cycle  # start-up garbage only the collector can free
    gone = weakref.ref(cycle)
    del cycle

    tune_collector()

    assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
    # The survivor sits in the permanent generation: no collection walks it any more.
    assert gc.get_freeze_count() >= len(survivor)
    assert not any(o is survivor for o in gc.get_objects())
    # The garbage was collected before the freeze, not frozen for ever.
    assert gone() is None
