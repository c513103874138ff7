"""Domain errors. The service maps each to one gRPC status in one interceptor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field of a request: its path (e.g. "trace.item.query") and what is wrong."""

    field: str
    description: str


class BsaJudgeError(Exception):
    """Base of the errors the service reports to callers."""


class InvalidInput(BsaJudgeError):  # noqa: N818 - named for what the caller sent
    """The request is malformed; each bad field is named (INVALID_ARGUMENT)."""

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in self.violations))


class NotFound(BsaJudgeError):  # noqa: N818
    """A named thing (model backend, judge, run) does not exist (NOT_FOUND)."""


class FailedPrecondition(BsaJudgeError):  # noqa: N818
    """The request is valid but the server is not set up for it (FAILED_PRECONDITION)."""


def invalid(field: str, description: str) -> InvalidInput:
    """Shorthand for a one-field InvalidInput."""
    return InvalidInput([FieldViolation(field, description)])
