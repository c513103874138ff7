"""What is wrong with judged samples, by row and field, for the entry points to word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad value: the 0-based row of the input, the field (see verdicts.FIELDS), and why.

    `row` is None for a problem of the input as a whole (no rows at all). `other_row` is the
    earlier row it conflicts with, for duplicates and disagreements.
    """

    row: int | None
    field: str
    description: str
    other_row: int | None = None


class VerdictError(ValueError):
    """Judged samples that cannot be scored; each problem names its row and field."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "; ".join(
                (f"row {p.row}, {p.field}: " if p.row is not None else f"{p.field}: ")
                + p.description
                for p in self.problems
            )
        )


class UnreadableFile(ValueError):  # noqa: N818 - named for what the user gave
    """A verdict file that cannot be read at all; the message names the row and column."""
