"""Where verdict rows come from: verdict files and run folders, behind one small port.

A `VerdictSource` gives the rows metrics score (as a located `VerdictFile`, so that bad
input is reported by file, row and column), passes each row with its optional facts to the
caller as it reads it (one pass over the file), and gives the text of the traces judged. A
source that reads a stored run from a server implements the same two methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bsa_judge.metrics.files import VerdictFile, read_verdict_file
from bsa_judge.metrics.problems import UnreadableFile
from bsa_judge.report.details import (
    SampleKey,
    TraceText,
    VerdictDetail,
    details_from_columns,
    read_sample_texts,
    verdict_detail,
)

#: What a run folder (written by `bsa-judge run`) holds, by file name.
RUN_VERDICTS = "verdicts.jsonl"
RUN_SAMPLES = "samples.jsonl"

#: Receives each verdict row, with whatever optional facts it carries.
DetailSink = Callable[[VerdictDetail], object]


class ReportInputError(Exception):
    """Input the report cannot be built from; already worded for the user."""


class VerdictSource(Protocol):
    """A source of judged samples for the report."""

    @property
    def name(self) -> str:
        """How the user names the source (a path), for messages."""
        ...

    def read(self, on_detail: DetailSink) -> VerdictFile:
        """The rows to score, each also passed to `on_detail` with its optional facts.

        Raises ReportInputError naming the source.
        """
        ...

    def trace_texts(self, wanted: set[SampleKey]) -> dict[SampleKey, TraceText]:
        """The recorded trace text of the wanted samples, beyond what the rows carry."""
        ...


@dataclass(frozen=True)
class VerdictFileSource:
    """An official evaluation CSV or a JSONL verdict export (what `bsa-judge metrics` reads)."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def read(self, on_detail: DetailSink) -> VerdictFile:
        return _read(self.path, on_detail)

    def trace_texts(self, wanted: set[SampleKey]) -> dict[SampleKey, TraceText]:
        return {}


@dataclass(frozen=True)
class RunFolderSource:
    """A run folder: verdicts.jsonl, and samples.jsonl for the traces' text when present."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def read(self, on_detail: DetailSink) -> VerdictFile:
        verdicts = self.path / RUN_VERDICTS
        if not verdicts.is_file():
            raise ReportInputError(f"{self.path}: a run folder needs {RUN_VERDICTS}; none found")
        return _read(verdicts, on_detail)

    def trace_texts(self, wanted: set[SampleKey]) -> dict[SampleKey, TraceText]:
        samples = self.path / RUN_SAMPLES
        if not wanted or not samples.is_file():
            return {}
        return read_sample_texts(samples, wanted)


def source_for(path: Path) -> VerdictSource:
    """A run folder for a directory, a verdict file otherwise."""
    if path.is_dir():
        return RunFolderSource(path)
    return VerdictFileSource(path)


def _read(path: Path, on_detail: DetailSink) -> VerdictFile:
    def on_record(record: dict[str, Any]) -> None:
        detail = verdict_detail(record)
        if detail is not None:
            on_detail(detail)

    try:
        file = read_verdict_file(path, on_record)
    except UnreadableFile as error:
        raise ReportInputError(f"{path}: {error}") from None
    except OSError as error:
        raise ReportInputError(f"{path}: {error.strerror or error}") from None
    if file.line_numbers is None:  # an official CSV: labels only
        for detail in details_from_columns(file):
            on_detail(detail)
    return file
