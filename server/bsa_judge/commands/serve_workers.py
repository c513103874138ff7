"""`bsa-judge serve` with `workers` > 1: that many server processes on one port, supervised.

Each worker is a whole server (`serve.serve`) with its own event loop, started with
multiprocessing's spawn method (a fresh interpreter: nothing of gRPC crosses a fork). They
bind the same port with SO_REUSEPORT, so the kernel spreads new connections over them; a
connection, and every call on it, stays with the worker that accepted it. The first worker
binds `port` (0 picks one) and the others join it.

The supervisor (this process) serves no gRPC. It:
- serves /metrics on `metrics_port`, summed over the workers (prometheus_multiprocess);
- forwards SIGTERM or SIGINT to every worker, each drains as a single server does (health
  NOT_SERVING, new RPCs refused, `grace_period_s` for those in flight, open streams cut and
  ended UNAVAILABLE), and exits 0 when every worker did; a worker still running
  `grace_period_s` + STOP_MARGIN_S later is killed and the exit code is 1;
- forwards SIGHUP (reload) to every worker that has started;
- restarts a worker that dies after it started serving (`worker_exited` at error level, then
  `worker_restarted`); the calls it had in flight fail UNAVAILABLE, the other workers go on.
  A worker that exits before it serves (bad settings, port taken, database unreachable)
  would fail again: the supervisor stops the others and exits 1.

A worker gets SIGTERM when the supervisor dies, however it dies (Linux's parent-death
signal), so no worker outlives it.

Health is per process: the gRPC health service answers for the worker that holds the
connection. A Kubernetes gRPC probe opens a new connection each time, so it asks one worker
chosen by the kernel.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

import structlog

from bsa_judge.logs import configure_logging
from bsa_judge.service.prometheus_endpoint import PrometheusEndpoint
from bsa_judge.service.prometheus_multiprocess import (
    mark_worker_dead,
    multiprocess_directory,
    summed_registry,
)
from bsa_judge.settings import Settings

log = structlog.get_logger(__name__)

#: Seconds past `grace_period_s` a stopping worker gets before it is killed.
STOP_MARGIN_S = 10.0

_STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})
_SPAWN = multiprocessing.get_context("spawn")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def supervise(settings: Settings) -> int:
    """Run `settings.workers` servers until SIGTERM or SIGINT; returns the exit code."""
    with multiprocess_directory() as directory, _signal_inbox() as inbox:
        # The supervisor and its workers share stdout: every line is written under one lock.
        configure_logging(settings.log_format, settings.log_level, shared_lock=_log_lock(directory))
        return _Supervisor(settings, directory, inbox).run()


def _log_lock(directory: Path) -> Path:
    """The file the supervisor and its workers lock while writing a log line."""
    return directory / "log-line.lock"


def serve_worker(settings: Settings, index: int, started: Connection, log_lock: Path) -> None:
    """A worker process: one server; sends its bound port through `started` once serving."""
    from bsa_judge.commands.serve import run_event_loop, serve

    fields = {"worker": index, "pid": os.getpid()}
    configure_logging(
        settings.log_format, settings.log_level, process_fields=fields, shared_lock=log_lock
    )
    _stop_with_supervisor()

    def report(port: int) -> None:
        started.send(port)
        started.close()

    sys.exit(run_event_loop(settings, serve(settings, report_port=report)))


def _stop_with_supervisor() -> None:
    """Have Linux send this worker SIGTERM when its supervisor dies, even by SIGKILL: it
    drains and exits instead of holding the port with no one to stop or count it."""
    supervisor = multiprocessing.parent_process()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        log.warning("parent_death_signal_unavailable", errno=ctypes.get_errno())
    if supervisor is None or os.getppid() != supervisor.pid:  # it died before that took effect
        os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class _Worker:
    index: int
    process: BaseProcess
    started: Connection
    serving: bool = False

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid


@dataclass
class _Supervisor:
    settings: Settings
    directory: Path
    inbox: socket.socket
    workers: list[_Worker] = field(default_factory=list)
    stop_signal: signal.Signals | None = None

    def run(self) -> int:
        endpoint = None
        if self.settings.metrics_port is not None:
            try:
                endpoint = PrometheusEndpoint.start(
                    self.settings.metrics_host,
                    self.settings.metrics_port,
                    summed_registry(self.directory),
                )
            except OSError:
                log.exception("server_start_failed", metrics_port=self.settings.metrics_port)
                return 1
        try:
            return self._serve(endpoint.port if endpoint is not None else None)
        finally:
            if endpoint is not None:
                endpoint.stop()

    def _serve(self, metrics_port: int | None) -> int:
        # The supervisor serves /metrics; the other workers join the port the first one bound.
        self.settings = self.settings.model_copy(update={"metrics_port": None})
        port = self._await_serving(self._start(0, self.settings))
        if port is None:
            return self._stop(failed=self.stop_signal is None)
        self.settings = self.settings.model_copy(update={"port": port})
        for index in range(1, self.settings.workers):
            if self._await_serving(self._start(index, self.settings)) is None:
                return self._stop(failed=self.stop_signal is None)
        log.info(
            "server_started",
            host=self.settings.host,
            port=port,
            metrics_port=metrics_port,
            workers=[worker.pid for worker in self.workers],
        )
        return self._stop(failed=not self._watch())

    def _start(self, index: int, settings: Settings) -> _Worker:
        receive, send = _SPAWN.Pipe(duplex=False)
        process = _SPAWN.Process(
            target=serve_worker,
            args=(settings, index, send, _log_lock(self.directory)),
            name=f"bsa-judge-worker-{index}",
        )
        process.start()
        send.close()  # the worker holds its end; ours closed, a dead worker reads as EOF
        worker = _Worker(index, process, receive)
        self.workers.append(worker)
        return worker

    def _await_serving(self, worker: _Worker) -> int | None:
        """Wait until `worker` serves (its port), or dies or a stop signal comes (None)."""
        while True:
            ready = wait([worker.started, worker.process.sentinel, self.inbox])
            if self.inbox in ready and self._take_signals():
                return None
            if worker.started in ready:
                try:
                    port = int(worker.started.recv())
                except EOFError:  # it died before serving
                    pass
                else:
                    worker.serving = True
                    return port
            if worker.process.sentinel in ready or worker.started in ready:
                self._bury_dead(worker, "server_start_failed")
                return None

    def _watch(self) -> bool:
        """Serve until a stop signal (True), restarting workers that die; False when a
        restarted worker cannot start."""
        while True:
            ready = wait([self.inbox, *(worker.process.sentinel for worker in self.workers)])
            if self.inbox in ready and self._take_signals():
                return True
            for dead in [worker for worker in self.workers if worker.process.sentinel in ready]:
                self._bury_dead(dead, "worker_exited")
                replacement = self._start(dead.index, self.settings)
                if self._await_serving(replacement) is None:
                    return self.stop_signal is not None
                log.info("worker_restarted", worker=replacement.index, pid=replacement.pid)

    def _take_signals(self) -> bool:
        """Act on the signals received: forward SIGHUP; True when one was a stop signal."""
        for number in self.inbox.recv(64):
            signum = signal.Signals(number)
            if signum in _STOP_SIGNALS:
                self.stop_signal = self.stop_signal or signum
            elif signum == signal.SIGHUP:
                for worker in self.workers:
                    if worker.serving:  # before its handlers are in, SIGHUP would kill it
                        os.kill(worker.pid, signal.SIGHUP)
        return self.stop_signal is not None

    def _stop(self, *, failed: bool) -> int:
        """SIGTERM every worker, wait for all to drain, kill what is left; the exit code."""
        log.info(
            "server_stopping",
            signal=self.stop_signal.name if self.stop_signal is not None else None,
            grace_period_s=self.settings.grace_period_s,
            workers=[worker.pid for worker in self.workers],
        )
        for worker in self.workers:
            worker.process.terminate()
        deadline = time.monotonic() + self.settings.grace_period_s + STOP_MARGIN_S
        for worker in list(self.workers):
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                log.error("worker_killed", worker=worker.index, pid=worker.pid)
                worker.process.kill()
                worker.process.join()
                failed = True
            elif worker.process.exitcode != 0 and worker.serving:
                log.error(
                    "worker_exited",
                    worker=worker.index,
                    pid=worker.pid,
                    **_exit_fields(worker.process.exitcode),
                )
                failed = True
            self._bury(worker)
        log.info("server_stopped")
        return 1 if failed else 0

    def _bury_dead(self, worker: _Worker, event: str) -> None:
        """Reap a worker that ended by itself, log `event` with how it ended, and bury it."""
        worker.process.join()
        log.error(
            event, worker=worker.index, pid=worker.pid, **_exit_fields(worker.process.exitcode)
        )
        self._bury(worker)

    def _bury(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.started.close()
        mark_worker_dead(self.directory, worker.pid)


def _exit_fields(exitcode: int | None) -> dict[str, object]:
    """How a process ended: its exit code, or the signal that killed it."""
    if exitcode is not None and exitcode < 0:
        return {"signal": signal.Signals(-exitcode).name}
    return {"exit_code": exitcode}


@contextmanager
def _signal_inbox() -> Iterator[socket.socket]:
    """A socket that receives the number of every SIGTERM, SIGINT and SIGHUP sent to this
    process (Python's wakeup fd), so that one `wait` watches signals and workers alike."""
    receive, send = socket.socketpair()
    send.setblocking(False)
    handled = (*_STOP_SIGNALS, signal.SIGHUP)
    previous = {signum: signal.signal(signum, lambda *_: None) for signum in handled}
    previous_fd = signal.set_wakeup_fd(send.fileno(), warn_on_full_buffer=False)
    try:
        yield receive
    finally:
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        receive.close()
        send.close()
