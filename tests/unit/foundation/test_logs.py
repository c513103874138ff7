"""Our events and the libraries' log records come out in one format, without secrets."""

import gc
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from bsa_judge.logs import configure_logging


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """Log into a buffer, then put logging back the way it was."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_config = structlog.get_config()
    chatty = {name: logging.getLogger(name).level for name in ("httpx", "httpx2")}
    buffer = io.StringIO()
    # Garbage of earlier tests (a task left pending when its loop closed) is collected now,
    # not while a test's records are captured: its "Task was destroyed" would be one of them.
    gc.collect()
    try:
        yield buffer
    finally:
        root.handlers, root.level = saved_handlers, saved_level
        structlog.configure(**saved_config)
        for name, level in chatty.items():
            logging.getLogger(name).setLevel(level)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _without_timestamp(line: dict[str, Any]) -> dict[str, Any]:
    assert line.pop("timestamp").endswith("Z")
    return line


def test_our_events_and_library_records_are_json_lines_of_the_same_shape(
    output: io.StringIO,
) -> None:
    configure_logging("json", "info", stream=output)
    structlog.get_logger("bsa_judge.commands.serve").info("server_started", port=50051)
    logging.getLogger("grpc._server").warning("Exception calling application: %s", "boom")
    logging.getLogger("openai._base_client").info("Retrying request in %s seconds", 0.5)
    logging.getLogger("httpx2").info("HTTP Request: POST http://judge/v1 200 OK")  # too chatty

    assert [_without_timestamp(line) for line in _lines(output)] == [
        {
            "event": "server_started",
            "port": 50051,
            "level": "info",
            "logger": "bsa_judge.commands.serve",
        },
        {
            "event": "Exception calling application: boom",
            "level": "warning",
            "logger": "grpc._server",
        },
        {
            "event": "Retrying request in 0.5 seconds",
            "level": "info",
            "logger": "openai._base_client",
        },
    ]


def test_process_fields_are_on_every_line_ours_and_the_libraries(output: io.StringIO) -> None:
    configure_logging("json", "info", stream=output, process_fields={"worker": 1, "pid": 4242})
    structlog.get_logger("bsa_judge.commands.serve").info("worker_started", port=50051)
    logging.getLogger("grpc._server").warning("Exception calling application: %s", "boom")

    assert [_without_timestamp(line) for line in _lines(output)] == [
        {
            "event": "worker_started",
            "port": 50051,
            "worker": 1,
            "pid": 4242,
            "level": "info",
            "logger": "bsa_judge.commands.serve",
        },
        {
            "event": "Exception calling application: boom",
            "worker": 1,
            "pid": 4242,
            "level": "warning",
            "logger": "grpc._server",
        },
    ]


def test_secrets_are_masked_in_our_events_and_in_library_messages(output: io.StringIO) -> None:
    configure_logging("json", "debug", stream=output)
    structlog.get_logger("bsa_judge.backends").info(
        "judge_configured", api_key="sk-live-0123456789", base_url="http://judge/v1"
    )
    logging.getLogger("openai._base_client").debug(
        "Request options: headers={'Authorization': 'Bearer sk-proj-abcdefghijkl'}"
    )
    logging.getLogger("grpc").info("metadata authorization: bearer t0k3n.value")

    events = [(line["event"], line.get("api_key")) for line in _lines(output)]
    assert events == [
        ("judge_configured", "[redacted]"),
        ("Request options: headers={'Authorization': 'Bearer [redacted]'}", None),
        ("metadata authorization: bearer [redacted]", None),
    ]
    assert "sk-" not in output.getvalue()


def test_console_rendering_is_plain_text_with_the_same_fields(output: io.StringIO) -> None:
    configure_logging("console", "info", stream=output)
    structlog.get_logger("bsa_judge.commands.serve").info("server_started", port=50051)
    line = output.getvalue().strip()
    assert not line.startswith("{")
    assert "server_started" in line
    assert "port=50051" in line


def test_the_level_filters_ours_and_theirs(output: io.StringIO) -> None:
    configure_logging("json", "warning", stream=output)
    structlog.get_logger("bsa_judge").info("ignored")
    logging.getLogger("openai").info("ignored too")
    structlog.get_logger("bsa_judge").warning("kept")
    assert [line["event"] for line in _lines(output)] == ["kept"]


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_a_logged_traceback_shows_no_local_variables(output: io.StringIO, log_format: str) -> None:
    configure_logging(log_format, "info", stream=output)  # type: ignore[arg-type]

    def fail_holding_a_key() -> None:
        # Built at run time, so the source lines a traceback shows do not contain it.
        upstream_key = "-".join(("held", "in", "a", "frame", "0123456789"))
        raise RuntimeError(f"failed after {len(upstream_key)} characters")

    try:
        fail_holding_a_key()
    except RuntimeError:
        structlog.get_logger("test").exception("server_start_failed")
    text = output.getvalue()
    assert "failed after 26 characters" in text
    assert "fail_holding_a_key" in text
    assert "held-in-a-frame-0123456789" not in text
