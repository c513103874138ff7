"""Reading the official evaluation input: a CSV with one row per judged sample.

Columns `model_name, id, dataset_name, Safe_Ans_Check, Thk_Acc_Judge` are required; `label`
(the item's risk category) and this project's `sample_index`, `status` and `sample_status`
are read when present; any other column is ignored. Values are read as written (no type
guessing: "True" stays the text "True") and parsed later, liberally, by the tally.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from numpy.typing import NDArray

from bsa_judge.metrics.problems import UnreadableFile
from bsa_judge.metrics.scored_samples import Factorized, ScoredSampleColumns

#: Field of a judged sample -> its column in the official CSV.
REQUIRED_COLUMNS = {
    "model": "model_name",
    "item_id": "id",
    "scenario": "dataset_name",
    "safety_label": "Safe_Ans_Check",
    "thinking_label": "Thk_Acc_Judge",
}
OPTIONAL_COLUMNS = {
    "label": "label",
    "sample_index": "sample_index",
    "status": "status",
    "sample_status": "sample_status",
}
COLUMNS = {**REQUIRED_COLUMNS, **OPTIONAL_COLUMNS}

#: The spreadsheet row number of the first data row (the header is row 1).
FIRST_ROW = 2

_TEXT = pa.dictionary(pa.int32(), pa.string())


def read_official_csv(path: Path) -> ScoredSampleColumns:
    """Every judged sample of an official-format CSV, in file order.

    Raises UnreadableFile for an empty file, missing columns, a malformed row or a
    non-integer sample_index, naming the row and column.
    """
    header = _header(path)
    missing = [column for column in REQUIRED_COLUMNS.values() if column not in header]
    if missing:
        raise UnreadableFile(f"missing column(s): {', '.join(missing)}")
    present = {field: column for field, column in COLUMNS.items() if column in header}
    try:
        table = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                include_columns=list(present.values()),
                column_types=dict.fromkeys(present.values(), _TEXT),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        raise UnreadableFile(_malformed_row(path, len(header)) or str(error)) from None
    if table.num_rows == 0:
        raise UnreadableFile("no rows after the header")
    # One dictionary per column for all chunks, in order of first appearance.
    table = table.unify_dictionaries()
    columns = {field: _factorized(table.column(column)) for field, column in present.items()}
    n_rows = table.num_rows
    if "sample_index" in columns:
        sample_index, has_sample_index = _sample_indices(columns.pop("sample_index"))
    else:
        sample_index = np.zeros(n_rows, dtype=np.int64)
        has_sample_index = np.zeros(n_rows, dtype=np.bool_)
    return ScoredSampleColumns(
        model=columns["model"],
        item_id=columns["item_id"],
        scenario=columns["scenario"],
        safety_label=columns["safety_label"],
        thinking_label=columns["thinking_label"],
        sample_index=sample_index,
        has_sample_index=has_sample_index,
        status=columns.get("status"),
        label=columns.get("label"),
        sample_status=columns.get("sample_status"),
    )


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header or not any(name.strip() for name in header):
        raise UnreadableFile("the file is empty")
    return header


def _malformed_row(path: Path, width: int) -> str | None:
    """Where a row has the wrong number of fields (only looked for when parsing failed)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for number, row in enumerate(reader, start=FIRST_ROW):
            if row and len(row) != width:
                return f"row {number}: {len(row)} fields where the header has {width}"
    return None


def _factorized(column: pa.ChunkedArray) -> Factorized:
    """Dictionary-encoded chunks that share one dictionary as one Factorized column.

    (Table.unify_dictionaries is pyarrow's core, not pyarrow.compute, which this module
    does not import: ~0.1 s of `bsa-judge metrics` start-up.)
    """
    chunks = column.chunks
    if not chunks:
        return Factorized(np.zeros(0, dtype=np.int32), ())
    texts: list[str] = chunks[0].dictionary.to_pylist()
    codes = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in chunks]
    return Factorized(np.concatenate(codes).astype(np.int32, copy=False), tuple(texts))


def _sample_indices(column: Factorized) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Integers where given; an empty cell leaves the sample numbered by appearance."""
    values = np.zeros(max(len(column.values), 1), dtype=np.int64)
    given = np.zeros(max(len(column.values), 1), dtype=np.bool_)
    for code, text in enumerate(column.values):
        if not text.strip():
            continue
        try:
            values[code] = int(text)
        except (ValueError, OverflowError):
            row = int(np.argmax(column.codes == code)) + FIRST_ROW
            raise UnreadableFile(
                f"row {row}, column sample_index: {text!r} is not an integer"
            ) from None
        given[code] = True
    return values[column.codes], given[column.codes]
