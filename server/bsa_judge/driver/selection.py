"""Which items a run covers: filters over a dataset, then this driver's shard of them.

The filters apply in a fixed order: scenarios, then an id list, then a seeded random sample,
then a limit. The selection is the same for every shard of a run (it defines the run); the
shard is the deterministic slice this driver works on: the i-th selected item goes to shard
i mod N, so every item is in exactly one shard and shard sizes differ by at most one.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count` (0 <= index < count)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: expected 0 <= I < N, N >= 1")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Read `I/N`, e.g. `0/4`; raises ValueError saying what is expected."""
        index, slash, count = text.partition("/")
        try:
            if not slash:
                raise ValueError
            return cls(int(index), int(count))
        except ValueError:
            raise ValueError(f"shard {text!r}: expected I/N with 0 <= I < N, e.g. 0/4") from None

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True, slots=True)
class Selection:
    """The filters that choose a run's items from a dataset."""

    scenarios: tuple[Scenario, ...] = ()
    ids: tuple[str, ...] | None = None
    sample: int | None = None
    seed: int = 0
    limit: int | None = None
    shard: Shard = field(default_factory=Shard)

    def describe(self) -> str:
        """The filters in words (the shard left out: it is not part of the run)."""
        parts = []
        if self.scenarios:
            parts.append("scenario=" + ",".join(s.abbreviation for s in self.scenarios))
        if self.ids is not None:
            parts.append(f"ids={len(self.ids)}")
        if self.sample is not None:
            parts.append(f"sample={self.sample} seed={self.seed}")
        if self.limit is not None:
            parts.append(f"limit={self.limit}")
        return " ".join(parts) or "all"


def select_items(items: Sequence[Item], selection: Selection) -> list[Item]:
    """The items of the run, all shards together, in dataset order."""
    chosen = list(items)
    if selection.scenarios:
        chosen = [item for item in chosen if item.scenario in selection.scenarios]
    if selection.ids is not None:
        wanted = set(selection.ids)
        chosen = [item for item in chosen if item.id in wanted]
    if selection.sample is not None and selection.sample < len(chosen):
        picked = set(random.Random(selection.seed).sample(range(len(chosen)), selection.sample))
        chosen = [item for position, item in enumerate(chosen) if position in picked]
    if selection.limit is not None:
        chosen = chosen[: selection.limit]
    return chosen


def shard_items(items: Sequence[Item], shard: Shard) -> list[Item]:
    """This shard's slice of the run's items: every `count`-th, from `index`."""
    return list(items[shard.index :: shard.count])


def missing_ids(items: Sequence[Item], ids: Sequence[str]) -> list[str]:
    """The ids of an id list that name no item of the dataset, in list order."""
    known = {item.id for item in items}
    return [item_id for item_id in ids if item_id not in known]


def items_digest(items: Sequence[Item]) -> str:
    """Hex SHA-256 over the items (id, query, risk_summary, scenario, label), sorted by id:
    two drivers of one run must select the same items, and this is how the server tells."""
    digest = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.id):
        for text in (item.id, item.query, item.risk_summary, item.scenario.value, item.label):
            digest.update(text.encode("utf-8"))
            digest.update(b"\x1f")
        digest.update(b"\x1e")
    return digest.hexdigest()
