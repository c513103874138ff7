"""Unit tests run on fakes: no socket is connected or bound and no process started here.

The guard makes that a checked property of every test under tests/unit (`make unit`), not a
convention; tests that need real servers live elsewhere under tests/.
"""

from __future__ import annotations

import socket
import subprocess
from typing import Any

import matplotlib
import pytest

# A fresh virtualenv's first matplotlib font lookup builds its font cache by running fc-list.
# Build it here, at collection and before the guard below, so that the first unit test that
# plots does not start a process.
matplotlib.use("Agg")
from matplotlib import font_manager

font_manager.findfont("DejaVu Sans")


class NotInAUnitTestError(AssertionError):
    """A unit test tried to use the network or start a process."""


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NotInAUnitTestError(f"a unit test may not {what}: use a fake (tests/support)")

    return refuse


@pytest.fixture(autouse=True)
def _no_sockets_or_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse("connect a socket"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("connect a socket"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("bind a socket"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a process"))
