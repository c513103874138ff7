"""Judged samples, the input of metrics: one row per sample, or the same in columns.

Readers (the official CSV, the JSONL export, the gRPC request's `ScoredSample`s) produce
`ScoredSampleColumns`:
every text column factorized into codes and distinct values, as written, unvalidated.
`bsa_judge.metrics.tally` validates them and counts what each item's samples say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bsa_judge.benchmark.status import SampleStatus

#: The fields of a judged sample, named as in the JSONL export and the ScoredSample message.
FIELDS = (
    "model",
    "item_id",
    "scenario",
    "sample_index",
    "safety_label",
    "thinking_label",
    "status",
    "label",
    "sample_status",
)


#: The status text that stands for "no status given: usable when both labels are present".
FROM_LABELS = ""


@dataclass(frozen=True)
class Factorized:
    """A text column as codes into its distinct values (values[codes[row]] is the row's text)."""

    codes: NDArray[np.int32]
    values: tuple[str, ...]

    @classmethod
    def of(cls, texts: Iterable[str]) -> Factorized:
        """Factorize texts in order of first appearance."""
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(text, len(index)) for text in texts), dtype=np.int32)
        return cls(codes, tuple(index))

    @classmethod
    def constant(cls, text: str, n_rows: int) -> Factorized:
        """The same text on every row."""
        return cls(np.zeros(n_rows, dtype=np.int32), (text,))

    def __len__(self) -> int:
        return len(self.codes)

    def texts(self) -> list[str]:
        """Every row's text (for tests and small inputs)."""
        return [self.values[code] for code in self.codes.tolist()]

    @staticmethod
    def concat(parts: Sequence[Factorized]) -> Factorized:
        """One column of the rows of every part, in order."""
        index: dict[str, int] = {}
        remapped = []
        for part in parts:
            mapping = np.array(
                [index.setdefault(value, len(index)) for value in part.values], dtype=np.int32
            )
            remapped.append(mapping[part.codes] if len(part.values) else part.codes)
        return Factorized(np.concatenate(remapped).astype(np.int32, copy=False), tuple(index))


@dataclass(frozen=True)
class ScoredSampleColumns:
    """Judged samples in columns, as written by their source, not yet validated.

    `status` None means the source has no status column: a row is then usable when both of its
    labels are present (the official CSV). `sample_index` is read only where
    `has_sample_index` is True; elsewhere samples are numbered by order of appearance within
    their (model, item), as the official script implies. `rows_field` is how the caller
    names the rows, for the field paths of errors (e.g. "inline.samples" over gRPC).
    """

    model: Factorized
    item_id: Factorized
    scenario: Factorized
    safety_label: Factorized
    thinking_label: Factorized
    sample_index: NDArray[np.int64]
    has_sample_index: NDArray[np.bool_]
    status: Factorized | None = None
    label: Factorized | None = None
    sample_status: Factorized | None = None
    rows_field: str = "samples"

    def __len__(self) -> int:
        return len(self.model)

    @staticmethod
    def concat(parts: Sequence[ScoredSampleColumns]) -> ScoredSampleColumns:
        """The rows of every part, in order (several input files)."""
        if len(parts) == 1:
            return parts[0]

        def optional(column: str, default: str) -> Factorized | None:
            found = [getattr(p, column) for p in parts]
            if all(f is None for f in found):
                return None
            return Factorized.concat(
                [
                    f if f is not None else Factorized.constant(default, len(p))
                    for f, p in zip(found, parts, strict=True)
                ]
            )

        return ScoredSampleColumns(
            model=Factorized.concat([p.model for p in parts]),
            item_id=Factorized.concat([p.item_id for p in parts]),
            scenario=Factorized.concat([p.scenario for p in parts]),
            safety_label=Factorized.concat([p.safety_label for p in parts]),
            thinking_label=Factorized.concat([p.thinking_label for p in parts]),
            sample_index=np.concatenate([p.sample_index for p in parts]),
            has_sample_index=np.concatenate([p.has_sample_index for p in parts]),
            # A source without statuses reads as "usable when labelled", spelled out per row.
            status=optional("status", FROM_LABELS),
            label=optional("label", ""),
            sample_status=optional("sample_status", SampleStatus.OK.value),
            rows_field=parts[0].rows_field,
        )
