"""Reading the project's verdict export: JSON Lines, one judged sample per line.

The export is written by the client SDK (bsa_judge_client.write_verdicts_jsonl), the one
writer; this module reads it. Each line is an object with the keys of
`scored_samples.FIELDS`:

    {"model": "m1", "item_id": "7aa2...", "scenario": "Risk Omission", "sample_index": 0,
     "safety_label": "Safe", "thinking_label": "True", "status": "ok",
     "label": "Offense and Prejudice-Abuse and Hate Speech", "sample_status": "ok"}

Labels are the official strings (null when the judgment produced none), `status` a
JudgmentStatus value and `sample_status` a SampleStatus value. `model`, `item_id`,
`scenario` and `sample_index` are required; a missing `status` reads as "usable when both
labels are present", a missing `sample_status` as "ok", a missing `label` as none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bsa_judge.metrics.problems import UnreadableFile
from bsa_judge.metrics.scored_samples import FIELDS, Factorized, ScoredSampleColumns

_REQUIRED_TEXT = ("model", "item_id", "scenario")
_OPTIONAL_TEXT = ("safety_label", "thinking_label", "status", "label", "sample_status")


def read_verdicts_jsonl(
    path: Path, on_record: Callable[[dict[str, Any]], object] | None = None
) -> tuple[ScoredSampleColumns, NDArray[np.int64]]:
    """Every judged sample of an export file, and the line number of each.

    Blank lines are skipped. Raises UnreadableFile naming the line and key of the first
    malformed line; label values themselves are checked later, by the tally. `on_record`
    sees each line's whole object once it has been read (the report takes the optional
    keys from it without parsing the file twice).
    """
    texts: dict[str, list[str]] = {field: [] for field in (*_REQUIRED_TEXT, *_OPTIONAL_TEXT)}
    indices: list[int] = []
    lines: list[int] = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = _record(line, number)
            for key in _REQUIRED_TEXT:
                texts[key].append(_text(record, key, number, required=True))
            for key in _OPTIONAL_TEXT:
                texts[key].append(_text(record, key, number, required=False))
            indices.append(_sample_index(record, number))
            lines.append(number)
            if on_record is not None:
                on_record(record)
    if not lines:
        raise UnreadableFile("the file is empty")
    n_rows = len(lines)
    return (
        ScoredSampleColumns(
            model=Factorized.of(texts["model"]),
            item_id=Factorized.of(texts["item_id"]),
            scenario=Factorized.of(texts["scenario"]),
            safety_label=Factorized.of(texts["safety_label"]),
            thinking_label=Factorized.of(texts["thinking_label"]),
            sample_index=np.array(indices, dtype=np.int64),
            has_sample_index=np.ones(n_rows, dtype=np.bool_),
            status=Factorized.of(texts["status"]),
            label=Factorized.of(texts["label"]),
            sample_status=Factorized.of(texts["sample_status"]),
        ),
        np.array(lines, dtype=np.int64),
    )


def _record(line: str, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise UnreadableFile(f"line {number}: not valid JSON ({error.msg})") from None
    if not isinstance(record, dict):
        raise UnreadableFile(f"line {number}: expected a JSON object with keys {', '.join(FIELDS)}")
    return record


def _text(record: dict[str, Any], key: str, number: int, *, required: bool) -> str:
    value = record.get(key)
    if value is None:
        if required:
            raise UnreadableFile(f"line {number}, key {key}: missing")
        return ""
    if not isinstance(value, str):
        raise UnreadableFile(f"line {number}, key {key}: expected a string, not {value!r}")
    return value


def _sample_index(record: dict[str, Any], number: int) -> int:
    value = record.get("sample_index")
    if value is None:
        raise UnreadableFile(f"line {number}, key sample_index: missing")
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**62:
        raise UnreadableFile(f"line {number}, key sample_index: expected an integer, not {value!r}")
    return value
