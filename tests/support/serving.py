"""Run the real gRPC server in-process on a loopback port for a test."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bsa_judge.app import bootstrap
from bsa_judge.runs.migrate import upgrade_to_head
from bsa_judge.service.server import RunningServer, start_server
from bsa_judge.settings import Settings

# Every in-process server's run store is a fresh SQLite file here, never the default one.
_STORES = tempfile.TemporaryDirectory(prefix="bsa-judge-serving-")


@asynccontextmanager
async def serving(**settings: Any) -> AsyncIterator[RunningServer]:
    """Start the server with these settings (port 0, metrics endpoint off by default, a
    fresh migrated SQLite run store unless `database_url` is given)."""
    settings.setdefault("port", 0)
    settings.setdefault("metrics_port", None)
    if "database_url" not in settings:
        folder = tempfile.mkdtemp(dir=_STORES.name)
        settings["database_url"] = f"sqlite:///{Path(folder) / 'runs.sqlite3'}"
    config = Settings(**settings)
    await upgrade_to_head(config.database_url)
    running = await start_server(config, bootstrap.build(config))
    try:
        yield running
    finally:
        await running.stop(grace_s=1.0)
