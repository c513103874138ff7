"""The rows of a CSV or JSON Lines file, each with where it stands, for messages that name
it: "row 7" in a CSV (the header is row 1, as a spreadsheet counts), "line 7" in JSON Lines.

Problems of the file's shape (missing columns, a line that is not a JSON object) raise the
caller's error class, so that each reader keeps its own.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

Row = tuple[str, Mapping[str, Any]]

JSONL_SUFFIXES = (".jsonl", ".ndjson")


def is_jsonl(path: Path) -> bool:
    """True for a `.jsonl` or `.ndjson` file."""
    return path.suffix.lower() in JSONL_SUFFIXES


def rows(path: Path, required: Sequence[str], error: type[ValueError]) -> Iterator[Row]:
    """The rows of a CSV (which must have the `required` columns) or a JSON Lines file."""
    return jsonl_rows(path, error) if is_jsonl(path) else csv_rows(path, required, error)


def csv_rows(path: Path, required: Sequence[str], error: type[ValueError]) -> Iterator[Row]:
    """Each row of a CSV as a dict by column; `error` when a required column is missing."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise error(f"{path}: missing column(s): {', '.join(missing)}")
        for number, row in enumerate(reader, start=2):
            yield f"row {number}", row


def jsonl_rows(path: Path, error: type[ValueError]) -> Iterator[Row]:
    """Each object of a JSON Lines file (blank lines skipped); `error` for any other line."""
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as problem:
                raise error(f"{path}: line {number}: not valid JSON ({problem.msg})") from None
            if not isinstance(record, dict):
                raise error(f"{path}: line {number}: expected a JSON object")
            yield f"line {number}", record
