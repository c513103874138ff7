"""What judge_traces sends again when a server ends its stream UNAVAILABLE (shutting down):
the traces sent and not yet answered, by key."""

from __future__ import annotations

import threading
from typing import Any

import grpc
from bsa.judge.v1 import judge_pb2


class Unanswered:
    """The traces of one judge_traces call sent and not yet answered, by key, in sending
    order. Safe to use from gRPC's sending thread and the caller's at once."""

    def __init__(self) -> None:
        self._by_key: dict[str, list[judge_pb2.JudgeTracesRequest]] = {}
        self._lock = threading.Lock()
        self.answered = 0

    def add(self, message: judge_pb2.JudgeTracesRequest) -> None:
        """`message` is about to be sent."""
        with self._lock:
            self._by_key.setdefault(message.key, []).append(message)

    def answer(self, key: str) -> None:
        """A verdict for `key` arrived: the oldest trace sent under that key is answered."""
        with self._lock:
            waiting = self._by_key.get(key)
            if waiting:
                waiting.pop(0)
                if not waiting:
                    del self._by_key[key]
            self.answered += 1

    def messages(self) -> list[judge_pb2.JudgeTracesRequest]:
        """Every trace still waiting for its verdict."""
        with self._lock:
            return [message for waiting in self._by_key.values() for message in waiting]


#: The details of the INTERNAL status grpc.aio reports in place of the server's own when a
#: write fails because the server has already ended the call (grpc/grpc#36066).
CORE_WRITE_FAILURE = "Internal error from Core"


def resubmits(error: grpc.RpcError, failed_in_a_row: int, resubmissions: int) -> bool:
    """Whether a stream that ended with `error` is followed by a new one: UNAVAILABLE (a
    server draining for a rolling deploy), or the INTERNAL of gRPC's core that grpc.aio
    reports in place of the server's status when a write races the end of the call (a
    draining server that stopped reading while we wrote). Either way the server delivered
    every verdict it had, so the unanswered traces are safe to send again."""
    code: Any = getattr(error, "code", None)  # every error of a call has it, the type not
    details: Any = getattr(error, "details", None)
    if not callable(code) or failed_in_a_row > resubmissions:
        return False
    status = code()
    return status == grpc.StatusCode.UNAVAILABLE or (
        status == grpc.StatusCode.INTERNAL and callable(details) and details() == CORE_WRITE_FAILURE
    )
