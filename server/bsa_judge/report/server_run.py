"""A stored run read from a bsa-judge server, through the client SDK, as a verdict source.

GetRun gives the run's model, judge model and template versions; ExportRun streams every
stored sample with its verdict. Each judged sample becomes the row the SDK's export writes
(`verdict_row(..., details=True, trace=...)`: labels, judging details, and the sample's
reasoning and answer), so the report reads a server run exactly as it reads a run folder.
A verdict that does not name its judge model or template versions takes the run's.
Samples not judged yet are left out. The export carries no item text or risk category:
`--dataset` supplies the query, risk summary and category, as for any verdict file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import grpc
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import verdict_row

from bsa_judge.metrics.files import VerdictFile
from bsa_judge.metrics.jsonl import read_verdict_records
from bsa_judge.metrics.problems import UnreadableFile
from bsa_judge.report.details import SampleKey, TraceText, verdict_detail
from bsa_judge.report.sources import DetailSink, ReportInputError

#: The judge template of each scenario's thinking judgment, by Scenario number.
_THINKING_TEMPLATE = {
    judge_pb2.SCENARIO_RISK_OMISSION: "thinking_ro",
    judge_pb2.SCENARIO_COGNITIVE_SHORTCUT: "thinking_cs",
    judge_pb2.SCENARIO_OVER_SENSITIVITY: "thinking_os",
}
#: Answers that mean the run, not the connection, is at fault: the user named it wrongly.
_BAD_REQUEST = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)


class RunReader(Protocol):
    """The two run calls of the client SDK's JudgeClient the report needs."""

    def get_run(self, request: dict[str, Any]) -> judge_pb2.GetRunResponse: ...

    def export_run(self, request: dict[str, Any]) -> Iterator[judge_pb2.ExportRunResponse]: ...


class ServerError(Exception):
    """The server could not be reached or failed the call; already worded for the user."""


@dataclass(frozen=True)
class ServerRunSource:
    """One stored run of the server at `target`, read through `client`."""

    client: RunReader
    target: str
    run_id: str

    @property
    def name(self) -> str:
        return f"run {self.run_id} at {self.target}"

    def k(self) -> int:
        """The samples per item the run was created with."""
        return int(self._run.settings.k)

    @cached_property
    def _run(self) -> judge_pb2.Run:
        """The run as GetRun gives it, asked once (its k, then its facts for the rows)."""
        try:
            return self.client.get_run({"run_id": self.run_id}).run
        except grpc.RpcError as error:
            raise self._rpc_error(error) from None

    def read(self, on_detail: DetailSink) -> VerdictFile:
        def on_record(record: dict[str, Any]) -> None:
            detail = verdict_detail(record)
            if detail is not None:
                on_detail(detail)

        try:
            records = enumerate(self._rows(self._run), start=1)
            columns, numbers = read_verdict_records(records, on_record)
        except grpc.RpcError as error:
            raise self._rpc_error(error) from None
        except UnreadableFile as error:
            if str(error) == "the file is empty":
                raise ReportInputError(f"{self.name}: no judged sample stored yet") from None
            raise ReportInputError(f"{self.name}: {error}") from None
        except ValueError as error:  # an enum the SDK does not know (a newer server)
            raise ReportInputError(f"{self.name}: {error}") from None
        return VerdictFile(Path(self.name), columns, numbers)

    def trace_texts(self, wanted: set[SampleKey]) -> dict[SampleKey, TraceText]:
        return {}  # every row already carries its sample's reasoning and answer

    def _rows(self, run: judge_pb2.Run) -> Iterator[dict[str, Any]]:
        for exported in self.client.export_run({"run_id": self.run_id}):
            if not exported.HasField("verdict"):
                continue
            verdict = _with_run_facts(exported.verdict, run)
            trace = judge_pb2.Trace(
                item=judge_pb2.Item(id=exported.item_id, scenario=verdict.scenario),
                reasoning=exported.sample.reasoning,
                answer=exported.sample.answer,
                model=verdict.model,
                sample_index=verdict.sample_index,
            )
            yield verdict_row(verdict, trace=trace, details=True)

    def _rpc_error(self, error: grpc.RpcError) -> Exception:
        code, details = error.code(), error.details()
        if code in _BAD_REQUEST:
            return ReportInputError(f"{self.name}: {details or code.name}")
        if code is grpc.StatusCode.UNAVAILABLE:
            return ServerError(f"cannot reach the server at {self.target}: {details}")
        return ServerError(f"{self.name}: the server answered {code.name}: {details}")


def _with_run_facts(verdict: judge_pb2.Verdict, run: judge_pb2.Run) -> judge_pb2.Verdict:
    """The verdict, with the model, judge model and template versions it lacks taken from
    the run (only for the judgments it carries)."""
    filled = judge_pb2.Verdict()
    filled.CopyFrom(verdict)
    filled.model = verdict.model or run.settings.model
    thinking_template = _THINKING_TEMPLATE.get(filled.scenario, "")
    made = (
        (filled.safety, "safety", filled.HasField("safety")),
        (filled.thinking, thinking_template, filled.HasField("thinking")),
    )
    for judgment, template, present in made:
        if not present:  # a judgment not made names no judge
            continue
        if not judgment.judge_model and run.judge_model:
            judgment.judge_model = run.judge_model
        if not judgment.template_version and template in run.template_versions:
            judgment.template_version = run.template_versions[template]
    return filled
