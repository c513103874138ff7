"""A fake of the SDK methods the driver uses: a run store in a dict, a model that answers
from the item, a judge that calls every answer Safe and every reasoning correct except for
sample index 1. It breaks a stream with UNAVAILABLE on demand, like a restarting server."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import grpc
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import PendingItems
from google.protobuf import json_format

CORRECT_THINKING = {
    judge_pb2.SCENARIO_RISK_OMISSION: judge_pb2.THINKING_LABEL_RISK_IDENTIFIED,
    judge_pb2.SCENARIO_COGNITIVE_SHORTCUT: judge_pb2.THINKING_LABEL_FULLY_COVERED,
    judge_pb2.SCENARIO_OVER_SENSITIVITY: judge_pb2.THINKING_LABEL_PRECISE_COVERAGE,
}
WRONG_THINKING = {
    judge_pb2.SCENARIO_RISK_OMISSION: judge_pb2.THINKING_LABEL_RISK_MISSED,
    judge_pb2.SCENARIO_COGNITIVE_SHORTCUT: judge_pb2.THINKING_LABEL_NOT_COVERED,
    judge_pb2.SCENARIO_OVER_SENSITIVITY: judge_pb2.THINKING_LABEL_NOT_COVERED,
}


class RpcFailure(grpc.RpcError):
    """A failed call, as the SDK raises it."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


class FakeRunClient:
    """create_run and evaluate_items over an in-memory store."""

    def __init__(
        self, *, break_after: int | None = None, break_with: grpc.StatusCode | None = None
    ) -> None:
        self.runs: dict[str, judge_pb2.RunSettings] = {}
        self.stored: dict[tuple[str, str, int], judge_pb2.EvaluateItemsResponse] = {}
        self.model_calls = 0
        self.streams = 0
        self.requests: list[judge_pb2.EvaluateItemsRequest] = []
        self.break_after = break_after  # responses on the first stream before it breaks
        self.break_with = break_with or grpc.StatusCode.UNAVAILABLE

    def create_run(self, request: Mapping[str, Any]) -> judge_pb2.CreateRunResponse:
        message = json_format.ParseDict(dict(request), judge_pb2.CreateRunRequest())
        run_id = message.run_id or f"run-{len(self.runs) + 1}"
        created = run_id not in self.runs
        if not created and self.runs[run_id].k != message.settings.k:
            raise RpcFailure(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"settings.k: {message.settings.k} differs from the run's {self.runs[run_id].k}",
            )
        self.runs[run_id] = message.settings
        return judge_pb2.CreateRunResponse(
            run=judge_pb2.Run(run_id=run_id, settings=message.settings), created=created
        )

    def evaluate_items(
        self,
        requests: Iterable[Mapping[str, Any]],
        *,
        k: int,
        max_in_flight: int = 16,
        pending: PendingItems | None = None,
    ) -> Iterator[judge_pb2.EvaluateItemsResponse]:
        self.streams += 1
        waiting = pending if pending is not None else PendingItems(k)
        sent = 0
        for request in requests:
            message = json_format.ParseDict(dict(request), judge_pb2.EvaluateItemsRequest())
            self.requests.append(message)
            waiting.sent(message)
            for response in self._answer(message, k):
                if self.break_after is not None and sent == self.break_after:
                    self.break_after = None
                    raise RpcFailure(self.break_with, "server restarting")
                waiting.answered(response)
                sent += 1
                yield response

    def _answer(
        self, message: judge_pb2.EvaluateItemsRequest, k: int
    ) -> Iterator[judge_pb2.EvaluateItemsResponse]:
        settings = self.runs[message.run_id]
        if message.item.id.startswith("bad"):
            yield judge_pb2.EvaluateItemsResponse(
                item_id=message.item.id, error="item.query: empty"
            )
            return
        given = {s.sample_index: s for s in message.samples}
        indices = sorted(given) if given else range(k)
        for index in indices:
            key = (message.run_id, message.item.id, index)
            if key in self.stored:
                stored = judge_pb2.EvaluateItemsResponse()
                stored.CopyFrom(self.stored[key])
                stored.stored = True
                yield stored
                continue
            if index in given:
                sample = given[index]
            else:
                self.model_calls += 1
                sample = judge_pb2.Sample(
                    sample_index=index,
                    reasoning=f"thinking about {message.item.id}",
                    answer=f"answer {index}",
                    status=judge_pb2.SAMPLE_STATUS_OK,
                    finish_reason="stop",
                )
            scenario = message.item.scenario
            verdict = judge_pb2.Verdict(
                safety_label=judge_pb2.SAFETY_LABEL_SAFE,
                thinking_label=(WRONG_THINKING if index == 1 else CORRECT_THINKING)[scenario],
                thinking_correct=index != 1,
                status=judge_pb2.JUDGMENT_STATUS_OK,
                scenario=scenario,
                sample_status=sample.status or judge_pb2.SAMPLE_STATUS_OK,
                item_id=message.item.id,
                model=settings.model,
                sample_index=index,
            )
            response = judge_pb2.EvaluateItemsResponse(
                item_id=message.item.id, sample=sample, verdict=verdict
            )
            self.stored[key] = response
            yield response
