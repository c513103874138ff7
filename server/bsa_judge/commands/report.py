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
from pathlib import Path
from typing import Any

from bsa_judge.app.remote import TOKEN_ENV
from bsa_judge.commands.arguments import at_least
from bsa_judge.commands.metrics import add_scoring_arguments, scoring_options

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
    add_scoring_arguments(
        parser, k_help="samples per item (default: the k of the --run-id runs, else 5)"
    )
    parser.add_argument(
        "--cases", type=at_least(0), default=5, metavar="N",
        help="superficial-safety cases shown per scenario (default 5)",
    )  # fmt: skip
    parser.add_argument("--title", default="Beyond Safe Answers report", help="page title")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build and write the report; returns 0, 2 for bad input, 1 when the server fails."""
    # Imported here, not at the top: `bsa-judge --help` registers every subcommand.
    from bsa_judge.app.remote.reporting import (
        ReportInputError,
        ReportOptions,
        ReportRequest,
        ServerError,
        report_page,
    )

    request = ReportRequest(
        sources=args.sources,
        options=ReportOptions(
            metrics=scoring_options(args), cases_per_scenario=args.cases, title=args.title
        ),
        dataset=args.dataset,
        server=args.server,
        run_ids=args.run_id,
        k_from_runs=args.k is None,
        token=args.token,
        tls_ca=args.tls_ca,
    )
    try:
        html = report_page(request)
    except ReportInputError as error:
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
