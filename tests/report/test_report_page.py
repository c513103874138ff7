"""The report's content, from a run folder and from verdict files: figures, cases, health."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bsa_judge.benchmark.dataset import load_items
from bsa_judge.cli import main
from bsa_judge.metrics.report import MetricsOptions
from bsa_judge.report.health import Share
from bsa_judge.report.page import ReportOptions, build_report, render_report
from bsa_judge.report.sources import RunFolderSource, VerdictFileSource
from bsa_judge_client import write_verdicts_jsonl

from tests.report.small_run import (
    ITEMS,
    PLANTED,
    labels,
    traces,
    verdicts,
    write_dataset,
    write_run_folder,
)

OPTIONS = ReportOptions(metrics=MetricsOptions(k=2, bootstrap_resamples=200))


def test_a_run_folder_reports_figures_cases_and_judge_health(tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "run")
    items = load_items(write_dataset(tmp_path / "dataset.csv"))

    report = build_report([RunFolderSource(run)], OPTIONS, items=items)

    careful, shallow = report.metrics.models  # ranked by F-score
    assert (careful.model, careful.f_score, careful.safe_at_1.value) == (
        "careful-model",
        100.0,
        100.0,
    )
    assert (shallow.model, shallow.f_score) == ("shallow-model", 56.41)
    assert (shallow.safe_at_1.value, shallow.think_at_1.value) == (83.33, 50.0)
    assert (shallow.safe_at_k.value, shallow.think_at_k.value) == (33.33, 0.0)
    assert (shallow.n_unusable_samples, shallow.n_incomplete_items) == (1, 1)
    assert report.has_categories
    assert report.heatmap_png is not None
    # Cases: ro-1#0 (Safe, risk missed) and cs-1#0 (Safe, partially covered), text from
    # samples.jsonl (reasoning, answer) and from the dataset (query, risk summary).
    assert [(g.scenario.abbreviation, g.counts) for g in report.cases] == [
        ("RO", (("shallow-model", 1),)),
        ("CS", (("shallow-model", 1),)),
    ]
    (ro_case,) = report.cases[0].shown
    assert ro_case.detail.key == ("shallow-model", "ro-1", 0)
    assert ro_case.text.query == ITEMS[0].query
    assert ro_case.text.risk_summary == ITEMS[0].risk_summary
    assert ro_case.text.reasoning == f"Sheds are easy. {PLANTED}"
    assert ro_case.text.answer == "Answer of shallow-model to ro-1#0."
    assert ro_case.detail.safety_explanation == "Safety of ro-1#0: <b>Safe</b>"
    health = {h.model: h for h in report.health}
    assert health["careful-model"].cache_hits == Share(1, 6)
    assert health["careful-model"].reasks == Share(0, 6)
    assert health["careful-model"].agreement is None
    assert (health["careful-model"].judges, health["careful-model"].templates) == (
        ("stub-judge",),
        ("safety-v1", "thinking-cs-v1", "thinking-os-v1", "thinking-ro-v1"),
    )
    assert health["shallow-model"].unparseable == Share(1, 6)
    assert health["shallow-model"].upstream_errors == Share(0, 6)
    assert health["shallow-model"].reasks == Share(2, 6)  # 3 attempts: 2 re-asks
    # Agreement 1 on four verdicts, 0.5 on ro-1#0, 0 on the unparseable one (no judge agreed).
    assert health["shallow-model"].agreement == pytest.approx((4 * 1.0 + 0.5 + 0.0) / 6)
    assert health["shallow-model"].n_voted == 6
    assert health["shallow-model"].judges == ("judge-a", "judge-b", "stub-judge")


def test_trace_text_is_escaped_and_the_page_holds_no_script(tmp_path: Path) -> None:
    html = render_report(build_report([RunFolderSource(write_run_folder(tmp_path))], OPTIONS))

    assert "<script" not in html.lower()
    assert "Sheds are easy. &lt;script&gt;window.__planted = 1;" in html
    assert "Safety of ro-1#0: &lt;b&gt;Safe&lt;/b&gt;" in html
    for section in ("leaderboard", "think-vs-safe", "categories", "superficial-safety"):
        assert f'<section id="{section}">' in html
    assert '<section id="judge-health">' in html
    assert "http://" not in html
    assert "https://" not in html


def test_a_verdict_export_with_trace_text_needs_no_run_folder(tmp_path: Path) -> None:
    export = tmp_path / "verdicts.jsonl"
    write_verdicts_jsonl(verdicts(), export, labels=labels(), traces=traces(), details=True)

    report = build_report([VerdictFileSource(export)], OPTIONS)

    (ro_case,) = report.cases[0].shown
    assert (ro_case.text.query, ro_case.text.reasoning) == (
        ITEMS[0].query,
        f"Sheds are easy. {PLANTED}",
    )


def test_an_export_without_optional_keys_reports_them_as_not_recorded(tmp_path: Path) -> None:
    export = tmp_path / "plain.jsonl"
    write_verdicts_jsonl(verdicts(), export, labels=labels())

    report = build_report([VerdictFileSource(export)], OPTIONS)
    html = render_report(report)

    shallow = next(h for h in report.health if h.model == "shallow-model")
    assert (shallow.unparseable, shallow.reasks, shallow.cache_hits) == (Share(1, 6), None, None)
    assert (shallow.judges, shallow.agreement) == ((), None)
    (ro_case,) = report.cases[0].shown
    assert (ro_case.text.query, ro_case.text.reasoning, ro_case.detail.safety_explanation) == (
        "",
        "",
        "",
    )
    assert html.count("not recorded") >= 4


def test_the_command_reads_the_official_csv_with_the_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    official = tmp_path / "official.csv"
    correct = {"Risk Omission": "True", "Cognitive Shortcut": "Fully Covered",
               "Over Sensitivity": "Precise Coverage"}  # fmt: skip
    rows = ["model_name,id,dataset_name,Safe_Ans_Check,Thk_Acc_Judge"]
    rows += [f"m,{i.id},{i.scenario},Safe,{correct[i.scenario]}" for i in ITEMS for _ in "ab"]
    official.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dataset = write_dataset(tmp_path / "dataset.csv")
    output = tmp_path / "report.html"

    code = main(["report", str(official), "--k", "2", "--dataset", str(dataset),
                 "--bootstrap", "0", "--output", str(output)])  # fmt: skip

    assert code == 0
    assert capsys.readouterr().out.startswith(f"bsa-judge report: wrote {output} (")
    html = output.read_text(encoding="utf-8")
    assert '<img id="category-heatmap"' in html
    assert "No superficially safe sample" in html
    assert "no judgment status recorded" in html


def test_bad_input_exits_2_naming_the_file_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"model": "m", "item_id": "x", "scenario": "Risk Omission", "sample_index": 0,'
        ' "safety_label": "Maybe", "thinking_label": "True", "status": "ok"}\n',
        encoding="utf-8",
    )
    empty_run = tmp_path / "run"
    empty_run.mkdir()
    output = tmp_path / "report.html"

    assert main(["report", str(bad), "--k", "1", "--output", str(output)]) == 2
    assert capsys.readouterr().err == (
        f"bsa-judge report: {bad}: line 1, key safety_label: "
        "unknown safety label 'Maybe'; expected Safe or Unsafe\n"
    )
    assert main(["report", str(empty_run), "--output", str(output)]) == 2
    assert capsys.readouterr().err == (
        f"bsa-judge report: {empty_run}: a run folder needs verdicts.jsonl; none found\n"
    )
    assert not output.exists()


def test_samples_may_nest_the_item_and_carry_its_text(tmp_path: Path) -> None:
    run = write_run_folder(tmp_path / "run")
    nested = [
        {"model": "shallow-model", "sample_index": 0, "reasoning": "Nested reasoning.",
         "answer": "Nested answer.",
         "item": {"id": item.id, "query": f"Nested query of {item.id}",
                  "risk_summary": f"Nested risk of {item.id}"}}
        for item in ITEMS
    ]  # fmt: skip
    (run / "samples.jsonl").write_text(
        "not json\n" + "".join(json.dumps(sample) + "\n" for sample in nested), encoding="utf-8"
    )

    report = build_report([RunFolderSource(run)], OPTIONS)

    (ro_case,) = report.cases[0].shown
    assert (ro_case.text.query, ro_case.text.risk_summary) == (
        "Nested query of ro-1",
        "Nested risk of ro-1",
    )
    assert (ro_case.text.reasoning, ro_case.text.answer) == ("Nested reasoning.", "Nested answer.")
