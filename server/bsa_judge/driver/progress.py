"""What the user sees while a run goes: a rich progress bar on a terminal (items, samples,
verdicts, errors, rate, ETA), plain periodic lines otherwise (logs, CI, Kubernetes)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import TextIO

from bsa.judge.v1 import judge_pb2
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_FAILED_SAMPLES = frozenset(
    {judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR, judge_pb2.SAMPLE_STATUS_TIMEOUT}
)
_JUDGED = frozenset({judge_pb2.JUDGMENT_STATUS_OK, judge_pb2.JUDGMENT_STATUS_NOT_JUDGED})


@dataclass
class Counts:
    """Running totals of a run's responses."""

    items_total: int
    samples_total: int
    items_done: int = 0
    samples: int = 0
    verdicts: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)

    def count(self, response: judge_pb2.EvaluateItemsResponse, item_done: bool) -> None:
        """Count one response; `item_done` when it completed its item."""
        if response.error:
            self.errors += 1
        else:
            self.samples += 1
            if response.sample.status in _FAILED_SAMPLES or response.verdict.status not in _JUDGED:
                self.errors += 1
            else:
                self.verdicts += 1
        if item_done:
            self.items_done += 1

    def line(self) -> str:
        """One plain progress line."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.samples / elapsed
        left = self.samples_total - self.samples
        eta = f"{left / rate:.0f}s" if rate > 0 else "?"
        return (
            f"items {self.items_done}/{self.items_total} samples {self.samples}/"
            f"{self.samples_total} verdicts {self.verdicts} errors {self.errors} "
            f"rate {rate:.1f}/s eta {eta}"
        )


class ProgressView:
    """A rich bar when `stream` is a terminal, else a line every `every_s` seconds."""

    def __init__(self, counts: Counts, stream: TextIO = sys.stderr, every_s: float = 10.0):
        self.counts = counts
        self._stream = stream
        self._every_s = every_s
        self._last_line = time.monotonic()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if stream.isatty():
            self._progress = Progress(
                TextColumn("[bold]samples"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=stream),
            )

    def __enter__(self) -> ProgressView:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(
                "samples", total=self.counts.samples_total, detail=self._detail()
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
        else:
            self._stream.write(self.counts.line() + "\n")

    def update(self, response: judge_pb2.EvaluateItemsResponse, item_done: bool) -> None:
        """Count a response and show it."""
        self.counts.count(response, item_done)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.counts.samples, detail=self._detail())
        elif time.monotonic() - self._last_line >= self._every_s:
            self._last_line = time.monotonic()
            self._stream.write(self.counts.line() + "\n")
            self._stream.flush()

    def note(self, text: str) -> None:
        """A message between the updates (a retry, say)."""
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            self._stream.write(text + "\n")

    def _detail(self) -> str:
        c = self.counts
        return f"items {c.items_done}/{c.items_total}  verdicts {c.verdicts}  errors {c.errors}"
