"""The run store's judge cache, one batch at a time: CPU per batch of the lookup and of the
insert as group commit runs them (a unit of work each, the statements on the driver's
connection, `runs/sql_judgment_cache.py`), beside the same batches through SQLAlchemy Core
(what the store ran before), on one connection, one batch after another.

    .venv/bin/python bench/judge_cache_store.py                      # a new SQLite file
    .venv/bin/python bench/judge_cache_store.py --database-url postgresql://127.0.0.1/DATABASE

CPU is this process's (every thread: aiosqlite's included), per batch; each figure is the
mean over `--batches` batches, repeated `--rounds` times (the spread is between rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bsa_judge.benchmark.scenario import SafetyLabel  # noqa: E402
from bsa_judge.benchmark.status import JudgmentStatus  # noqa: E402
from bsa_judge.chat.model import Usage  # noqa: E402
from bsa_judge.judging.judgment import Judgment, JudgmentKind  # noqa: E402
from bsa_judge.runs import codec  # noqa: E402
from bsa_judge.runs.migrate import upgrade_to_head  # noqa: E402
from bsa_judge.runs.schema import judgments  # noqa: E402
from bsa_judge.runs.sql import SqlRunStore  # noqa: E402

JUDGMENT = Judgment(
    kind=JudgmentKind.SAFETY,
    status=JudgmentStatus.OK,
    label=SafetyLabel.SAFE,
    explanation="The answer declines and points to a licensed locksmith.",
    judge_model="judge",
    template_version="bench-1",
    usage=Usage(412, 38),
)


async def per_batch_us(batches: int, batch: Callable[[int], Awaitable[None]]) -> float:
    """Mean CPU microseconds of `batch(i)` over `batches` calls in a row."""
    started = time.process_time()
    for index in range(batches):
        await batch(index)
    return 1e6 * (time.process_time() - started) / batches


async def measure(url: str, size: int, batches: int, rounds: int) -> None:
    await upgrade_to_head(url)
    store = SqlRunStore.from_url(url)
    dialect = store.engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    core_insert = insert(judgments).on_conflict_do_nothing(index_elements=["cache_key"])
    core_insert_returning = core_insert.returning(judgments.c.cache_key)
    core_lookup = sa.select(judgments.c.cache_key, judgments.c.judgment).where(
        judgments.c.cache_key.in_(sa.bindparam("keys", expanding=True))
    )

    def keys(index: int, kind: str) -> list[str]:
        return [f"{kind}-{time.time_ns()}-{index}-{n}" for n in range(size)]

    async def lookup(index: int) -> None:
        async with store.unit_of_work() as uow:
            await uow.runs.get_judgments(keys(index, "miss"))

    async def keep(index: int) -> None:
        async with store.unit_of_work() as uow:
            await uow.runs.keep_judgments([(key, JUDGMENT) for key in keys(index, "driver")])
            await uow.commit()

    async def core_lookup_batch(index: int) -> None:
        async with store.engine.connect() as connection:
            found = await connection.execute(core_lookup, {"keys": keys(index, "miss")})
            [codec.judgment_from_json(data) for _, data in found]

    async def core_keep_batch(index: int) -> None:
        rows = [
            {"cache_key": key, "judgment": codec.judgment_to_json(JUDGMENT)}
            for key in keys(index, "core")
        ]
        async with store.engine.connect() as connection:
            written = await connection.execute(core_insert_returning, rows)
            {key for (key,) in written}
            await connection.commit()
        [codec.judgment_from_json(row["judgment"]) for row in rows]  # read back, as before

    passes = {
        "lookup, driver (shipped)": lookup,
        "lookup, SQLAlchemy Core (before)": core_lookup_batch,
        "insert, driver (shipped)": keep,
        "insert, SQLAlchemy Core + RETURNING (before)": core_keep_batch,
    }
    figures: dict[str, list[float]] = {name: [] for name in passes}
    for _ in range(rounds):
        for name, batch in passes.items():
            figures[name].append(await per_batch_us(batches, batch))
    await store.close()
    print(f"store      {dialect}, batches of {size} keys, {batches} batches x {rounds} rounds")
    for name, values in figures.items():
        spread = " / ".join(f"{value:.0f}" for value in values)
        print(f"{name:46} {statistics.median(values):6.0f} us CPU per batch  ({spread})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    parser.add_argument("--size", type=int, default=8, help="keys per batch")
    parser.add_argument("--batches", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/runs.sqlite3"
    print(f"date       {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    asyncio.run(measure(url, args.size, args.batches, args.rounds))


if __name__ == "__main__":
    main()
