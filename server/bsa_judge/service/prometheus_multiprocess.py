"""Prometheus metrics of several worker processes, summed on one /metrics endpoint.

prometheus-client's multiprocess mode: a process that imports prometheus_client while
PROMETHEUS_MULTIPROC_DIR is set keeps every metric value in memory-mapped files of that
folder, one file per metric type and pid; the supervisor reads them all with a
`MultiProcessCollector`. Counters and histograms are summed over every pid, a worker that
died included, so they never go back; the gauges of bsa_judge.telemetry are "livesum" (the
sum over the workers alive), and `mark_process_dead` drops a dead worker's from the sum.
What only a single process exports (process_* and python_* series) is absent.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess

#: The variable prometheus-client reads when it is first imported in a process.
DIRECTORY_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def multiprocess_directory() -> Iterator[Path]:
    """A folder for the workers' metric files, named in PROMETHEUS_MULTIPROC_DIR for the
    processes started inside the block.

    A folder already named there is emptied first (files of an earlier run would be summed
    in); otherwise a new one is made under the temporary folder and removed afterwards.
    """
    given = os.environ.get(DIRECTORY_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="bsa-judge-metrics-"))
    os.environ[DIRECTORY_ENV] = str(directory)
    try:
        yield directory
    finally:
        del os.environ[DIRECTORY_ENV]
        shutil.rmtree(directory, ignore_errors=True)


def summed_registry(directory: Path) -> CollectorRegistry:
    """A registry whose only collector sums the metric files in `directory`."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return registry


def mark_worker_dead(directory: Path, pid: int) -> None:
    """Leave a dead worker's live gauges out of the sum (its counters stay)."""
    multiprocess.mark_process_dead(pid, path=str(directory))  # type: ignore[no-untyped-call]
