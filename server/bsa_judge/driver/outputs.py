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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


class SampleLog:
    """`samples.jsonl`, written as samples arrive and put in dataset order at the end.

    Each sample is appended to a spool file at once; only where it lies there and its
    verdict, without the judges' explanations, stay in memory. So the driver's memory does
    not grow with the text of the samples, and a run killed midway leaves its samples on
    disk (the spool) besides in the server's store.
    """

    def __init__(self, files: OutputFiles) -> None:
        files.folder.mkdir(parents=True, exist_ok=True)
        self._files = files
        self._spool_path = files.folder / "samples.jsonl.partial"
        self._spool: BinaryIO = self._spool_path.open("wb")
        self._where: dict[tuple[str, int], tuple[int, int]] = {}
        self._verdicts: dict[tuple[str, int], judge_pb2.Verdict] = {}
        self._indices: defaultdict[str, list[int]] = defaultdict(list)

    def __enter__(self) -> SampleLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._spool.close()

    def add(self, response: judge_pb2.EvaluateItemsResponse) -> None:
        """Write one sample; a sample already written is left as it is."""
        key = (response.item_id, response.sample.sample_index)
        if key in self._where:
            return
        line = (json.dumps(sample_record(response), ensure_ascii=False) + "\n").encode()
        self._where[key] = (self._spool.tell(), len(line))
        self._indices[response.item_id].append(response.sample.sample_index)
        self._spool.write(line)
        verdict = judge_pb2.Verdict()
        verdict.CopyFrom(response.verdict)
        for bulky in ("safety", "thinking", "votes"):
            verdict.ClearField(bulky)
        self._verdicts[key] = verdict

    def finish(self, items: Sequence[Item]) -> list[judge_pb2.Verdict]:
        """Write samples.jsonl in item order then sample index; returns the verdicts so."""
        self._spool.close()
        keys = [(item.id, index) for item in items for index in sorted(self._indices[item.id])]
        with self._spool_path.open("rb") as spool, self._files.samples.open("wb") as out:
            for key in keys:
                offset, length = self._where[key]
                spool.seek(offset)
                out.write(spool.read(length))
        self._spool_path.unlink()
        return [self._verdicts[key] for key in keys]


def sample_record(response: judge_pb2.EvaluateItemsResponse) -> dict[str, object]:
    """One line of samples.jsonl, in the `--traces` JSONL format."""
    sample = response.sample
    return {
        "item_id": response.item_id,
        "sample_index": sample.sample_index,
        "model": response.verdict.model,
        "reasoning": sample.reasoning,
        "answer": sample.answer,
        "sample_status": _SAMPLE_STATUSES[sample.status].value,
        "finish_reason": sample.finish_reason,
        "error": sample.error,
    }


def write_official_csv(
    path: Path, verdicts: Sequence[judge_pb2.Verdict], labels: dict[str, str]
) -> None:
    """The official evaluation CSV, one row per judged sample."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(OFFICIAL_COLUMNS.values()))
        writer.writeheader()
        for verdict in verdicts:
            row = verdict_row(verdict, label=labels.get(verdict.item_id, ""))
            writer.writerow(
                {
                    column: "" if row[field] is None else row[field]
                    for field, column in OFFICIAL_COLUMNS.items()
                }
            )


def write_outputs(
    files: OutputFiles,
    items: Sequence[Item],
    verdicts: Sequence[judge_pb2.Verdict],
    options: MetricsOptions,
) -> MetricsReport | None:
    """Write the verdicts, the official CSV, the figures and the plot (samples.jsonl is the
    SampleLog's); returns the figures (None when nothing was judged)."""
    from bsa_judge.app.scoring import score_files
    from bsa_judge.metrics.plot import plot_think_against_safe
    from bsa_judge.metrics.records import write_csv, write_json

    labels = {item.id: item.label for item in items}
    # details: the judges' explanations, attempts, cache hits and votes, for `bsa-judge report`.
    write_verdicts_jsonl(verdicts, files.verdicts, labels=labels, details=True)
    write_official_csv(files.official_csv, verdicts, labels)
    if not verdicts:
        return None
    report = score_files([files.verdicts], options)
    with files.metrics_csv.open("w", encoding="utf-8", newline="") as stream:
        write_csv(report, stream)
    with files.metrics_json.open("w", encoding="utf-8", newline="") as stream:
        write_json(report, stream)
    plot_think_against_safe(report, files.plot)
    return report
