"""The workers' metric folder: named for the processes started inside, fresh every time."""

import os
from pathlib import Path

import pytest
from bsa_judge.service.prometheus_multiprocess import DIRECTORY_ENV, multiprocess_directory


def test_without_a_folder_named_one_is_made_named_and_removed_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DIRECTORY_ENV, raising=False)
    with multiprocess_directory() as directory:
        named = Path(os.environ[DIRECTORY_ENV])
        existed = directory.is_dir()
    assert named == directory
    assert existed
    assert not directory.exists()
    assert DIRECTORY_ENV not in os.environ


def test_a_folder_named_in_the_environment_is_emptied_of_an_earlier_runs_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "gauge_livesum_123.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("not ours")
    monkeypatch.setenv(DIRECTORY_ENV, str(tmp_path))
    with multiprocess_directory() as directory:
        inside = sorted(path.name for path in directory.iterdir())
    assert directory == tmp_path
    assert inside == ["notes.txt"]
    assert tmp_path.is_dir()  # someone else's folder stays
