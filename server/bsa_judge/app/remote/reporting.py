"""The report: one self-contained HTML page of verdict files, run folders and stored runs of a
server, scored together. The `bsa-judge report` use case.

Files and run folders are read here (`bsa_judge.report.sources`); stored runs are read from
the server through the client SDK's JudgeClient (`bsa_judge.report.server_run`), which is
why this use case sits with the client-side ones. A report of files alone opens no
connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from bsa_judge.app.remote import bearer_token
from bsa_judge.benchmark.dataset import DatasetError, load_items
from bsa_judge.report.page import ReportOptions, report_html
from bsa_judge.report.server_run import RunReader, ServerError, ServerRunSource
from bsa_judge.report.sources import ReportInputError, VerdictSource, source_for

__all__ = ["ReportInputError", "ReportOptions", "ReportRequest", "ServerError", "report_page"]


@dataclass(frozen=True)
class ReportRequest:
    """What to report: files and run folders, stored runs of one server, and how."""

    sources: Sequence[Path]
    options: ReportOptions
    dataset: Path | None = None
    server: str | None = None
    run_ids: Sequence[str] = ()
    #: Score at the k the stored runs were made with (options.metrics.k must then equal it
    #: otherwise: a run scored at another k would count its items as incomplete).
    k_from_runs: bool = False
    token: str | None = None  # default: the one in TOKEN_ENV
    tls_ca: Path | None = None  # a CA: the server is reached over TLS


def report_page(request: ReportRequest) -> str:
    """The HTML page of every source of `request`.

    Raises ReportInputError naming the file, row and column of bad input, a missing source,
    a bad dataset, a source combination that cannot be reported or an unknown run;
    ServerError when the server cannot be reached or fails; OSError for a file that cannot
    be read.
    """
    _check_sources(request)
    for path in request.sources:
        if not path.exists():
            raise ReportInputError(f"{path}: no such file or folder")
    try:
        items = load_items(request.dataset) if request.dataset is not None else []
    except DatasetError as error:
        raise ReportInputError(str(error)) from None
    with _server_client(request) as client:
        sources: list[VerdictSource] = [source_for(path) for path in request.sources]
        runs: list[ServerRunSource] = []
        if client is not None and request.server is not None:
            runs = [ServerRunSource(client, request.server, run) for run in request.run_ids]
        options = _at_the_runs_k(request.options, runs, chosen=not request.k_from_runs)
        return report_html([*sources, *runs], options, items=items)


def _at_the_runs_k(
    options: ReportOptions, runs: Sequence[ServerRunSource], *, chosen: bool
) -> ReportOptions:
    """The options, with k the stored runs' own; ReportInputError when the runs differ in k,
    or when a run's k is not the `chosen` one (--k)."""
    if not runs:
        return options
    ks = {run.name: run.k() for run in runs}
    if chosen:
        for name, k in ks.items():
            if k != options.metrics.k:
                raise ReportInputError(
                    f"{name}: it was run with k={k}, not --k {options.metrics.k} "
                    "(leave --k out to score at the run's k)"
                )
        return options
    if len(set(ks.values())) > 1:
        listed = ", ".join(f"{name}: k={k}" for name, k in ks.items())
        raise ReportInputError(f"the runs differ in k ({listed}): report them separately")
    (k,) = set(ks.values())
    return replace(options, metrics=replace(options.metrics, k=k))


def _check_sources(request: ReportRequest) -> None:
    if request.run_ids and request.server is None:
        raise ReportInputError("--run-id needs --server HOST:PORT")
    if request.server is not None and not request.run_ids:
        raise ReportInputError("--server needs at least one --run-id")
    if not request.sources and not request.run_ids:
        raise ReportInputError("nothing to report: give verdict files, run folders or --run-id")


def _server_client(request: ReportRequest) -> AbstractContextManager[RunReader | None]:
    """The client SDK's JudgeClient for the request's server, or None without one."""
    if request.server is None:
        return nullcontext(None)
    from bsa_judge_client import JudgeClient, Tls

    tls = Tls.from_files(ca=request.tls_ca) if request.tls_ca is not None else None
    return JudgeClient(request.server, tls=tls, token=bearer_token(request.token))
