"""Reading samples generated elsewhere: the project's JSONL and the official batch-inference
CSV, reasoning split off as Generate splits it, problems named by row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.driver.traces import SubmittedSample, TracesError, read_traces


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_official_batch_csv_gives_k_samples_per_id_in_row_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "batch.csv",
        "id,question,answer,reasoning_content,model\n"
        "a,q,Answer one.,Reasoning one.,m\n"
        "b,q,<think>Inline reasoning.</think>Answer b.,,m\n"
        'a,q,"No tags, no reasoning.",,m\n',
    )
    assert read_traces(path) == {
        "a": [
            SubmittedSample("a", 0, "Reasoning one.", "Answer one.", SampleStatus.OK, "row 2"),
            SubmittedSample(
                "a", 1, "", "No tags, no reasoning.", SampleStatus.NO_REASONING, "row 4"
            ),
        ],
        "b": [SubmittedSample("b", 0, "Inline reasoning.", "Answer b.", SampleStatus.OK, "row 3")],
    }


def test_the_project_jsonl_takes_indices_statuses_and_finish_reasons(tmp_path: Path) -> None:
    lines = [
        {"item_id": "a", "sample_index": 3, "reasoning": "r", "answer": "x"},
        {"item_id": "a", "sample_index": 0, "answer": "<think>cut off", "finish_reason": "length"},
        {"id": "b", "answer": "", "sample_status": "upstream_error"},
    ]
    path = write(tmp_path, "samples.jsonl", "".join(json.dumps(x) + "\n" for x in lines))
    assert read_traces(path) == {
        "a": [
            SubmittedSample("a", 3, "r", "x", SampleStatus.OK, "line 1"),
            SubmittedSample("a", 0, "cut off", "", SampleStatus.TRUNCATED, "line 2"),
        ],
        "b": [SubmittedSample("b", 0, "", "", SampleStatus.UPSTREAM_ERROR, "line 3")],
    }


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("t.csv", "id,question\na,q\n", "missing column(s): answer"),
        ("t.csv", "id,answer,sample_index\na,x,0\na,y,0\n",
         "row 3, column sample_index: sample 0 of item 'a' given twice (first at row 2)"),
        ("t.csv", "id,answer,sample_index\na,x,-1\n",
         "row 2, column sample_index: expected a whole number >= 0, not '-1'"),
        ("t.csv", "id,answer\n,x\n", "row 2, column id: empty"),
        ("t.jsonl", '{"item_id": "a", "answer": "x", "sample_status": "fine"}\n',
         "line 1, column sample_status: unknown 'fine'; expected one of: ok, truncated, "
         "no_reasoning, upstream_error, timeout"),
        ("t.jsonl", '{"item_id": "a", "answer": 5}\n',
         "line 1, column answer: expected text, not 5"),
        ("t.jsonl", "[1]\n", "line 1: expected a JSON object"),
        ("t.jsonl", "\n", "no samples"),
    ],
)  # fmt: skip
def test_bad_traces_are_named_by_row(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(TracesError) as error:
        read_traces(path)
    assert str(error.value) == f"{path}: {message}"
