"""`bsa-judge metrics FILE...`: benchmark figures from verdict files."""

from __future__ import annotations

import argparse
from typing import Any


def register(subcommands: Any) -> None:
    """Add the `metrics` subcommand."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        "metrics", help="compute the benchmark figures from verdict files"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print the figures."""
    raise NotImplementedError("metrics lands with the metrics issue")
