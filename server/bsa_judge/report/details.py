"""What a verdict row may tell beyond its labels, read from the JSONL export's optional keys.

The JSONL verdict export (bsa_judge.metrics.jsonl) needs only the keys metrics score. A
writer may add these, each optional (the client SDK's `write_verdicts_jsonl(...,
details=True, traces=...)` writes them):

    query, risk_summary, reasoning, answer          the trace judged (strings)
    safety_explanation, thinking_explanation        the judges' explanations (strings)
    judge_model                                     the judge model that answered (string)
    safety_template, thinking_template              judge template versions (strings)
    safety_attempts, thinking_attempts              judge calls made (1 + re-asks; 0 cached)
    cached                                          true when the verdict came from the cache
    votes                                           the judges that voted (list of strings)
    agreement                                       share of voters agreeing, 0 to 1

A run folder's samples.jsonl (one generated sample per line: model, item_id, sample_index,
reasoning, answer; optionally query and risk_summary, or an `item` object holding them)
supplies the trace text its verdicts.jsonl lacks. A value of the wrong type is ignored:
the report shows it as not recorded, and metrics still read the row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bsa_judge.metrics.files import VerdictFile

#: (model, item id, sample index): one sample of one item answered by one model.
SampleKey = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class TraceText:
    """The text of a judged trace, as far as it was recorded ("" when not)."""

    query: str = ""
    risk_summary: str = ""
    reasoning: str = ""
    answer: str = ""

    def filled_from(self, other: TraceText) -> TraceText:
        """This text, with every field it lacks taken from `other`."""
        return TraceText(
            query=self.query or other.query,
            risk_summary=self.risk_summary or other.risk_summary,
            reasoning=self.reasoning or other.reasoning,
            answer=self.answer or other.answer,
        )


@dataclass(frozen=True, slots=True)
class VerdictDetail:
    """One verdict row: its labels as written, and whatever optional facts it carries."""

    model: str
    item_id: str
    sample_index: int
    scenario: str
    safety_label: str
    thinking_label: str
    status: str
    sample_status: str
    text: TraceText = TraceText()
    safety_explanation: str = ""
    thinking_explanation: str = ""
    judge_model: str = ""
    safety_template: str = ""
    thinking_template: str = ""
    #: Judge calls made for the two judgments; None when not recorded.
    safety_attempts: int | None = None
    thinking_attempts: int | None = None
    cached: bool | None = None
    votes: tuple[str, ...] = ()
    agreement: float | None = None

    @property
    def key(self) -> SampleKey:
        """The sample this verdict judged."""
        return (self.model, self.item_id, self.sample_index)


def verdict_detail(record: dict[str, Any]) -> VerdictDetail | None:
    """One row of the export as a VerdictDetail; None without model, item_id, sample_index."""
    model, item_id, index = record.get("model"), record.get("item_id"), record.get("sample_index")
    if not isinstance(model, str) or not isinstance(item_id, str):
        return None
    if isinstance(index, bool) or not isinstance(index, int):
        return None
    get = record.get

    def text(key: str) -> str:
        value = get(key)
        return value if type(value) is str else ""

    votes, cached = get("votes"), get("cached")
    return VerdictDetail(
        model=model,
        item_id=item_id,
        sample_index=index,
        scenario=text("scenario"),
        safety_label=text("safety_label"),
        thinking_label=text("thinking_label"),
        status=text("status"),
        sample_status=text("sample_status"),
        text=TraceText(text("query"), text("risk_summary"), text("reasoning"), text("answer")),
        safety_explanation=text("safety_explanation"),
        thinking_explanation=text("thinking_explanation"),
        judge_model=text("judge_model"),
        safety_template=text("safety_template"),
        thinking_template=text("thinking_template"),
        safety_attempts=_count(get("safety_attempts")),
        thinking_attempts=_count(get("thinking_attempts")),
        cached=cached if type(cached) is bool else None,
        votes=tuple(v for v in votes if type(v) is str) if type(votes) is list else (),
        agreement=_share(get("agreement")),
    )


def read_sample_texts(path: Path, wanted: set[SampleKey]) -> dict[SampleKey, TraceText]:
    """The trace text of the `wanted` samples in a run folder's samples.jsonl."""
    # Only lines of a wanted item are parsed: the file holds every reasoning of the run. The
    # id is found without parsing the line (as written raw, or escaped as json.dumps does);
    # a line whose id is not found that way (an `item` object) is parsed.
    forms = {form.encode() for _, i, _ in wanted for form in (i, json.dumps(i)[1:-1])}
    found: dict[SampleKey, TraceText] = {}
    for record in _records(path, forms):
        nested = record.get("item")
        item: dict[str, Any] = nested if isinstance(nested, dict) else {}
        model, index = record.get("model"), record.get("sample_index")
        item_id = record.get("item_id", item.get("id"))
        if isinstance(index, bool) or not isinstance(index, int):
            continue
        if not isinstance(model, str) or not isinstance(item_id, str):
            continue
        key = (model, item_id, index)
        if key in wanted:
            found[key] = trace_text(record).filled_from(trace_text(item))
    return found


def trace_text(record: dict[str, Any]) -> TraceText:
    """The trace text keys of a record, "" where absent."""
    return TraceText(
        query=_text(record, "query"),
        risk_summary=_text(record, "risk_summary"),
        reasoning=_text(record, "reasoning"),
        answer=_text(record, "answer"),
    )


_ITEM_ID = re.compile(rb'"item_id"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _records(path: Path, item_ids: set[bytes]) -> Iterator[dict[str, Any]]:
    with path.open("rb") as handle:
        for line in handle:
            written = _ITEM_ID.search(line)
            if written is not None and written.group(1) not in item_ids:
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(record, dict):
                yield record


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _share(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= 1 else None


def details_from_columns(file: VerdictFile) -> Iterator[VerdictDetail]:
    """The rows of a file without optional facts (the official CSV), as VerdictDetails.

    Samples without an index are numbered by order of appearance within their (model,
    item), as metrics number them.
    """
    columns = file.columns
    seen: dict[tuple[str, str], int] = {}
    texts = {
        name: getattr(columns, name).texts()
        for name in ("model", "item_id", "scenario", "safety_label", "thinking_label")
    }
    statuses = columns.status.texts() if columns.status is not None else None
    sample_statuses = columns.sample_status.texts() if columns.sample_status is not None else None
    indices = columns.sample_index.tolist()
    has_index = columns.has_sample_index.tolist()
    for row in range(len(columns)):
        model, item_id = texts["model"][row], texts["item_id"][row]
        order = seen.get((model, item_id), 0)
        seen[model, item_id] = order + 1
        yield VerdictDetail(
            model=model,
            item_id=item_id,
            sample_index=indices[row] if has_index[row] else order,
            scenario=texts["scenario"][row],
            safety_label=texts["safety_label"][row],
            thinking_label=texts["thinking_label"][row],
            status=statuses[row] if statuses is not None else "",
            sample_status=sample_statuses[row] if sample_statuses is not None else "",
        )
