"""`bsa-judge report FILE_OR_RUN_DIR... --output report.html`: one HTML page of the figures.

Reads verdict files (what `bsa-judge metrics` reads) and run folders (what `bsa-judge run`
writes: verdicts.jsonl, and samples.jsonl for the traces' text), scores them together and
writes one self-contained page: the leaderboard, Think@1 against Safe@1, the per-category
heatmap, superficial-safety cases and judge health. Bad input exits 2 naming file, row and
column.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bsa_judge.commands.metrics import _at_least, add_scoring_arguments, scoring_options

_BAD_INPUT = 2


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
        nargs="+",
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
    add_scoring_arguments(parser)
    parser.add_argument(
        "--cases", type=_at_least(0), default=5, metavar="N",
        help="superficial-safety cases shown per scenario (default 5)",
    )  # fmt: skip
    parser.add_argument("--title", default="Beyond Safe Answers report", help="page title")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build and write the report; returns 0, or 2 for bad input."""
    from bsa_judge.benchmark.dataset import DatasetError, load_items
    from bsa_judge.report.page import ReportOptions, report_html
    from bsa_judge.report.sources import ReportInputError, source_for

    options = ReportOptions(
        metrics=scoring_options(args),
        cases_per_scenario=args.cases,
        title=args.title,
    )
    try:
        for path in args.sources:
            if not path.exists():
                raise ReportInputError(f"{path}: no such file or folder")
        items = load_items(args.dataset) if args.dataset is not None else []
        html = report_html([source_for(p) for p in args.sources], options, items=items)
    except (ReportInputError, DatasetError) as error:
        sys.stderr.write(f"bsa-judge report: {error}\n")
        return _BAD_INPUT
    except OSError as error:
        sys.stderr.write(f"bsa-judge report: {error.filename}: {error.strerror or error}\n")
        return _BAD_INPUT
    args.output.write_text(html, encoding="utf-8")
    sys.stdout.write(f"bsa-judge report: wrote {args.output} ({len(html.encode()):,} bytes)\n")
    return 0
