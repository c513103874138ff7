"""`bsa-judge run`: the whole benchmark on a model as one resumable run, driven through the
client SDK against a running server.

    bsa-judge run --server HOST:PORT --model NAME --dataset FILE --k 5 [--run-id ID] ...

Exit 0 when every item has k samples (usable or explicitly failed), each with its verdict;
2 on bad input (the message names the file and row); 1 otherwise. Running the same command
again with the run's `--run-id` resumes it: what is stored is not generated or judged again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bsa_judge.app.remote import TOKEN_ENV
from bsa_judge.commands.arguments import at_least

if TYPE_CHECKING:
    from bsa_judge.app.remote.driving import Scenario

_BAD_INPUT = 2
__all__ = ["TOKEN_ENV", "register", "run"]


def register(subcommands: Any) -> None:
    """Add the `run` subcommand."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        "run",
        help="run the benchmark on a model (or on traces) against a server, resumably",
        description="Evaluate a model on the benchmark through a bsa-judge server: generate "
        "k samples per item, judge each, write the outputs and print the figures. Run it "
        "again with the same --run-id to resume.",
    )
    parser.add_argument("--server", required=True, metavar="HOST:PORT", help="gRPC target")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="model backend of the server to evaluate")
    source.add_argument(
        "--traces",
        type=Path,
        metavar="FILE",
        help="judge samples generated elsewhere: JSONL, or the official batch-inference CSV",
    )
    parser.add_argument(
        "--traces-model",
        metavar="NAME",
        help="with --traces: the name of the model that produced them (default: file name)",
    )
    parser.add_argument("--dataset", required=True, type=Path, help="dataset CSV or JSONL")
    parser.add_argument("--k", type=at_least(1), default=5, help="samples per item (5)")
    parser.add_argument("--run-id", default="", help="run id; the same id resumes the run")
    parser.add_argument("--output", type=Path, help="output folder (default runs/<run-id>/)")
    parser.add_argument("--judge", default="", help="judge backend (default: the server's)")
    parser.add_argument(
        "--safety-rules", action="store_true", help="send the safety-rules system prompt"
    )
    parser.add_argument(
        "--scenario",
        nargs="+",
        type=_scenario,
        metavar="RO|CS|OS",
        help="only items of these scenarios",
    )
    parser.add_argument("--ids", type=Path, metavar="FILE", help="only these item ids (one a line)")
    parser.add_argument("--limit", type=at_least(1), metavar="N", help="at most N items")
    parser.add_argument("--sample", type=at_least(1), metavar="N", help="N random items")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of --sample (0)")
    parser.add_argument(
        "--shard", default="0/1", metavar="I/N", help="work on shard I of N of the items"
    )
    parser.add_argument(
        "--token", help=f"bearer token (default: the {TOKEN_ENV} environment variable)"
    )
    parser.add_argument("--tls-ca", type=Path, help="CA of the server certificate: use TLS")
    parser.add_argument(
        "--max-in-flight", type=at_least(1), default=32, metavar="N", help="items in flight"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the benchmark run; returns the exit code."""
    # Imported here, not at the top: `bsa-judge --help` registers every subcommand.
    from bsa_judge.app.remote.driving import RunInputError, RunOptions, drive_run

    try:
        return drive_run(RunOptions.from_args(args, token=args.token))
    except RunInputError as error:
        sys.stderr.write(f"bsa-judge run: {error}\n")
        return _BAD_INPUT


def _scenario(text: str) -> Scenario:
    from bsa_judge.app.remote.driving import Scenario

    try:
        return Scenario.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
