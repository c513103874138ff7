"""The official CSV reader over a file pyarrow parses in many blocks (chunks)."""

from __future__ import annotations

import csv
from pathlib import Path

from bsa_judge.metrics.official_csv import read_official_csv

HEADER = ["model_name", "id", "dataset_name", "Safe_Ans_Check", "Thk_Acc_Judge"]


def test_a_file_of_many_blocks_reads_every_value_numbered_by_first_appearance(
    tmp_path: Path,
) -> None:
    # 40,000 rows (~2.6 MB: pyarrow parses 1 MB blocks); the second model and the last
    # items appear only in later blocks.
    rows = [
        [
            "model-a" if number < 30_000 else "model-b",
            f"item-{number // 100:04d}",
            "Risk Omission",
            "Safe" if number % 3 else "Unsafe",
            "True" if number % 7 else "False",
        ]
        for number in range(40_000)
    ]
    path = tmp_path / "verdicts.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)

    columns = read_official_csv(path)

    assert columns.model.values == ("model-a", "model-b")
    assert columns.item_id.values == tuple(f"item-{n:04d}" for n in range(400))
    assert columns.safety_label.values == ("Unsafe", "Safe")
    assert columns.thinking_label.values == ("False", "True")
    for field, index in (("model", 0), ("item_id", 1), ("scenario", 2)):
        factorized = getattr(columns, field)
        assert [factorized.values[code] for code in factorized.codes] == [r[index] for r in rows]
    assert [columns.safety_label.values[c] for c in columns.safety_label.codes] == [
        r[3] for r in rows
    ]
    assert [columns.thinking_label.values[c] for c in columns.thinking_label.codes] == [
        r[4] for r in rows
    ]
