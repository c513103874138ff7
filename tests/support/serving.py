"""Run the real gRPC server in-process on a loopback port for a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bsa_judge.app import bootstrap
from bsa_judge.service.server import RunningServer, start_server
from bsa_judge.settings import Settings


@asynccontextmanager
async def serving(**settings: Any) -> AsyncIterator[RunningServer]:
    """Start the server with these settings (port 0, metrics endpoint off by default)."""
    settings.setdefault("port", 0)
    settings.setdefault("metrics_port", None)
    config = Settings(**settings)
    running = await start_server(config, bootstrap.build(config))
    try:
        yield running
    finally:
        await running.stop(grace_s=1.0)
