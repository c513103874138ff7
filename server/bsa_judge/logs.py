"""Logging: structlog to stdout, JSON for machines, console rendering on a terminal.

Our own events (`structlog.get_logger()`) and the standard-library loggers of the libraries
we use (grpc, openai, httpx) go through the same processors and the same renderer, so one
process writes one format. Secrets never reach the output: values under secret-looking keys
and bearer tokens or API keys inside any text are masked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
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


def configure_logging(
    log_format: LogFormat = "auto",
    log_level: str = "info",
    stream: TextIO | None = None,
    *,
    process_fields: Mapping[str, Any] | None = None,
) -> None:
    """Send every log record, ours and the libraries', to `stream` (stdout) in one format.

    `process_fields` are added to every record of this process (a worker's `worker` index
    and `pid`, so that the lines of several workers on one stdout can be told apart).
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
    handler = logging.StreamHandler(stream)
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
