"""Responses as plain Python values, and verdicts as the service's JSON Lines verdict export.

`to_dict` turns any message into a dict. `write_verdicts_jsonl` writes verdicts in the
export format that `bsa-judge metrics FILE.jsonl` scores, one judged sample per line
(`verdict_row` is one line as a dict):

    {"model": "m1", "item_id": "7aa2...", "scenario": "Risk Omission", "sample_index": 0,
     "safety_label": "Safe", "thinking_label": "True", "status": "ok",
     "label": "Offense and Prejudice-Abuse and Hate Speech", "sample_status": "ok"}

Scenarios and labels are the official strings of the benchmark's evaluation CSV
(`dataset_name`, `Safe_Ans_Check`, `Thk_Acc_Judge`); `status` and `sample_status` are the
lower-case status names (`judge_unparseable`, `no_reasoning`). An UNSPECIFIED value is
null: a label the judgment did not produce, or a scenario or status a verdict on an invalid
trace does not carry (metrics refuses a row without a scenario, naming its line).

Optional keys, for `bsa-judge report` (metrics ignore them; a file without them still
reports, showing them as not recorded):

- with `details=True`, what the verdict says of its judging: `safety_explanation`,
  `thinking_explanation`, `judge_model`, `safety_template`, `thinking_template`,
  `safety_attempts`, `thinking_attempts` (judge calls, 1 plus re-asks, 0 from the cache),
  `cached`, `votes` (the judges that voted, [] for one judge) and `agreement` (null
  without a vote);
- with the trace of a verdict (`trace=` / `traces=`): `query`, `risk_summary`,
  `reasoning` and `answer`, the text judged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from bsa.judge.v1 import judge_pb2
from google.protobuf import json_format
from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message

# The official strings of the two Risk Omission thinking labels, which their enum names
# (RISK_IDENTIFIED, RISK_MISSED) do not spell.
_OFFICIAL_SPELLING = {"RISK_IDENTIFIED": "True", "RISK_MISSED": "False"}


def _texts(enum: EnumDescriptor, *, title: bool) -> dict[int, str]:
    """Enum number -> export text, derived from the proto's own enum descriptor: the value
    name without the enum's prefix, in title case for the benchmark's words ("Risk
    Omission", "Fully Covered") or lower case for statuses ("judge_unparseable")."""
    prefix = f"{''.join('_' + c if c.isupper() else c for c in enum.name).lstrip('_').upper()}_"
    texts: dict[int, str] = {}
    for value in enum.values:
        if value.number == 0:  # UNSPECIFIED: written as null
            continue
        name = value.name.removeprefix(prefix)
        if name in _OFFICIAL_SPELLING:
            texts[value.number] = _OFFICIAL_SPELLING[name]
        else:
            texts[value.number] = name.replace("_", " ").title() if title else name.lower()
    return texts


_SCENARIOS = _texts(judge_pb2.Scenario.DESCRIPTOR, title=True)
_SAFETY_LABELS = _texts(judge_pb2.SafetyLabel.DESCRIPTOR, title=True)
_THINKING_LABELS = _texts(judge_pb2.ThinkingLabel.DESCRIPTOR, title=True)
_JUDGMENT_STATUSES = _texts(judge_pb2.JudgmentStatus.DESCRIPTOR, title=False)
_SAMPLE_STATUSES = _texts(judge_pb2.SampleStatus.DESCRIPTOR, title=False)


def to_dict(message: Message) -> dict[str, Any]:
    """Any response (or request) message as a dict of plain Python values.

    Keys are the proto field names (`safety_label`, `sample_index`), every field without
    presence is included even at its default, enums are their names
    (`"SAFETY_LABEL_SAFE"`), and 64-bit integers are strings, as in protobuf's JSON mapping
    (`google.protobuf.json_format.MessageToDict`).
    """
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def verdict_row(
    verdict: judge_pb2.Verdict,
    *,
    label: str = "",
    trace: judge_pb2.Trace | None = None,
    details: bool = False,
) -> dict[str, Any]:
    """One line of the JSONL verdict export, for one verdict.

    `label` is the item's risk category (`label` column of the dataset), which a verdict
    does not carry; give it for per-category figures. `details` adds the judges'
    explanations, models, template versions, attempts, cache hit and votes; `trace` (the
    trace judged) adds its query, risk_summary, reasoning and answer. Raises ValueError for
    an enum number this SDK does not know (a newer server): it is never written as
    something else.
    """
    row = _scored_row(verdict, label)
    if details:
        row.update(_judging_details(verdict))
    if trace is not None:
        row.update(
            query=trace.item.query,
            risk_summary=trace.item.risk_summary,
            reasoning=trace.reasoning,
            answer=trace.answer,
        )
    return row


def _scored_row(verdict: judge_pb2.Verdict, label: str) -> dict[str, Any]:
    return {
        "model": verdict.model,
        "item_id": verdict.item_id,
        "scenario": _text(_SCENARIOS, verdict.scenario, "scenario"),
        "sample_index": verdict.sample_index,
        "safety_label": _text(_SAFETY_LABELS, verdict.safety_label, "safety_label"),
        "thinking_label": _text(_THINKING_LABELS, verdict.thinking_label, "thinking_label"),
        "status": _text(_JUDGMENT_STATUSES, verdict.status, "status"),
        "label": label,
        "sample_status": _text(_SAMPLE_STATUSES, verdict.sample_status, "sample_status"),
    }


def write_verdicts_jsonl(
    verdicts: Iterable[judge_pb2.Verdict],
    path_or_file: str | os.PathLike[str] | TextIO,
    *,
    labels: Mapping[str, str] | None = None,
    traces: Iterable[judge_pb2.Trace] | None = None,
    details: bool = False,
) -> int:
    """Write verdicts as the JSONL verdict export; returns how many lines were written.

    `path_or_file` is a path (the file is created or replaced, UTF-8) or an open text file
    (written to, not closed). `labels` maps item ids to their risk category (`label`);
    items it does not name get none. Verdicts are read lazily, one at a time, so a generator
    over `judge_traces` responses (`r.verdict for r in ...`) streams straight to the file.
    For `bsa-judge report`: `details=True` adds how each verdict was judged, and `traces`
    (the traces sent) add the text of each verdict's trace, matched by model, item id and
    sample index.
    """
    by_sample = {(t.model, t.item.id, t.sample_index): t for t in traces or ()}
    if isinstance(path_or_file, str | os.PathLike):
        with Path(path_or_file).open("w", encoding="utf-8", newline="\n") as stream:
            return _write(verdicts, stream, labels or {}, by_sample, details)
    return _write(verdicts, path_or_file, labels or {}, by_sample, details)


def _write(
    verdicts: Iterable[judge_pb2.Verdict],
    stream: TextIO,
    labels: Mapping[str, str],
    traces: Mapping[tuple[str, str, int], judge_pb2.Trace],
    details: bool,
) -> int:
    written = 0
    for verdict in verdicts:
        row = verdict_row(
            verdict,
            label=labels.get(verdict.item_id, ""),
            trace=traces.get((verdict.model, verdict.item_id, verdict.sample_index)),
            details=details,
        )
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
    return written


def _judging_details(verdict: judge_pb2.Verdict) -> dict[str, Any]:
    safety, thinking = verdict.safety, verdict.thinking
    return {
        "safety_explanation": safety.explanation,
        "thinking_explanation": thinking.explanation,
        "judge_model": safety.judge_model or thinking.judge_model,
        "safety_template": safety.template_version,
        "thinking_template": thinking.template_version,
        "safety_attempts": safety.attempts,
        "thinking_attempts": thinking.attempts,
        "cached": verdict.cached,
        "votes": [vote.judge for vote in verdict.votes],
        "agreement": verdict.agreement if verdict.votes else None,
    }


def _text(texts: Mapping[int, str], number: int, field: str) -> str | None:
    if number == 0:  # UNSPECIFIED: the verdict carries no value
        return None
    try:
        return texts[number]
    except KeyError:
        raise ValueError(f"unknown {field} {number}; update bsa-judge-client") from None
