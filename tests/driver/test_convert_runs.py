"""The run requests of the contract, as the core's run values (service/convert_runs.py)."""

from __future__ import annotations

from bsa.judge.v1 import judge_pb2
from bsa_judge.benchmark.run import ItemSelection, RunItem, SampleSource, SubmittedSample
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.generation.decoding import Decoding
from bsa_judge.runs.run import RunSpec
from bsa_judge.service.convert_runs import run_item, run_spec


def test_run_settings_keep_every_field_and_unset_decoding_stays_unset() -> None:
    message = judge_pb2.CreateRunRequest(
        run_id="r1",
        settings=judge_pb2.RunSettings(
            model="qwen3-8b",
            selection=judge_pb2.ItemSelection(
                dataset="dataset.csv", description="limit=10", item_count=10, items_digest="ab"
            ),
            k=5,
            decoding=judge_pb2.DecodingSettings(temperature=0.6, stop=["END"]),
            safety_rules=True,
            judge="gpt-judge",
        ),
    )
    assert run_spec(message) == RunSpec(
        run_id="r1",
        model="qwen3-8b",
        selection=ItemSelection("dataset.csv", "limit=10", 10, "ab"),
        k=5,
        decoding=Decoding(temperature=0.6, stop=("END",)),
        safety_rules=True,
        judge="gpt-judge",
        sample_source=SampleSource.GENERATED,  # UNSPECIFIED reads as GENERATED
    )


def test_an_item_with_submitted_samples_becomes_a_run_item() -> None:
    message = judge_pb2.EvaluateItemsRequest(
        run_id="r1",
        item=judge_pb2.Item(
            id="a", query="q", risk_summary="r", scenario=judge_pb2.SCENARIO_OVER_SENSITIVITY
        ),
        samples=[
            judge_pb2.Sample(sample_index=1, reasoning="why", answer="no"),
            judge_pb2.Sample(sample_index=0, answer="x", status=judge_pb2.SAMPLE_STATUS_TIMEOUT),
            judge_pb2.Sample(sample_index=2, answer="y", status=99),  # type: ignore[arg-type]
        ],
    )
    assert run_item(message) == RunItem(
        run_id="r1",
        item_id="a",
        query="q",
        risk_summary="r",
        scenario=Scenario.OVER_SENSITIVITY,
        samples=(
            SubmittedSample(1, "why", "no", SampleStatus.OK),  # UNSPECIFIED reads as OK
            SubmittedSample(0, "", "x", SampleStatus.TIMEOUT),
            SubmittedSample(2, "", "y", None),  # unknown: the use case names it
        ),
    )


def test_an_item_without_a_scenario_keeps_its_id_for_the_use_case_to_refuse() -> None:
    item = run_item(judge_pb2.EvaluateItemsRequest(run_id="r1", item=judge_pb2.Item(id="a")))
    assert (item.item_id, item.scenario) == ("a", None)
