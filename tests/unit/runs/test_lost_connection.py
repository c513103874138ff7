"""Which errors mean the run store is out of reach (StoreUnavailable): the drivers' own too,
which the judge cache's statements on the driver's connection meet unwrapped."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
import sqlalchemy as sa
from bsa_judge.runs.sql import _lost_connection


@pytest.mark.parametrize(
    ("error", "lost"),
    [
        (sqlite3.OperationalError("disk I/O error"), True),
        (asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle"), True),
        (asyncpg.exceptions.InterfaceError("connection is closed"), True),
        (ConnectionResetError("reset by peer"), True),
        (sa.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("locked")), True),
        (asyncpg.exceptions.InterfaceError("another operation is in progress"), False),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
        (ValueError("a bug"), False),
        (None, False),
    ],
)
def test_which_errors_mean_the_store_is_out_of_reach(
    error: BaseException | None, lost: bool
) -> None:
    assert _lost_connection(error) is lost


def test_a_driver_error_under_another_counts_by_its_cause() -> None:
    error = RuntimeError("batch failed")
    error.__cause__ = asyncpg.exceptions.InterfaceError("connection is closed")
    assert _lost_connection(error) is True
