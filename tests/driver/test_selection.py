"""Selecting a run's items: filters in a fixed order, and shards that split the selection so
every item is in exactly one shard."""

from __future__ import annotations

import pytest
from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.driver.selection import (
    Selection,
    Shard,
    items_digest,
    select_items,
    shard_items,
)
from hypothesis import given
from hypothesis import strategies as st

SCENARIOS = list(Scenario)


def items(n: int) -> list[Item]:
    return [
        Item(id=f"i{n_}", query="q", risk_summary="r", scenario=SCENARIOS[n_ % 3], label="l")
        for n_ in range(n)
    ]


@given(
    n_items=st.integers(min_value=0, max_value=200),
    n_shards=st.integers(min_value=1, max_value=17),
)
def test_every_item_is_in_exactly_one_shard_and_shards_differ_by_at_most_one(
    n_items: int, n_shards: int
) -> None:
    selected = items(n_items)
    shards = [shard_items(selected, Shard(i, n_shards)) for i in range(n_shards)]
    ids = [item.id for shard in shards for item in shard]
    assert sorted(ids) == sorted(item.id for item in selected)
    assert len(set(ids)) == len(ids)
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1


@given(
    n_items=st.integers(min_value=1, max_value=100),
    sample=st.integers(min_value=1, max_value=120),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_seeded_sample_is_the_same_every_time_and_keeps_dataset_order(
    n_items: int, sample: int, seed: int
) -> None:
    dataset = items(n_items)
    first = select_items(dataset, Selection(sample=sample, seed=seed))
    again = select_items(list(dataset), Selection(sample=sample, seed=seed))
    assert first == again
    assert len(first) == min(sample, n_items)
    positions = [dataset.index(item) for item in first]
    assert positions == sorted(positions)


def test_filters_apply_scenario_then_ids_then_sample_then_limit() -> None:
    dataset = items(12)  # i0 RO, i1 CS, i2 OS, i3 RO, ...
    selection = Selection(
        scenarios=(Scenario.RISK_OMISSION, Scenario.OVER_SENSITIVITY),
        ids=("i0", "i2", "i3", "i4", "i5", "i9", "i11"),
        limit=3,
    )
    assert [i.id for i in select_items(dataset, selection)] == ["i0", "i2", "i3"]
    assert selection.describe() == "scenario=RO,OS ids=7 limit=3"


def test_shards_are_parsed_from_i_slash_n_and_bad_ones_are_refused() -> None:
    assert Shard.parse("2/4") == Shard(2, 4)
    for text in ("4/4", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(ValueError, match="expected I/N"):
            Shard.parse(text)


def test_the_digest_depends_on_the_items_not_on_their_order() -> None:
    dataset = items(5)
    assert items_digest(dataset) == items_digest(list(reversed(dataset)))
    changed = [*dataset[:4], Item("i4", "other query", "r", SCENARIOS[1], "l")]
    assert items_digest(changed) != items_digest(dataset)
