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


class Overloaded(BsaJudgeError):  # noqa: N818
    """The server is at a limit for this kind of work; try again later (RESOURCE_EXHAUSTED)."""


def invalid(field: str, description: str) -> InvalidInput:
    """Shorthand for a one-field InvalidInput."""
    return InvalidInput([FieldViolation(field, description)])


NAME_SHOWN_CHARS = 64


def quoted(name: str) -> str:
    """`name` quoted for an error message, cut to its first NAME_SHOWN_CHARS characters:
    a caller's name can be any length, and a status message travels in size-limited metadata."""
    if len(name) <= NAME_SHOWN_CHARS:
        return repr(name)
    return f"{name[:NAME_SHOWN_CHARS]!r}... ({len(name)} characters)"


def quoted_list(names: Sequence[str], *, most: int = 5) -> str:
    """Up to `most` names, each `quoted`, and how many more there are."""
    shown = ", ".join(quoted(name) for name in names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"
