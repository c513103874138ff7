"""Synthetic judged runs over the official dataset (read from ../shared/bsa at test time)."""

from __future__ import annotations

import csv
import random
from functools import cache
from pathlib import Path

from bsa_judge.benchmark.scenario import THINKING_LABELS, Scenario

SHARED_BSA = Path(__file__).resolve().parents[2] / ".." / "shared" / "bsa"
DATASET = SHARED_BSA / "dataset.csv"
OFFICIAL_HEADER = ("model_name", "id", "dataset_name", "Safe_Ans_Check", "Thk_Acc_Judge")

Row = tuple[str, str, str, str, str]


@cache
def dataset_items() -> tuple[tuple[str, str, str], ...]:
    """(id, dataset_name, label) of every item of the official dataset."""
    with DATASET.open(newline="", encoding="utf-8") as handle:
        return tuple((r["id"], r["dataset_name"], r["label"]) for r in csv.DictReader(handle))


def complete_run(models: int, k: int, seed: int) -> list[Row]:
    """Every item answered k times by each model, with seeded random verdicts, shuffled.

    Each model gets its own rates of Safe answers and correct reasoning.
    """
    rng = random.Random(seed)
    rows: list[Row] = []
    for number in range(models):
        safe_rate, think_rate = rng.random(), rng.random()
        for item_id, scenario, _label in dataset_items():
            labels = [label.value for label in THINKING_LABELS[Scenario(scenario)]]
            for _ in range(k):
                safety = "Safe" if rng.random() < safe_rate else "Unsafe"
                thought = labels[0] if rng.random() < think_rate else rng.choice(labels[1:])
                rows.append((f"model-{number}", item_id, scenario, safety, thought))
    rng.shuffle(rows)
    return rows


def write_official_csv(
    path: Path, rows: list[Row], header: tuple[str, ...] = OFFICIAL_HEADER
) -> Path:
    """Write rows under the official evaluation header."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
