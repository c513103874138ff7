"""`bsa-judge serve`: run the gRPC server until SIGTERM or SIGINT.

Startup writes a `server_started` event with the bound `port` (parse it when `--port 0`).
SIGTERM or SIGINT: health turns NOT_SERVING for every service, new RPCs are refused, RPCs in
flight get `grace_period_s` to finish, and the process exits 0. SIGHUP reloads the files the
settings point to (`Application.reload`) without a restart. With `workers` > 1 this process
supervises that many processes serving the same port (`bsa_judge.commands.serve_workers`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from bsa_judge.commands.flags import add_flags, flag_values
from bsa_judge.logs import configure_logging
from bsa_judge.settings import (
    CONFIG_ENV,
    Settings,
    SettingsError,
    load_settings,
)

if TYPE_CHECKING:
    from bsa_judge.app.application import Application

log = structlog.get_logger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def register(subcommands: Any) -> None:
    """Add the `serve` subcommand, with one flag per simple setting."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        "serve",
        help="run the gRPC server",
        description="Run the bsa.judge.v1.JudgeService gRPC server. Settings come from flags, "
        "then BSA_JUDGE_* environment variables, then the config file, then defaults.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"settings file, TOML or YAML [{CONFIG_ENV}]",
    )
    add_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; returns the exit code (2 for bad settings)."""
    try:
        settings = load_settings(args.config, **flag_values(args))
    except SettingsError as error:
        sys.stderr.write(f"bsa-judge serve: {error}\n")
        return 2
    configure_logging(settings.log_format, settings.log_level)
    if settings.workers > 1:
        from bsa_judge.commands.serve_workers import supervise

        return supervise(settings)
    return run_event_loop(settings, serve(settings))


def run_event_loop(settings: Settings, main: Coroutine[Any, Any, int]) -> int:
    """Run `main` to its end on the event loop `settings.event_loop` names."""
    if settings.event_loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


async def serve(settings: Settings, *, report_port: Callable[[int], None] | None = None) -> int:
    """Start the server, wait for a stop signal, shut down gracefully; returns the exit code.

    A worker of `serve_workers` passes `report_port`: it logs `worker_started` instead of
    `server_started` and hands the bound port to its supervisor.
    """
    # Imported here so that other subcommands (metrics) do not pay for the server's imports.
    from bsa_judge.app import bootstrap
    from bsa_judge.service.gc_tuning import tune_collector
    from bsa_judge.service.server import start_server

    try:
        # The run store's schema is brought to head first (replicas take turns), then built.
        app = await bootstrap.build_for_serving(settings)
        # Handlers go in before the server starts and says so, so that a signal sent as soon
        # as `server_started` is read never meets the default action (death).
        stop_signal = _watch_signals(app)
        running = await start_server(settings, app)
    except Exception:
        log.exception("server_start_failed", host=settings.host, port=settings.port)
        return 1
    tune_collector()
    if report_port is not None:
        report_port(running.port)
    log.info(
        "server_started" if report_port is None else "worker_started",
        host=settings.host,
        port=running.port,
        metrics_port=running.prometheus.port if running.prometheus is not None else None,
        # The loop that runs: "uvloop" or "asyncio" (its class's top-level package).
        event_loop=type(asyncio.get_running_loop()).__module__.partition(".")[0],
    )
    if settings.judges:
        log.info("default_judge", judge=app.judges.default)
    else:
        log.info(
            "default_judge",
            judge=app.judges.default,
            reason="no judge endpoint is configured: JudgeTrace and JudgeTraces judge with "
            "the embedded offline judge (CPU, loaded on first use); verdicts name it in "
            "decided_by",
        )
    received = await stop_signal
    # During the grace period a second stop signal changes nothing and a reload is
    # pointless; neither may fall back to the default action of killing the process.
    loop = asyncio.get_running_loop()
    for signum in (*_STOP_SIGNALS, signal.SIGHUP):
        loop.add_signal_handler(signum, lambda: None)
    log.info("server_stopping", signal=received.name, grace_period_s=settings.grace_period_s)
    await running.stop(settings.grace_period_s)
    log.info("server_stopped")
    return 0


def _watch_signals(app: Application) -> asyncio.Future[signal.Signals]:
    """The first SIGTERM or SIGINT to come; meanwhile every SIGHUP reloads the application."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()
    reloads: set[asyncio.Task[None]] = set()

    def on_stop(signum: signal.Signals) -> None:
        if not received.done():
            received.set_result(signum)

    def on_reload() -> None:
        task = loop.create_task(_reload(app))
        reloads.add(task)  # keep a reference until it is done
        task.add_done_callback(reloads.discard)

    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, on_stop, signum)
    loop.add_signal_handler(signal.SIGHUP, on_reload)
    return received


async def _reload(app: Application) -> None:
    log.info("reload_requested", signal="SIGHUP")
    try:
        await app.reload()
    except Exception:
        log.exception("reload_failed")
