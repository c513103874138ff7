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

from bsa_judge.commands.metrics import DEFAULT_K, DEFAULT_RESAMPLES, _alpha, _at_least
from bsa_judge.metrics.policy import MissingSamplePolicy
from bsa_judge.metrics.report import OFFICIAL_ALPHA, MetricsOptions

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
    parser.add_argument("--k", type=_at_least(1), default=DEFAULT_K, help="samples per item")
    parser.add_argument("--alpha", type=_alpha, default=OFFICIAL_ALPHA, help="F-score weight")
    parser.add_argument(
        "--policy",
        choices=[p.value.replace("_", "-") for p in MissingSamplePolicy],
        default=MissingSamplePolicy.COUNT_USABLE_FOR_AT_1.value.replace("_", "-"),
        help="how items with fewer than k usable samples count (default: %(default)s)",
    )
    parser.add_argument(
        "--bootstrap", type=_at_least(0), default=DEFAULT_RESAMPLES, metavar="N",
        help=f"bootstrap resamples for 95%% intervals (default {DEFAULT_RESAMPLES})",
    )  # fmt: skip
    parser.add_argument("--seed", type=_at_least(0), default=0, help="bootstrap seed")
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
        metrics=MetricsOptions(
            k=args.k,
            alpha=args.alpha,
            policy=MissingSamplePolicy.parse(args.policy),
            bootstrap_resamples=args.bootstrap,
            seed=args.seed,
        ),
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
