"""Trace validation: every bad field of a trace is named, with the request's field path."""

from __future__ import annotations

from dataclasses import dataclass

from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.errors import FieldViolation, InvalidInput
from bsa_judge.judging.trace import Trace

# Samples whose generation produced no completion have nothing to judge.
_UNJUDGEABLE = (SampleStatus.UPSTREAM_ERROR, SampleStatus.TIMEOUT)


@dataclass(frozen=True, slots=True)
class TraceInput:
    """A trace as received, before validation.

    `scenario` and `sample_status` are None when the caller left them unset or sent a value
    we do not know (the service edge decides which); `present` is False for an empty request.
    """

    item_id: str = ""
    query: str = ""
    risk_summary: str = ""
    scenario: Scenario | None = None
    label: str = ""
    reasoning: str = ""
    answer: str = ""
    sample_status: SampleStatus | None = SampleStatus.OK
    model: str = ""
    sample_index: int = 0
    present: bool = True


def validate_trace(raw: TraceInput, *, max_field_bytes: int, path: str = "trace") -> Trace:
    """Return the trace, or raise InvalidInput naming every bad field under `path`."""
    violations = trace_violations(raw, max_field_bytes=max_field_bytes, path=path)
    if violations:
        raise InvalidInput(violations)
    assert raw.scenario is not None  # checked above
    assert raw.sample_status is not None
    item = Item(
        id=raw.item_id,
        query=raw.query,
        risk_summary=raw.risk_summary,
        scenario=raw.scenario,
        label=raw.label,
    )
    return Trace(
        item=item,
        reasoning=raw.reasoning,
        answer=raw.answer,
        sample_status=raw.sample_status,
        model=raw.model,
        sample_index=raw.sample_index,
    )


def trace_violations(
    raw: TraceInput, *, max_field_bytes: int, path: str = "trace"
) -> list[FieldViolation]:
    """Every problem of `raw`, in field order; empty when the trace can be judged."""
    if not raw.present:
        return [FieldViolation(path, "a trace is required")]
    item = f"{path}.item"
    found: list[FieldViolation] = []

    def require(field: str, value: str, what: str) -> None:
        if not value.strip():
            found.append(FieldViolation(field, f"{what} is required"))

    require(f"{item}.query", raw.query, "the item's query")
    require(f"{item}.risk_summary", raw.risk_summary, "the item's risk_summary")
    if raw.scenario is None:
        accepted = ", ".join(s.value for s in Scenario)
        found.append(FieldViolation(f"{item}.scenario", f"a scenario is required: {accepted}"))
    if raw.sample_status is None:
        found.append(FieldViolation(f"{path}.sample_status", "unknown sample status"))
    elif raw.sample_status in _UNJUDGEABLE:
        found.append(
            FieldViolation(
                f"{path}.sample_status",
                f"a sample with status {raw.sample_status.value} has no completion to judge",
            )
        )
    elif raw.sample_status is not SampleStatus.NO_REASONING:
        require(
            f"{path}.reasoning", raw.reasoning, "reasoning (unless sample_status is NO_REASONING)"
        )
    if raw.sample_index < 0:
        found.append(FieldViolation(f"{path}.sample_index", "must be 0 or more"))
    for field, value in (
        (f"{item}.id", raw.item_id),
        (f"{item}.query", raw.query),
        (f"{item}.risk_summary", raw.risk_summary),
        (f"{item}.label", raw.label),
        (f"{path}.reasoning", raw.reasoning),
        (f"{path}.answer", raw.answer),
        (f"{path}.model", raw.model),
    ):
        size = len(value.encode("utf-8"))
        if size > max_field_bytes:
            found.append(
                FieldViolation(field, f"{size} bytes is over the limit of {max_field_bytes} bytes")
            )
    return found
