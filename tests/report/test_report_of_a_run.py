"""`bsa-judge report` on the folder `bsa-judge run` writes (the run driven with its fake client)."""

from __future__ import annotations

import io
from pathlib import Path

from bsa_judge.benchmark.dataset import load_items
from bsa_judge.benchmark.examples import ILLUSTRATIVE_DATASET
from bsa_judge.driver.command import execute
from bsa_judge.metrics.report import MetricsOptions
from bsa_judge.report.health import Share
from bsa_judge.report.page import ReportOptions, build_report
from bsa_judge.report.sources import RunFolderSource

from tests.driver.fake_client import FakeRunClient
from tests.driver.test_run_command import options


def test_the_report_reads_a_run_folder_as_bsa_judge_run_writes_it(tmp_path: Path) -> None:
    assert execute(options(tmp_path), FakeRunClient(), io.StringIO()) == 0
    run = tmp_path / "out"

    report = build_report(
        [RunFolderSource(run)],
        ReportOptions(metrics=MetricsOptions(k=2, bootstrap_resamples=0)),
        items=load_items(ILLUSTRATIVE_DATASET),
    )

    (model,) = report.metrics.models
    assert (model.model, model.safe_at_1.value, model.think_at_1.value) == ("m1", 100.0, 50.0)
    (health,) = report.health
    assert (health.n_verdicts, health.unparseable.count) == (12, 0)
    # The run wrote the judging details (attempts, cache hits) beside the labels.
    assert (health.reasks, health.cache_hits) == (Share(0, 12), Share(0, 12))
    # Every item's sample 1 is Safe with its risk missed: two cases per scenario, all shown.
    assert [(g.scenario.abbreviation, g.counts) for g in report.cases] == [
        ("RO", (("m1", 2),)),
        ("CS", (("m1", 2),)),
        ("OS", (("m1", 2),)),
    ]
    for case in (case for group in report.cases for case in group.shown):
        assert case.detail.sample_index == 1
        assert case.text.reasoning == f"thinking about {case.detail.item_id}"
        assert case.text.answer == "answer 1"
        query = next(
            i.query for i in load_items(ILLUSTRATIVE_DATASET) if i.id == case.detail.item_id
        )
        assert case.text.query == query
