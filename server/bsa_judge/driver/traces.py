"""Samples generated elsewhere (`bsa-judge run --traces FILE`), read for judging into a run.

Two formats, told apart by suffix (`.jsonl`/`.ndjson` or `.csv`):

- the project's JSON Lines, one sample per line: `item_id` (or `id`), `answer`, and
  optionally `reasoning`, `sample_index`, `sample_status` (a SampleStatus value, "ok" when
  absent) and `finish_reason` ("length" marks a truncated sample);
- the official batch-inference output CSV: `id, question, answer, reasoning_content, ...`,
  one row per sample, the k samples of an item on k rows.

Without a separate reasoning, reasoning inline in the answer (`<think>...</think>`) is split
off as Generate splits a completion. A sample without `sample_index` is numbered by its
position among its item's rows (0, 1, ...). Problems are TracesError naming the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bsa_judge.benchmark.rows import rows
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.chat.model import Choice, ReasoningSource
from bsa_judge.generation.reasoning import sample_status, split_choice

_CSV_COLUMNS = ("id", "answer")


class TracesError(ValueError):
    """The traces file cannot be read; the message names the row and field."""


@dataclass(frozen=True, slots=True)
class SubmittedSample:
    """One sample of the model under test generated elsewhere."""

    item_id: str
    sample_index: int
    reasoning: str
    answer: str
    status: SampleStatus
    where: str  # "row 7" / "line 7", for messages about this sample


def read_traces(path: Path) -> dict[str, list[SubmittedSample]]:
    """Every sample of a traces file, by item id, in file order."""
    samples: dict[str, list[SubmittedSample]] = {}
    seen: dict[tuple[str, int], str] = {}
    for where, row in rows(path, _CSV_COLUMNS, TracesError):
        item_id = _text(row, "item_id", where, path) if "item_id" in row else ""
        item_id = item_id or _text(row, "id", where, path)
        if not item_id.strip():
            raise TracesError(f"{path}: {where}, column id: empty")
        of_item = samples.setdefault(item_id, [])
        index = _sample_index(row, len(of_item), where, path)
        if (item_id, index) in seen:
            raise TracesError(
                f"{path}: {where}, column sample_index: sample {index} of item {item_id!r} "
                f"given twice (first at {seen[item_id, index]})"
            )
        seen[item_id, index] = where
        of_item.append(_sample(row, item_id, index, where, path))
    if not samples:
        raise TracesError(f"{path}: no samples")
    return samples


def _sample(
    row: Mapping[str, Any], item_id: str, index: int, where: str, path: Path
) -> SubmittedSample:
    answer = _text(row, "answer", where, path)
    reasoning = _text(row, "reasoning", where, path) or _text(row, "reasoning_content", where, path)
    # As Generate splits a reply: a reasoning column is the endpoint's reasoning_content
    # field; without one, reasoning inline in the answer (<think> tags) is split off.
    split = split_choice(
        Choice(
            index=0,
            text=answer,
            reasoning=reasoning,
            reasoning_source=(
                ReasoningSource.REASONING_CONTENT_FIELD
                if reasoning.strip()
                else ReasoningSource.NONE
            ),
            reasoning_field_sent=bool(reasoning),
        )
    )
    given_status = _text(row, "sample_status", where, path)
    if given_status:
        try:
            status = SampleStatus(given_status.strip().lower())
        except ValueError:
            accepted = ", ".join(s.value for s in SampleStatus)
            raise TracesError(
                f"{path}: {where}, column sample_status: unknown {given_status!r}; "
                f"expected one of: {accepted}"
            ) from None
    else:
        status = sample_status(_text(row, "finish_reason", where, path) or None, split)
    return SubmittedSample(item_id, index, split.reasoning, split.answer, status, where)


def _text(row: Mapping[str, Any], key: str, where: str, path: Path) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TracesError(f"{path}: {where}, column {key}: expected text, not {value!r}")
    return value


def _sample_index(row: Mapping[str, Any], position: int, where: str, path: Path) -> int:
    value = row.get("sample_index")
    if value is None or value == "":
        return position
    try:
        index = value if isinstance(value, int) and not isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        index = -1
    if index < 0:
        raise TracesError(
            f"{path}: {where}, column sample_index: expected a whole number >= 0, not {value!r}"
        )
    return index
