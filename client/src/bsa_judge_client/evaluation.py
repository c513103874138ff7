"""Which EvaluateItems requests are still waiting for responses.

EvaluateItems answers each request with one response per sample: k for an item whose
samples the server generates, one per sample sent with it otherwise, or a single response
carrying `error`. `PendingItems` counts those down, so that a client can bound the items in
flight and tell which ones to send again after a broken stream.
"""

from __future__ import annotations

import threading
from collections import deque

from bsa.judge.v1 import judge_pb2


class PendingItems:
    """The requests sent and not yet fully answered, per item id (thread-safe)."""

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self._k = k
        self._remaining: dict[str, deque[int]] = {}
        self._lock = threading.Lock()

    def expected_responses(self, request: judge_pb2.EvaluateItemsRequest) -> int:
        """How many responses answer `request`: one per sample sent, else k."""
        indices = {sample.sample_index for sample in request.samples}
        return len(indices) if indices else self._k

    def sent(self, request: judge_pb2.EvaluateItemsRequest) -> None:
        """Record a request as sent."""
        with self._lock:
            self._remaining.setdefault(request.item.id, deque()).append(
                self.expected_responses(request)
            )

    def answered(self, response: judge_pb2.EvaluateItemsResponse) -> bool:
        """Count one response; True when it was the last one its request was waiting for.

        A response for an item with nothing pending (a server answering more than asked)
        completes nothing.
        """
        with self._lock:
            queue = self._remaining.get(response.item_id)
            if not queue:
                return False
            if response.error:
                queue.popleft()
            else:
                queue[0] -= 1
                if queue[0] > 0:
                    return False
                queue.popleft()
            if not queue:
                del self._remaining[response.item_id]
            return True

    def __len__(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._remaining.values())
