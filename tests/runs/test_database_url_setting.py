"""The `database_url` setting: a SQLite file under XDG_DATA_HOME unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from bsa_judge.settings import Settings


def test_the_default_is_a_sqlite_file_in_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BSA_JUDGE_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert Settings().database_url == f"sqlite:///{tmp_path}/bsa-judge/runs.sqlite3"


def test_without_xdg_data_home_the_file_is_under_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BSA_JUDGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Settings().database_url == f"sqlite:///{tmp_path}/.local/share/bsa-judge/runs.sqlite3"


def test_the_environment_sets_a_postgresql_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSA_JUDGE_DATABASE_URL", "postgresql://bsa@postgres:5432/bsa")
    assert Settings().database_url == "postgresql://bsa@postgres:5432/bsa"
