"""The judgment cache: a judgment already made is never paid for twice.

Keys are content addresses: a sha256 over everything that decides a judgment (the template
version, the judge's endpoint, model and decoding settings, and the trace's query, risk_summary,
reasoning, answer and scenario). Only OK judgments are stored: a failure or an unreadable
answer is worth asking again. The cache sits behind `JudgmentCache` (get/put) so that a
shared store can replace the in-process LRU.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Protocol

from bsa_judge.judging.judgment import Judgment
from bsa_judge.judging.trace import Trace


class JudgmentCache(Protocol):
    """Where judgments are kept by content address."""

    async def get(self, key: str) -> Judgment | None:
        """The judgment stored under `key`, if any."""
        ...

    async def put(self, key: str, judgment: Judgment) -> None:
        """Store an OK judgment under `key`."""
        ...


class LruJudgmentCache:
    """An in-process cache holding at most `size` judgments, least recently used out first.

    A size of 0 keeps nothing.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, Judgment] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> Judgment | None:
        """The judgment under `key`, now the most recently used."""
        judgment = self._entries.get(key)
        if judgment is not None:
            self._entries.move_to_end(key)
        return judgment

    async def put(self, key: str, judgment: Judgment) -> None:
        """Keep `judgment`, dropping the least recently used entry when full."""
        if self.size <= 0:
            return
        self._entries[key] = judgment
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


def judgment_key(template_version: str, judge_fingerprint: str, trace: Trace) -> str:
    """The content address of one judgment of `trace`."""
    digest = hashlib.sha256()
    for part in (
        template_version,
        judge_fingerprint,
        trace.item.query,
        trace.item.risk_summary,
        trace.reasoning,
        trace.answer,
        trace.item.scenario.value,
    ):
        data = part.encode("utf-8")
        # Length-prefixed, so that no two different field splits hash alike.
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()
