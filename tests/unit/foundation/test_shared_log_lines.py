"""Log lines on a stream several writers share (the workers of one supervisor on its
stdout): with SharedStreamHandler, lines far longer than a pipe keeps whole (4 KB) come out
whole, none cut by another writer's."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from bsa_judge.logs import SharedStreamHandler

LINES_EACH = 30


def _lines_through_one_pipe(make_handler: object, writers: int) -> tuple[list[str], list[str]]:
    """Every writer (a thread with its own handler and its own file object on the pipe)
    logs LINES_EACH lines of 20,000 characters at once; what comes out, and what went in."""
    read, write = os.pipe()
    sent: list[str] = []
    handlers = []
    for writer in range(writers):
        stream = os.fdopen(os.dup(write), "w")
        handler = make_handler(stream)  # type: ignore[operator]
        handler.setFormatter(logging.Formatter("%(message)s"))
        handlers.append(handler)
        sent += [f"{writer}:{n}:" + str(writer) * 20_000 for n in range(LINES_EACH)]
    os.close(write)
    received: list[bytes] = []
    reader = threading.Thread(
        target=lambda: received.extend(iter(lambda: os.read(read, 1000), b""))
    )
    reader.start()

    def log_all(writer: int, handler: logging.Handler) -> None:
        for n in range(LINES_EACH):
            message = f"{writer}:{n}:" + str(writer) * 20_000
            handler.handle(logging.LogRecord("test", logging.INFO, "", 0, message, None, None))
        handler.close()
        handler.stream.close()  # type: ignore[attr-defined]

    threads = [threading.Thread(target=log_all, args=pair) for pair in enumerate(handlers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    reader.join(60)
    os.close(read)
    return b"".join(received).decode().splitlines(), sent


def test_long_lines_of_several_writers_come_out_whole(tmp_path: Path) -> None:
    # With logging.StreamHandler instead, the same lines come out cut into each other.
    lock = tmp_path / "log-line.lock"
    out, sent = _lines_through_one_pipe(lambda stream: SharedStreamHandler(stream, lock), 4)
    assert sorted(out) == sorted(sent)
