"""The `bsa-judge` command: one subcommand per module in bsa_judge.commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bsa_judge.commands import db, health, metrics, report, run, serve

_COMMANDS = (serve, run, metrics, report, health, db)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="bsa-judge",
        description="Beyond Safe Answers judging service: generate, judge and score traces.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True)
    for command in _COMMANDS:
        command.register(subcommands)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
