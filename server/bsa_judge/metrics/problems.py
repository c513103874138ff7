"""What is wrong with judged samples, by row and field, for the entry points to word."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bsa_judge.errors import FieldViolation, InvalidInput


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


class ScoredSampleError(InvalidInput):
    """Judged samples that cannot be scored; each problem names its row and field.

    An InvalidInput (INVALID_ARGUMENT over gRPC) with one field violation per problem at
    `<rows_field>[<row>].<field>`, e.g. "inline.samples[3].safety_label"; a problem of the
    input as a whole is at `rows_field` itself. The CLI words `problems` in its files' terms.
    """

    def __init__(self, problems: Sequence[RowProblem], rows_field: str = "samples") -> None:
        self.problems = tuple(problems)
        self.rows_field = rows_field
        super().__init__([_violation(problem, rows_field) for problem in self.problems])


def _violation(problem: RowProblem, rows_field: str) -> FieldViolation:
    if problem.row is None:
        return FieldViolation(rows_field, problem.description)
    description = problem.description
    if problem.other_row is not None:
        description += f" (as {rows_field}[{problem.other_row}])"
    return FieldViolation(f"{rows_field}[{problem.row}].{problem.field}", description)


class UnreadableFile(ValueError):  # noqa: N818 - named for what the user gave
    """A verdict file that cannot be read at all; the message names the row and column."""
