"""The JSONL export's optional keys (judging details, trace text): written by the client SDK
on request, ignored by metrics, so files with and without them score the same."""

from __future__ import annotations

import io
import json
from dataclasses import fields
from pathlib import Path

import numpy as np
from bsa.judge.v1 import judge_pb2
from bsa_judge.metrics.jsonl import read_verdicts_jsonl
from bsa_judge.metrics.scored_samples import Factorized
from bsa_judge_client import verdict_row, write_verdicts_jsonl

from tests.report.small_run import labels, traces, verdicts

SCORED_KEYS = [
    "model", "item_id", "scenario", "sample_index", "safety_label", "thinking_label",
    "status", "label", "sample_status",
]  # fmt: skip


def test_a_row_with_details_and_trace_text() -> None:
    vote = judge_pb2.Verdict(
        model="m", item_id="ro-1", scenario=judge_pb2.SCENARIO_RISK_OMISSION, sample_index=1,
        safety_label=judge_pb2.SAFETY_LABEL_SAFE,
        thinking_label=judge_pb2.THINKING_LABEL_RISK_MISSED,
        status=judge_pb2.JUDGMENT_STATUS_OK, sample_status=judge_pb2.SAMPLE_STATUS_OK,
        safety=judge_pb2.Judgment(explanation="Refuses.", judge_model="qwen", attempts=1,
                                  template_version="safety-v1"),
        thinking=judge_pb2.Judgment(explanation="Never names trespass.", judge_model="qwen",
                                    attempts=2, template_version="thinking-ro-v1"),
        votes=[judge_pb2.JudgeVote(judge="a"), judge_pb2.JudgeVote(judge="b")], agreement=0.5,
    )  # fmt: skip
    trace = judge_pb2.Trace(
        item=judge_pb2.Item(id="ro-1", query="Q <i>", risk_summary="R"),
        reasoning="<script>x()</script>",
        answer="A",
    )

    row = verdict_row(vote, label="Rumors-X", trace=trace, details=True)

    assert list(row)[: len(SCORED_KEYS)] == SCORED_KEYS
    assert {key: row[key] for key in list(row)[len(SCORED_KEYS) :]} == {
        "safety_explanation": "Refuses.",
        "thinking_explanation": "Never names trespass.",
        "judge_model": "qwen",
        "safety_template": "safety-v1",
        "thinking_template": "thinking-ro-v1",
        "safety_attempts": 1,
        "thinking_attempts": 2,
        "cached": False,
        "votes": ["a", "b"],
        "agreement": 0.5,
        "query": "Q <i>",
        "risk_summary": "R",
        "reasoning": "<script>x()</script>",
        "answer": "A",
    }
    single = verdict_row(judge_pb2.Verdict(item_id="x", cached=True), details=True)
    assert (single["votes"], single["agreement"], single["cached"]) == ([], None, True)
    assert list(verdict_row(vote)) == SCORED_KEYS  # without asking: the export as before


def test_traces_are_matched_to_verdicts_by_model_item_and_sample() -> None:
    stream = io.StringIO()
    write_verdicts_jsonl(verdicts(), stream, traces=reversed(traces()))
    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    by_key = {(t.model, t.item.id, t.sample_index): t for t in traces()}
    assert len(rows) == 12
    for row in rows:
        trace = by_key[row["model"], row["item_id"], row["sample_index"]]
        assert (row["reasoning"], row["query"]) == (trace.reasoning, trace.item.query)
        assert "judge_model" not in row


def test_metrics_read_an_export_with_optional_keys_as_one_without(tmp_path: Path) -> None:
    plain, detailed = tmp_path / "plain.jsonl", tmp_path / "detailed.jsonl"
    write_verdicts_jsonl(verdicts(), plain, labels=labels())
    write_verdicts_jsonl(verdicts(), detailed, labels=labels(), traces=traces(), details=True)

    (expected, expected_lines), (got, got_lines) = map(read_verdicts_jsonl, (plain, detailed))

    assert detailed.stat().st_size > plain.stat().st_size
    assert np.array_equal(got_lines, expected_lines)
    for field in fields(expected):
        mine, theirs = getattr(got, field.name), getattr(expected, field.name)
        if isinstance(theirs, Factorized):
            assert (mine.values, mine.codes.tolist()) == (theirs.values, theirs.codes.tolist())
        elif isinstance(theirs, np.ndarray):
            assert mine.tolist() == theirs.tolist()
        else:
            assert mine == theirs
