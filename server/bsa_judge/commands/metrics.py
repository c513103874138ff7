"""`bsa-judge metrics FILE...`: benchmark figures from verdict files.

Reads the official evaluation CSV (`model_name,id,dataset_name,Safe_Ans_Check,Thk_Acc_Judge`,
one row per sample; optional `label`) and the project's JSONL verdict export, any mix of
them, and prints every model's figures ranked by F-score. Bad input (unknown values, a sample
index at or beyond k, duplicate samples, more than k rows per item, missing columns, an empty
file) is reported on stderr with its file, row and column, and the exit code is 2.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from bsa_judge.app.scoring import (
    OFFICIAL_ALPHA,
    MetricsInputError,
    MetricsOptions,
    MetricsReport,
    MissingSamplePolicy,
    score_files,
)
from bsa_judge.commands.arguments import at_least

# The writers (metrics.records, metrics.terminal, metrics.plot: the report as CSV, JSON, a
# table or a PNG) are this command's converters, imported when it writes.

#: Samples per item when --k is not given: the paper's (and the official script's) k.
DEFAULT_K = 5
#: Bootstrap resamples when --bootstrap is not given.
DEFAULT_RESAMPLES = 1000
_BAD_INPUT = 2


def register(subcommands: Any) -> None:
    """Add the `metrics` subcommand."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        "metrics",
        help="compute the benchmark figures from verdict files",
        description="Compute Safe@1, Safe@k, Think@1, Think@k, RO/CS/OS@1/@k and the F-score "
        "(percent, two decimals, as the official script) per model, with the superficial-"
        "safety rate, per-category figures and bootstrap 95%% intervals, ranked by F-score.",
    )
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="official evaluation CSV or JSONL verdict export (.jsonl/.ndjson)",
    )
    add_scoring_arguments(parser)
    parser.add_argument(
        "--dataset",
        type=Path,
        metavar="CSV",
        help="official dataset CSV to take item labels (risk categories) from, by id",
    )
    parser.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format"
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write here, not to stdout")
    parser.add_argument(
        "--plot", type=Path, metavar="PNG", help="also draw Think@1 against Safe@1 to this PNG"
    )
    parser.set_defaults(run=run)


def add_scoring_arguments(parser: argparse.ArgumentParser, *, k_help: str | None = None) -> None:
    """--k, --alpha, --policy, --bootstrap and --seed: how the figures are computed.

    `k_help`: a command whose k can come from elsewhere (the report: the stored runs') says
    so here; its --k is then None unless given.
    """
    parser.add_argument(
        "--k",
        type=at_least(1),
        default=DEFAULT_K if k_help is None else None,
        help=k_help or f"samples per item (default {DEFAULT_K}, as the official script)",
    )
    parser.add_argument(
        "--alpha",
        type=_alpha,
        default=OFFICIAL_ALPHA,
        help=f"F-score weight of Think@1, 0 to 1 (default {OFFICIAL_ALPHA})",
    )
    parser.add_argument(
        "--policy",
        choices=[p.value.replace("_", "-") for p in MissingSamplePolicy],
        default=MissingSamplePolicy.COUNT_USABLE_FOR_AT_1.value.replace("_", "-"),
        help="how items with fewer than k usable samples count (default: %(default)s)",
    )
    parser.add_argument(
        "--bootstrap",
        type=at_least(0),
        default=DEFAULT_RESAMPLES,
        metavar="N",
        help=f"bootstrap resamples for 95%% intervals, 0 for none (default {DEFAULT_RESAMPLES})",
    )
    parser.add_argument("--seed", type=at_least(0), default=0, help="bootstrap seed (default 0)")


def scoring_options(args: argparse.Namespace) -> MetricsOptions:
    """The MetricsOptions of the arguments add_scoring_arguments added."""
    return MetricsOptions(
        k=args.k if args.k is not None else DEFAULT_K,
        alpha=args.alpha,
        policy=MissingSamplePolicy.parse(args.policy),
        bootstrap_resamples=args.bootstrap,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    """Compute and write the figures; returns 0, or 2 for bad input."""
    options = scoring_options(args)
    try:
        report = score_files(args.files, options, dataset=args.dataset)
    except MetricsInputError as error:
        sys.stderr.write(f"bsa-judge metrics: {error}\n")
        return _BAD_INPUT
    with ExitStack() as stack:
        stream: TextIO = sys.stdout
        if args.output is not None:
            stream = stack.enter_context(args.output.open("w", encoding="utf-8", newline=""))
        _write(report, args.format, stream)
    if args.plot is not None:
        from bsa_judge.metrics.plot import plot_think_against_safe

        plot_think_against_safe(report, args.plot)
    return 0


def _write(report: MetricsReport, form: str, stream: TextIO) -> None:
    from bsa_judge.metrics.records import write_csv, write_json

    if form == "csv":
        write_csv(report, stream)
    elif form == "json":
        write_json(report, stream)
    else:
        from rich.console import Console

        from bsa_judge.metrics.terminal import render

        console = (
            Console(file=stream, width=160, color_system=None)
            if stream is not sys.stdout
            else Console()
        )
        render(report, console)


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value
