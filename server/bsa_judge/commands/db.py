"""`bsa-judge db upgrade`: migrate the run store's database to the newest schema.

`bsa-judge serve` does the same at start; this command is for doing it ahead of a rollout
(for example from a Kubernetes Job) or checking a database URL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bsa_judge.settings import SettingsError, load_settings


def register(subcommands: Any) -> None:
    """Add the `db` subcommand and its `upgrade` action."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        "db", help="manage the run store's database"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="migrate the database to the newest schema",
        description="Migrate the run store's database to the newest schema (Alembic head).",
    )
    upgrade.add_argument(
        "--database-url",
        metavar="URL",
        help="sqlite:///FILE or postgresql://... (default: the database_url setting, "
        "BSA_JUDGE_DATABASE_URL)",
    )
    upgrade.set_defaults(run=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    """Migrate; 0 when done, 2 for a bad URL or settings, 1 when the database fails."""
    # Imported here: the other subcommands do not pay for SQLAlchemy and Alembic.
    from bsa_judge.app.database import DatabaseUrlError, upgrade_database

    try:
        url = args.database_url or load_settings().database_url
        revision = asyncio.run(upgrade_database(url))
    except (SettingsError, DatabaseUrlError) as error:
        sys.stderr.write(f"bsa-judge db upgrade: {error}\n")
        return 2
    except Exception as error:
        sys.stderr.write(f"bsa-judge db upgrade: {type(error).__name__}: {error}\n")
        return 1
    print(f"database at revision {revision}")  # noqa: T201
    return 0
