"""The `bsa-judge` command: one subcommand per module in bsa_judge.commands."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Subcommand name -> its module in bsa_judge.commands, in the order `--help` lists them.
_COMMANDS = {
    "serve": "serve",
    "run": "run",
    "metrics": "metrics",
    "report": "report",
    "calibrate": "calibrate",
    "health": "health",
    "db": "db",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="bsa-judge",
        description="Beyond Safe Answers judging service: generate, judge and score traces.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True)
    # A named subcommand registers only itself: each module imports what its parser needs
    # (serve and calibrate: pydantic-settings), which `bsa-judge metrics` need not pay for.
    # Its parse is the same, since argparse hands everything after the name to that one
    # subparser. Anything else (--help, a typo) registers them all.
    chosen = [arguments[0]] if arguments and arguments[0] in _COMMANDS else list(_COMMANDS)
    for name in chosen:
        importlib.import_module(f"bsa_judge.commands.{_COMMANDS[name]}").register(subcommands)
    args = parser.parse_args(arguments)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
