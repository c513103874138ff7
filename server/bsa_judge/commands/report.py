"""`bsa-judge report FILE_OR_RUN_DIR... [--server HOST:PORT --run-id ID...] --output report.html`:
one HTML page of the figures.

Reads verdict files (what `bsa-judge metrics` reads), run folders (what `bsa-judge run`
writes: verdicts.jsonl, and samples.jsonl for the traces' text) and stored runs of a server
(through the client SDK), scores them together and writes one self-contained page: the
leaderboard, Think@1 against Safe@1, the per-category heatmap, superficial-safety cases and
judge health. Bad input (an unknown run id among it) exits 2 naming file, row and column or
the run; a server that cannot be reached exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bsa_judge.commands.arguments import at_least
from bsa_judge.commands.metrics import add_scoring_arguments, scoring_options
from bsa_judge.commands.run import TOKEN_ENV

if TYPE_CHECKING:
    from bsa_judge.report.server_run import RunReader
    from bsa_judge.report.sources import VerdictSource

_BAD_INPUT = 2
_SERVER_FAILED = 1


def register(subcommands: Any) -> None:
    """Add the `report` subcommand."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        "report",
        help="write one self-contained HTML report of verdict files and run folders",
        description="Write one HTML page (no network needed to open it): models ranked by "
        "F-score with every figure and its 95%% interval, Think@1 against Safe@1, the "
        "per-category heatmap, superficial-safety cases and judge health.",
    )
    parser.add_argument(
        "sources",
        nargs="*",
        type=Path,
        metavar="FILE_OR_RUN_DIR",
        help="official evaluation CSV, JSONL verdict export, or run folder (verdicts.jsonl)",
    )
    parser.add_argument(
        "--output", type=Path, required=True, metavar="HTML", help="the page to write"
    )
    parser.add_argument(
        "--dataset",
        type=Path,
        metavar="CSV",
        help="official dataset CSV: risk categories, queries and risk summaries by item id",
    )
    parser.add_argument(
        "--server", metavar="HOST:PORT", help="gRPC target of the server holding --run-id runs"
    )
    parser.add_argument(
        "--run-id", action="append", default=[], metavar="ID",
        help="a stored run of --server to report (repeat for several)",
    )  # fmt: skip
    parser.add_argument(
        "--token", help=f"bearer token (default: the {TOKEN_ENV} environment variable)"
    )
    parser.add_argument("--tls-ca", type=Path, help="CA of the server certificate: use TLS")
    add_scoring_arguments(parser)
    parser.add_argument(
        "--cases", type=at_least(0), default=5, metavar="N",
        help="superficial-safety cases shown per scenario (default 5)",
    )  # fmt: skip
    parser.add_argument("--title", default="Beyond Safe Answers report", help="page title")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build and write the report; returns 0, 2 for bad input, 1 when the server fails."""
    from bsa_judge.benchmark.dataset import DatasetError, load_items
    from bsa_judge.report.page import ReportOptions, report_html
    from bsa_judge.report.server_run import ServerError
    from bsa_judge.report.sources import ReportInputError, source_for

    options = ReportOptions(
        metrics=scoring_options(args),
        cases_per_scenario=args.cases,
        title=args.title,
    )
    try:
        _check_sources(args)
        for path in args.sources:
            if not path.exists():
                raise ReportInputError(f"{path}: no such file or folder")
        items = load_items(args.dataset) if args.dataset is not None else []
        with _server_client(args) as client:
            sources: list[VerdictSource] = [source_for(p) for p in args.sources]
            sources += _server_sources(client, args.server, args.run_id)
            html = report_html(sources, options, items=items)
    except (ReportInputError, DatasetError) as error:
        sys.stderr.write(f"bsa-judge report: {error}\n")
        return _BAD_INPUT
    except ServerError as error:
        sys.stderr.write(f"bsa-judge report: {error}\n")
        return _SERVER_FAILED
    except OSError as error:
        sys.stderr.write(f"bsa-judge report: {error.filename}: {error.strerror or error}\n")
        return _BAD_INPUT
    args.output.write_text(html, encoding="utf-8")
    sys.stdout.write(f"bsa-judge report: wrote {args.output} ({len(html.encode()):,} bytes)\n")
    return 0


def _check_sources(args: argparse.Namespace) -> None:
    from bsa_judge.report.sources import ReportInputError

    if args.run_id and args.server is None:
        raise ReportInputError("--run-id needs --server HOST:PORT")
    if args.server is not None and not args.run_id:
        raise ReportInputError("--server needs at least one --run-id")
    if not args.sources and not args.run_id:
        raise ReportInputError("nothing to report: give verdict files, run folders or --run-id")


def _server_client(args: argparse.Namespace) -> AbstractContextManager[RunReader | None]:
    """The client SDK's JudgeClient for --server, or None without one."""

    if args.server is None:
        return nullcontext(None)
    from bsa_judge_client import JudgeClient, Tls

    from bsa_judge.env_secrets import read_secret

    tls = Tls.from_files(ca=args.tls_ca) if args.tls_ca is not None else None
    token = args.token or read_secret(TOKEN_ENV) or None
    return JudgeClient(args.server, tls=tls, token=token)


def _server_sources(
    client: RunReader | None, target: str | None, run_ids: Sequence[str]
) -> list[VerdictSource]:
    from bsa_judge.report.server_run import ServerRunSource

    if client is None or target is None:
        return []
    return [ServerRunSource(client, target, run_id) for run_id in run_ids]
