"""Verdict files: the official CSV and the JSONL export, told apart, read, and located.

A problem found in the rows of several files together (by the tally) is reported in each
file's own terms: "row 7, column Thk_Acc_Judge" for a CSV, "line 7, key thinking_label" for
JSON Lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bsa_judge.metrics.jsonl import read_verdicts_jsonl
from bsa_judge.metrics.official_csv import COLUMNS, FIRST_ROW, read_official_csv
from bsa_judge.metrics.problems import RowProblem
from bsa_judge.metrics.scored_samples import ScoredSampleColumns

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass(frozen=True)
class VerdictFile:
    """The judged samples of one file and where each came from."""

    path: Path
    columns: ScoredSampleColumns
    #: JSON Lines: the line number of each row; None for a CSV (row i is spreadsheet row i+2).
    line_numbers: NDArray[np.int64] | None = None

    def where(self, row: int, field: str) -> str:
        """The row and column (or line and key) of a field of a row, in the file's terms."""
        if self.line_numbers is None:
            return f"row {row + FIRST_ROW}, column {COLUMNS.get(field, field)}"
        return f"line {int(self.line_numbers[row])}, key {field}"


def read_verdict_file(
    path: Path, on_record: Callable[[dict[str, Any]], object] | None = None
) -> VerdictFile:
    """Read an official-format CSV or a JSONL export, told apart by suffix or first byte.

    `on_record` sees each JSON Lines object as read (see read_verdicts_jsonl); a CSV has
    none. Raises UnreadableFile (message without the path) or OSError.
    """
    if _is_jsonl(path):
        columns, lines = read_verdicts_jsonl(path, on_record)
        return VerdictFile(path, columns, lines)
    return VerdictFile(path, read_official_csv(path))


def describe(files: Sequence[VerdictFile], problem: RowProblem) -> str:
    """A problem in the concatenated rows of `files`, as "<path>: row N, column C: why"."""
    if problem.row is None:
        return f"{problem.field}: {problem.description}"
    file, row = _locate(files, problem.row)
    text = f"{file.path}: {file.where(row, problem.field)}: {problem.description}"
    if problem.other_row is not None:
        other_file, other_row = _locate(files, problem.other_row)
        text += f" (see {other_file.path}: {other_file.where(other_row, problem.field)})"
    return text


def _locate(files: Sequence[VerdictFile], row: int) -> tuple[VerdictFile, int]:
    for file in files:
        if row < len(file.columns):
            return file, row
        row -= len(file.columns)
    raise IndexError(row)


def _is_jsonl(path: Path) -> bool:
    if path.suffix.lower() in _JSONL_SUFFIXES:
        return True
    if path.suffix.lower() == ".csv":
        return False
    with path.open("rb") as handle:
        start = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"{")
