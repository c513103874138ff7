"""`bsa-judge serve`: run the gRPC server."""

from __future__ import annotations

import argparse
from typing import Any


def register(subcommands: Any) -> None:
    """Add the `serve` subcommand."""
    parser: argparse.ArgumentParser = subcommands.add_parser("serve", help="run the gRPC server")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT."""
    raise NotImplementedError("serve lands with the foundation issue")
