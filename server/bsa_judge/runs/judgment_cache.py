"""The judge cache in the run store, shared by every replica, behind the in-process LRU.

    cache = TieredJudgmentCache(LruJudgmentCache(settings.verdict_cache_size),
                               StoredJudgmentCache(GroupCommit(store)))

A judgment made through any replica is found by the others in the store; the LRU saves the
database round trip for what this process has seen lately. A cache is an optimisation: while
the store is unavailable, the stored cache misses and forgets (and says so in the log) rather
than failing the judging it serves. Writes go through the store's group commit, in the same
transactions as the samples and verdicts written meanwhile, queued without waiting for the
commit; reads go through its lookup lane, which never waits for a commit.
"""

from __future__ import annotations

import asyncio

import structlog

from bsa_judge.judging.cache import JudgmentCache
from bsa_judge.judging.judgment import Judgment
from bsa_judge.runs.group_commit import GroupCommit
from bsa_judge.runs.run import StoreUnavailable

log = structlog.get_logger(__name__)


class StoredJudgmentCache:
    """A JudgmentCache on the run store's judgment table (a put returns once committed)."""

    def __init__(self, writes: GroupCommit) -> None:
        self._writes = writes

    async def get(self, key: str) -> Judgment | None:
        """The judgment stored under `key`, if any (none while the store is unavailable)."""
        try:
            return await self._writes.get_judgment(key)
        except StoreUnavailable as error:
            log.warning("verdict_cache_unavailable", operation="get", error=str(error))
            return None

    async def put(self, key: str, judgment: Judgment) -> None:
        """Store `judgment` under `key`; a judgment already stored there is kept.

        Queued, not waited for: the judging it serves does not wait for the commit (the row
        is committed with the store's next batch, before any verdict queued after it)."""
        self._writes.add_judgment_soon(key, judgment).add_done_callback(_report_failed_put)


def _report_failed_put(stored: asyncio.Future[None]) -> None:
    if stored.cancelled():
        return
    error = stored.exception()
    if isinstance(error, StoreUnavailable):
        log.warning("verdict_cache_unavailable", operation="put", error=str(error))
    elif error is not None:
        log.error("verdict_cache_put_failed", error=repr(error))


class TieredJudgmentCache:
    """Two caches, the fast one first: a hit in the second is copied into the first."""

    def __init__(self, first: JudgmentCache, second: JudgmentCache) -> None:
        self.first = first
        self.second = second

    async def get(self, key: str) -> Judgment | None:
        """From the first cache, else from the second (and then kept in the first)."""
        judgment = await self.first.get(key)
        if judgment is not None:
            return judgment
        judgment = await self.second.get(key)
        if judgment is not None:
            await self.first.put(key, judgment)
        return judgment

    async def put(self, key: str, judgment: Judgment) -> None:
        """Into both caches, the shared one first."""
        await self.second.put(key, judgment)
        await self.first.put(key, judgment)
