"""The judge cache in the run store, behind each replica's in-process LRU."""

from __future__ import annotations

from bsa_judge.benchmark.scenario import SafetyLabel
from bsa_judge.judging.cache import LruJudgmentCache
from bsa_judge.judging.judgment import JudgmentKind
from bsa_judge.runs.group_commit import GroupCommit
from bsa_judge.runs.judgment_cache import StoredJudgmentCache, TieredJudgmentCache
from bsa_judge.runs.sql import SqlRunStore
from bsa_judge.runs.store import RunStore

from tests.runs.examples import judgment, new_run_id


def replica(store: RunStore) -> tuple[LruJudgmentCache, TieredJudgmentCache, GroupCommit]:
    lru, writes = LruJudgmentCache(10), GroupCommit(store)
    return lru, TieredJudgmentCache(lru, StoredJudgmentCache(writes)), writes


async def test_a_judgment_cached_by_one_replica_is_found_by_another(
    store: RunStore, store_url: str
) -> None:
    other_store = store if store_url == "memory" else SqlRunStore.from_url(store_url)
    key = f"{new_run_id()}-sha256"
    safe = judgment(JudgmentKind.SAFETY, SafetyLabel.SAFE)
    first_lru, first, first_writes = replica(store)
    second_lru, second, _ = replica(other_store)
    try:
        assert await second.get(key) is None
        await first.put(key, safe)  # queued: the judging does not wait for the commit
        assert await first_lru.get(key) == safe
        await first_writes.flushed()
        assert await second_lru.get(key) is None
        assert await second.get(key) == safe
        assert await second_lru.get(key) == safe  # now kept in the second replica's LRU
    finally:
        if other_store is not store:
            await other_store.close()


async def test_the_stored_cache_keeps_the_first_judgment_under_a_key(store: RunStore) -> None:
    key = f"{new_run_id()}-sha256"
    writes = GroupCommit(store)
    cache = StoredJudgmentCache(writes)
    safe = judgment(JudgmentKind.SAFETY, SafetyLabel.SAFE)
    await cache.put(key, safe)
    await cache.put(key, judgment(JudgmentKind.SAFETY, SafetyLabel.UNSAFE))
    await writes.flushed()
    assert await cache.get(key) == safe


async def test_while_the_store_is_unavailable_the_lru_still_serves(unused_tcp_port: int) -> None:
    down = SqlRunStore.from_url(f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/test")
    lru, cache, _ = replica(down)
    safe = judgment(JudgmentKind.SAFETY, SafetyLabel.SAFE)
    try:
        assert await cache.get("sha256-a") is None
        await cache.put("sha256-a", safe)
        assert await cache.get("sha256-a") == safe
        assert await lru.get("sha256-a") == safe
    finally:
        await down.close()
