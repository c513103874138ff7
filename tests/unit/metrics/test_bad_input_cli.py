"""`bsa-judge metrics` refuses bad input with exit code 2 and a message naming row and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from bsa_judge.cli import main

from tests.metrics.runs import DATASET, dataset_items

HEADER = "model_name,id,dataset_name,Safe_Ans_Check,Thk_Acc_Judge\n"
GOOD_ROW = "m,a,Risk Omission,Safe,True\n"


def jsonl(index: int = 0, item: str = "a", **fields: str) -> str:
    record = {
        "model": "m",
        "item_id": item,
        "scenario": "Risk Omission",
        "safety_label": "Safe",
        "thinking_label": "True",
        **fields,
    }
    body = ", ".join(f'"{key}": "{value}"' for key, value in record.items())
    return "{" + body + f', "sample_index": {index}' + "}\n"


def run_metrics(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["metrics", *args, "--bootstrap", "0", "--format", "csv"])
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize(
    ("name", "content", "k", "message"),
    [
        pytest.param(
            "v.csv",
            HEADER + GOOD_ROW + "m,b,Risk Omision,Safe,True\n",
            5,
            "row 3, column dataset_name: unknown scenario 'Risk Omision'; expected one of: "
            "Risk Omission, Cognitive Shortcut, Over Sensitivity",
            id="unknown scenario",
        ),
        pytest.param(
            "v.csv",
            HEADER + GOOD_ROW + "m,b,Risk Omission,Safe,Maybe\n",
            5,
            "row 3, column Thk_Acc_Judge: unknown Risk Omission thinking label 'Maybe'; "
            "expected one of: True, False",
            id="unknown thinking label",
        ),
        pytest.param(
            "v.csv",
            HEADER + GOOD_ROW + "m,b,Cognitive Shortcut,Safe,True\n",
            5,
            "row 3, column Thk_Acc_Judge: unknown Cognitive Shortcut thinking label 'True'; "
            "expected one of: Fully Covered, Partially Covered, Not Covered",
            id="thinking label of another scenario",
        ),
        pytest.param(
            "v.csv",
            HEADER + GOOD_ROW + "m,b,Risk Omission,Safeish,True\n",
            5,
            "row 3, column Safe_Ans_Check: unknown safety label 'Safeish'; expected Safe or Unsafe",
            id="unknown safety label",
        ),
        pytest.param(
            "v.csv",
            HEADER + GOOD_ROW * 3,
            2,
            "row 4, column id: model 'm', item 'a' has more than k=2 samples",
            id="more than k rows for an item",
        ),
        pytest.param(
            "v.csv",
            "model_name,id,Safe_Ans_Check\nm,a,Safe\n",
            5,
            "missing column(s): dataset_name, Thk_Acc_Judge",
            id="missing columns",
        ),
        pytest.param("v.csv", "", 5, "the file is empty", id="empty file"),
        pytest.param("v.csv", HEADER, 5, "no rows after the header", id="header only"),
        pytest.param(
            "v.csv",
            HEADER + GOOD_ROW + "m,a,Risk Omission,Safe\n",
            5,
            "row 3: 4 fields where the header has 5",
            id="short row",
        ),
        pytest.param(
            "v.csv",
            HEADER + GOOD_ROW + ",b,Risk Omission,Safe,True\n",
            5,
            "row 3, column model_name: model is required",
            id="blank model",
        ),
        pytest.param(
            "v.csv",
            HEADER + GOOD_ROW + "m,a,Cognitive Shortcut,Safe,Fully Covered\n",
            5,
            "row 3, column dataset_name: item 'a' is 'Cognitive Shortcut' here but "
            "'Risk Omission' on another row (see {path}: row 2, column dataset_name)",
            id="item in two scenarios",
        ),
        pytest.param(
            "v.csv",
            HEADER.strip() + ",sample_index\n" + GOOD_ROW.strip() + ",5\n",
            5,
            "row 2, column sample_index: sample index 5 is outside 0..4 (k=5)",
            id="csv sample index at k",
        ),
        pytest.param(
            "v.csv",
            HEADER.strip() + ",sample_index\n" + GOOD_ROW.strip() + ",first\n",
            5,
            "row 2, column sample_index: 'first' is not an integer",
            id="csv sample index not a number",
        ),
        pytest.param(
            "v.jsonl",
            jsonl(0) + jsonl(5),
            5,
            "line 2, key sample_index: sample index 5 is outside 0..4 (k=5)",
            id="sample index at k",
        ),
        pytest.param(
            "v.jsonl",
            jsonl(-1),
            5,
            "line 1, key sample_index: sample index -1 is outside 0..4 (k=5)",
            id="negative sample index",
        ),
        pytest.param(
            "v.jsonl",
            jsonl(0) + jsonl(1) + jsonl(0, thinking_label="False"),
            5,
            "line 3, key sample_index: model 'm', item 'a', sample index 0 appears twice "
            "(see {path}: line 1, key sample_index)",
            id="duplicate sample",
        ),
        pytest.param(
            "v.jsonl",
            jsonl(0, status="judged"),
            5,
            "line 1, key status: unknown status 'judged'; expected one of: ok, "
            "judge_unparseable, upstream_error, timeout, invalid_trace, not_judged",
            id="unknown status",
        ),
        pytest.param(
            "v.jsonl",
            jsonl(0, status="ok", safety_label=""),
            5,
            "line 1, key safety_label: safety_label is required when status is ok",
            id="ok without a label",
        ),
        pytest.param(
            "v.jsonl",
            jsonl(0) + jsonl(1, sample_status="no_reasoning"),
            5,
            "line 2, key thinking_label: a sample without reasoning (sample_status "
            "no_reasoning) has no thinking label; leave it empty",
            id="thinking label without reasoning",
        ),
        pytest.param(
            "v.jsonl",
            jsonl(0, label="Gossip-Celebrities"),
            5,
            "line 1, key label: unknown risk category 'Gossip' in label; expected one of: "
            "Offense and Prejudice, Specially Regulated Items, Property Infringement, "
            "Invasion of Privacy and Confidentiality, Physical and Mental Health, "
            "Violence and Terrorism, Ethics and Morality, Rumors, Pornography",
            id="unknown risk category",
        ),
        pytest.param(
            "v.jsonl",
            '{"model": "m", "item_id": "a"\n',
            5,
            "line 1: not valid JSON (Expecting ',' delimiter)",
            id="broken json",
        ),
        pytest.param(
            "v.jsonl",
            '{"model": "m", "item_id": "a", "sample_index": 0}\n',
            5,
            "line 1, key scenario: missing",
            id="missing key",
        ),
        pytest.param(
            "v.jsonl",
            jsonl(0).replace('"sample_index": 0', '"sample_index": "0"'),
            5,
            "line 1, key sample_index: expected an integer, not '0'",
            id="sample index as text",
        ),
        pytest.param("v.jsonl", "\n\n", 5, "the file is empty", id="empty jsonl"),
    ],
)
def test_bad_input_exits_2_naming_row_and_column(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str,
    k: int,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    code, err = run_metrics(capsys, str(path), "--k", str(k))

    assert code == 2
    assert err == f"bsa-judge metrics: {path}: {message.format(path=path)}\n"


def test_a_problem_in_the_second_file_is_located_in_that_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "a.csv"
    first.write_text(HEADER + GOOD_ROW, encoding="utf-8")
    second = tmp_path / "b.jsonl"
    second.write_text(jsonl(0, item="b") + jsonl(0, item="c", safety_label="Sure"), "utf-8")

    code, err = run_metrics(capsys, str(first), str(second))

    assert code == 2
    assert err == (
        f"bsa-judge metrics: {second}: line 2, key safety_label: "
        "unknown safety label 'Sure'; expected Safe or Unsafe\n"
    )


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_metrics(capsys, str(tmp_path / "nowhere.csv"))
    assert (code, err) == (
        2,
        f"bsa-judge metrics: {tmp_path / 'nowhere.csv'}: No such file or directory\n",
    )


def test_an_item_missing_from_the_dataset_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item_id, scenario, _ = dataset_items()[0]
    path = tmp_path / "v.csv"
    path.write_text(
        HEADER + f"m,{item_id},{scenario},Safe,True\nm,not-an-item,{scenario},Safe,True\n", "utf-8"
    )

    code, err = run_metrics(capsys, str(path), "--dataset", str(DATASET))

    assert code == 2
    assert err == (
        f"bsa-judge metrics: {path}: row 3, column id: item 'not-an-item' is not in the dataset\n"
    )


def test_a_scenario_other_than_the_dataset_s_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item_id, _, _ = dataset_items()[0]  # a Risk Omission item
    path = tmp_path / "v.csv"
    path.write_text(HEADER + f"m,{item_id},Over Sensitivity,Safe,Precise Coverage\n", "utf-8")

    code, err = run_metrics(capsys, str(path), "--dataset", str(DATASET))

    assert code == 2
    assert err == (
        f"bsa-judge metrics: {path}: row 2, column dataset_name: 'Over Sensitivity' differs "
        f"from the dataset's 'Risk Omission' for item '{item_id}'\n"
    )


@pytest.mark.parametrize(
    ("option", "value", "complaint"),
    [
        ("--k", "0", "argument --k: must be at least 1, not 0"),
        ("--alpha", "1.5", "argument --alpha: must be between 0 and 1, not 1.5"),
        ("--bootstrap", "-1", "argument --bootstrap: must be at least 0, not -1"),
        ("--policy", "guess", "argument --policy: invalid choice: 'guess'"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, complaint: str
) -> None:
    path = tmp_path / "v.csv"
    path.write_text(HEADER + GOOD_ROW, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["metrics", str(path), option, value])
    assert exited.value.code == 2
    assert complaint in capsys.readouterr().err
