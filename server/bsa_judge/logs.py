"""Logging: structlog to stdout, JSON for machines, console rendering on a terminal.

Our own events (`structlog.get_logger()`) and the standard-library loggers of the libraries
we use (grpc, openai, httpx) go through the same processors and the same renderer, so one
process writes one format. Secrets never reach the output: values under secret-looking keys
and bearer tokens or API keys inside any text are masked.
"""

from __future__ import annotations

import fcntl
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import Processor

LogFormat = Literal["auto", "json", "console"]

# Per-request HTTP lines of the upstream clients, and Alembic narrating each migration step,
# drown everything else at info.
_CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "alembic")

_SECRET_KEYS = frozenset({"api_key", "authorization", "token", "password", "secret", "bearer"})
_SECRET_TEXT = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"  # authorization header values
    r"|\bsk-[A-Za-z0-9_-]{8,}"  # OpenAI-style API keys
)
REDACTED = "[redacted]"


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask values under secret-looking keys and tokens or keys inside any string value."""
    for key, value in event_dict.items():
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = _SECRET_TEXT.sub(_mask, value)
    return event_dict


def _mask(match: re.Match[str]) -> str:
    return (match.group(1) or "") + REDACTED


def _adding(fields: Mapping[str, Any]) -> Processor:
    def add(
        _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event_dict.update(fields)
        return event_dict

    return add


class SharedStreamHandler(logging.StreamHandler[TextIO]):
    """A handler for a stream that other processes write to as well (the workers of one
    supervisor share its stdout): each line is written and flushed while holding an
    exclusive lock on `lock_file`, which every writer takes.

    The kernel keeps a write to a pipe whole only up to 4 KB (PIPE_BUF): a longer JSON line
    (a traceback, say) could be cut by another process's line. A lock on a file (flock) is
    released by the kernel when its holder dies, so a killed writer never blocks the rest.
    """

    def __init__(self, stream: TextIO, lock_file: Path) -> None:
        super().__init__(stream)
        self._lock_file = lock_file.open("a")  # held for the life of the process

    def emit(self, record: logging.LogRecord) -> None:
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            super().emit(record)  # the line and its newline in one write, then a flush
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)


def configure_logging(
    log_format: LogFormat = "auto",
    log_level: str = "info",
    stream: TextIO | None = None,
    *,
    process_fields: Mapping[str, Any] | None = None,
    shared_lock: Path | None = None,
) -> None:
    """Send every log record, ours and the libraries', to `stream` (stdout) in one format.

    `process_fields` are added to every record of this process (a worker's `worker` index
    and `pid`, so that the lines of several workers on one stdout can be told apart).
    `shared_lock`: the stream is shared with other processes that log with the same lock
    file; lines are written under it (SharedStreamHandler), so none cuts into another.
    """
    stream = stream if stream is not None else sys.stdout
    use_json = log_format == "json" or (log_format == "auto" and not stream.isatty())
    shared: list[Processor] = [
        *([_adding(process_fields)] if process_fields else []),
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    # Tracebacks never show local variables: a frame may hold an API key or a token.
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(
            colors=stream.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(
                color_system="truecolor" if stream.isatty() else None, show_locals=False
            ),
        )
    )
    tracebacks: list[Processor] = (
        [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        ]
        if use_json
        else []
    )
    handler = (
        logging.StreamHandler(stream)
        if shared_lock is None
        else SharedStreamHandler(stream, shared_lock)
    )
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *tracebacks,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    level = logging.getLevelNamesMapping()[log_level.upper()]
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached, so that a later configure_logging (tests, the demo) takes effect.
        cache_logger_on_first_use=False,
    )
