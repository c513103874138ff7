"""The output folder of a run: samples, verdicts, the official CSV, metrics and the plot.

- `samples.jsonl`: one sample per line, in the `--traces` JSONL format (so a run's samples
  can be judged again into another run);
- `verdicts.jsonl`: the SDK's JSONL verdict export (`write_verdicts_jsonl`);
- `official.csv`: the official evaluation CSV (`model_name, id, dataset_name,
  Safe_Ans_Check, Thk_Acc_Judge`, then `label, sample_index, status, sample_status`);
- `metrics.csv`, `metrics.json`: the figures as `bsa-judge metrics` writes them;
- `think_vs_safe.png`: Think@1 against Safe@1.
Rows are in dataset order, then by sample index.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bsa.judge.v1 import judge_pb2
from bsa_judge_client import verdict_row, write_verdicts_jsonl

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.metrics.report import MetricsOptions, MetricsReport

OFFICIAL_COLUMNS = {
    "model": "model_name",
    "item_id": "id",
    "scenario": "dataset_name",
    "safety_label": "Safe_Ans_Check",
    "thinking_label": "Thk_Acc_Judge",
    "label": "label",
    "sample_index": "sample_index",
    "status": "status",
    "sample_status": "sample_status",
}

_SAMPLE_STATUSES = {
    judge_pb2.SAMPLE_STATUS_UNSPECIFIED: SampleStatus.OK,
    judge_pb2.SAMPLE_STATUS_OK: SampleStatus.OK,
    judge_pb2.SAMPLE_STATUS_TRUNCATED: SampleStatus.TRUNCATED,
    judge_pb2.SAMPLE_STATUS_NO_REASONING: SampleStatus.NO_REASONING,
    judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR: SampleStatus.UPSTREAM_ERROR,
    judge_pb2.SAMPLE_STATUS_TIMEOUT: SampleStatus.TIMEOUT,
}


@dataclass(frozen=True)
class OutputFiles:
    """The files of an output folder."""

    folder: Path

    @property
    def samples(self) -> Path:
        return self.folder / "samples.jsonl"

    @property
    def verdicts(self) -> Path:
        return self.folder / "verdicts.jsonl"

    @property
    def official_csv(self) -> Path:
        return self.folder / "official.csv"

    @property
    def metrics_csv(self) -> Path:
        return self.folder / "metrics.csv"

    @property
    def metrics_json(self) -> Path:
        return self.folder / "metrics.json"

    @property
    def plot(self) -> Path:
        return self.folder / "think_vs_safe.png"


def ordered(
    items: Sequence[Item], responses: dict[str, dict[int, judge_pb2.EvaluateItemsResponse]]
) -> list[judge_pb2.EvaluateItemsResponse]:
    """The responses of the items, in item order then sample index."""
    return [
        samples[index]
        for item in items
        for samples in (responses.get(item.id, {}),)
        for index in sorted(samples)
    ]


def write_samples(path: Path, responses: Sequence[judge_pb2.EvaluateItemsResponse]) -> None:
    """One sample per line, in the `--traces` JSONL format."""
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for response in responses:
            sample = response.sample
            record = {
                "item_id": response.item_id,
                "sample_index": sample.sample_index,
                "model": response.verdict.model,
                "reasoning": sample.reasoning,
                "answer": sample.answer,
                "sample_status": _SAMPLE_STATUSES[sample.status].value,
                "finish_reason": sample.finish_reason,
                "error": sample.error,
            }
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_official_csv(
    path: Path, responses: Sequence[judge_pb2.EvaluateItemsResponse], labels: dict[str, str]
) -> None:
    """The official evaluation CSV, one row per judged sample."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(OFFICIAL_COLUMNS.values()))
        writer.writeheader()
        for response in responses:
            row = verdict_row(response.verdict, label=labels.get(response.item_id, ""))
            writer.writerow(
                {
                    column: "" if row[field] is None else row[field]
                    for field, column in OFFICIAL_COLUMNS.items()
                }
            )


def write_outputs(
    files: OutputFiles,
    items: Sequence[Item],
    responses: dict[str, dict[int, judge_pb2.EvaluateItemsResponse]],
    options: MetricsOptions,
) -> MetricsReport | None:
    """Write every output file; returns the figures (None when nothing was judged)."""
    from bsa_judge.commands.metrics import report_for_files
    from bsa_judge.metrics.plot import plot_think_against_safe
    from bsa_judge.metrics.records import write_csv, write_json

    files.folder.mkdir(parents=True, exist_ok=True)
    rows = ordered(items, responses)
    labels = {item.id: item.label for item in items}
    write_samples(files.samples, rows)
    write_verdicts_jsonl((r.verdict for r in rows), files.verdicts, labels=labels)
    write_official_csv(files.official_csv, rows, labels)
    if not rows:
        return None
    report = report_for_files([files.verdicts], options)
    with files.metrics_csv.open("w", encoding="utf-8", newline="") as stream:
        write_csv(report, stream)
    with files.metrics_json.open("w", encoding="utf-8", newline="") as stream:
        write_json(report, stream)
    plot_think_against_safe(report, files.plot)
    return report
