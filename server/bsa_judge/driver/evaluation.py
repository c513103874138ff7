"""A run, driven through the client SDK: create it, stream its items, resume what broke off.

The driver talks to the server through `RunClient`, the part of `bsa_judge_client.JudgeClient`
it uses (a fake implements it in tests). A broken stream (the server restarting, the
database away: UNAVAILABLE) is not the end: the items not yet fully answered are sent again
after a pause, and the server answers what it has stored without calling any model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import PendingItems

from bsa_judge.benchmark.item import Item
from bsa_judge.driver.traces import SubmittedSample

#: Status codes after which the items still pending are sent again.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class RunClient(Protocol):
    """The SDK methods the driver uses (`bsa_judge_client.JudgeClient` has them)."""

    def create_run(self, request: Mapping[str, Any]) -> judge_pb2.CreateRunResponse: ...

    def evaluate_items(
        self,
        requests: Iterable[Mapping[str, Any]],
        *,
        k: int,
        max_in_flight: int = ...,
        pending: PendingItems | None = ...,
    ) -> Iterator[judge_pb2.EvaluateItemsResponse]: ...


@dataclass(frozen=True)
class RunPlan:
    """Everything that defines a run, and the items this driver sends to it."""

    run_id: str
    k: int
    items: Sequence[Item]  # this shard's items
    submitted: Mapping[str, Sequence[SubmittedSample]] | None = None  # --traces runs

    def request(self, item: Item) -> dict[str, Any]:
        """The EvaluateItems request of one item."""
        request: dict[str, Any] = {"run_id": self.run_id, "item": item_message(item)}
        if self.submitted is not None:
            request["samples"] = [sample_message(s) for s in self.submitted.get(item.id, ())]
        return request

    def expected_indices(self, item: Item) -> frozenset[int]:
        """The sample indices the item is complete with."""
        return self.expected_indices_of(item.id)

    def expected_indices_of(self, item_id: str) -> frozenset[int]:
        """The sample indices the item of this id is complete with (none: nothing to send)."""
        if self.submitted is not None:
            return frozenset(s.sample_index for s in self.submitted.get(item_id, ()))
        return frozenset(range(self.k))


@dataclass
class RunResults:
    """What came back: per item, the sample indices received; and in-band errors.

    Only indices are kept (the samples themselves go to the caller as they arrive), so the
    driver's memory does not grow with the text of the samples.
    """

    received: dict[str, set[int]] = field(default_factory=dict)
    item_errors: dict[str, str] = field(default_factory=dict)

    def add(self, response: judge_pb2.EvaluateItemsResponse) -> bool:
        """Record a response; False when its sample was received before (a resend)."""
        if response.error:
            self.item_errors[response.item_id] = response.error
            return True
        self.item_errors.pop(response.item_id, None)
        indices = self.received.setdefault(response.item_id, set())
        if response.sample.sample_index in indices:
            return False
        indices.add(response.sample.sample_index)
        return True

    def is_complete(self, plan: RunPlan, item: Item) -> bool:
        """True when every expected sample of the item came back with its verdict."""
        expected = plan.expected_indices(item)
        return bool(expected) and expected <= self.received.get(item.id, set())

    def answered(self) -> int:
        """Samples received so far."""
        return sum(len(indices) for indices in self.received.values())


@dataclass(frozen=True)
class Patience:
    """How long to keep resending after broken streams."""

    attempts_without_progress: int = 6
    first_pause_s: float = 1.0
    longest_pause_s: float = 30.0


def create_run(client: RunClient, run_id: str, settings: Mapping[str, Any]) -> str:
    """Create the run (or find it, created with the same settings); returns its id."""
    response = client.create_run({"run_id": run_id, "settings": dict(settings)})
    return response.run.run_id


def evaluate(
    client: RunClient,
    plan: RunPlan,
    *,
    on_response: Callable[[judge_pb2.EvaluateItemsResponse], None] = lambda _: None,
    on_retry: Callable[[grpc.RpcError, float], None] = lambda _e, _s: None,
    max_in_flight: int = 16,
    patience: Patience = Patience(),
    sleep: Callable[[float], None] = time.sleep,
) -> RunResults:
    """Send every item of the plan until each is complete or the server gives up on it.

    `on_response` sees each sample once (not again when a resend returns it) and each
    in-band error.

    Raises the last grpc.RpcError when a non-retryable status ends a stream, or when
    `patience` runs out with items still pending.
    """
    results = RunResults()
    failures_in_a_row = 0
    while True:
        todo = [
            item
            for item in plan.items
            if plan.expected_indices(item)
            and not results.is_complete(plan, item)
            and item.id not in results.item_errors
        ]
        if not todo:
            return results
        pending = PendingItems(plan.k)
        answered_before = results.answered()
        try:
            for response in client.evaluate_items(
                (plan.request(item) for item in todo),
                k=plan.k,
                max_in_flight=max_in_flight,
                pending=pending,
            ):
                if results.add(response):
                    on_response(response)
            return results  # the stream ended normally: every item was answered
        except grpc.RpcError as error:
            if error.code() not in RETRYABLE:
                raise
            progressed = results.answered() > answered_before
            failures_in_a_row = 0 if progressed else failures_in_a_row + 1
            if failures_in_a_row >= patience.attempts_without_progress:
                raise
            pause = min(
                patience.first_pause_s * 2 ** max(failures_in_a_row - 1, 0),
                patience.longest_pause_s,
            )
            on_retry(error, pause)
            sleep(pause)


def item_message(item: Item) -> dict[str, Any]:
    """An Item as a dict of the contract's Item message."""
    return {
        "id": item.id,
        "query": item.query,
        "risk_summary": item.risk_summary,
        "scenario": "SCENARIO_" + item.scenario.name,
        "label": item.label,
    }


def sample_message(sample: SubmittedSample) -> dict[str, Any]:
    """A submitted sample as a dict of the contract's Sample message."""
    return {
        "sample_index": sample.sample_index,
        "reasoning": sample.reasoning,
        "answer": sample.answer,
        "status": "SAMPLE_STATUS_" + sample.status.name,
    }
