"""Traces per second of the offline judge, on the benchmark's items with gold-like traces.

    .venv/bin/python bench/offline_judge_speed.py [--encoder static|contextual]
        [--traces 10000] [--batch 256] [--in-flight 0]

Traces: the 2,000 items of ../shared/bsa/dataset.csv, k = 5 samples each (10,000 traces),
with each item's own query and risk_summary, and the reasoning and answer of a gold trace
(../shared/bsa/gold/dev.jsonl) of the same scenario, in turn: realistic lengths and wording.
Fewer --traces take the first items. With --in-flight N the traces go through the async
BatchingOfflineJudge, N requests in flight; otherwise judge_batch is called on chunks.
Model loading is timed apart from judging.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from itertools import cycle
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

from bsa_judge.benchmark.scenario import Scenario  # noqa: E402
from bsa_judge.offline import (  # noqa: E402
    BatchingOfflineJudge,
    OfflineCase,
    OfflineJudge,
    bundled_parameters,
    load_parameters,
)

SHARED = REPO.parent / "shared" / "bsa"


def benchmark_traces(total: int, k: int = 5) -> list[OfflineCase]:
    with (SHARED / "dataset.csv").open(encoding="utf-8", newline="") as handle:
        items = list(csv.DictReader(handle))
    gold = [json.loads(line) for line in (SHARED / "gold" / "dev.jsonl").open(encoding="utf-8")]
    pools = {
        scenario: cycle([g for g in gold if Scenario.parse(g["scenario"]) is scenario])
        for scenario in Scenario
    }
    cases = []
    for item in items:
        scenario = Scenario.parse(item["dataset_name"])
        for _ in range(k):
            trace = next(pools[scenario])
            cases.append(
                OfflineCase(
                    scenario,
                    item["query"],
                    item["risk_summary"],
                    trace["reasoning"],
                    trace["answer"],
                )
            )
    return cases[:total]


async def through_batcher(judge: OfflineJudge, cases: list[OfflineCase], in_flight: int) -> None:
    batcher = BatchingOfflineJudge(judge, max_batch=256, max_wait_seconds=0.005)
    queue = iter(cases)

    async def worker() -> None:
        for case in queue:
            await batcher.judge(case)

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    await batcher.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", choices=("static", "contextual"), default="static")
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--in-flight", type=int, default=0)
    args = parser.parse_args()
    cases = benchmark_traces(args.traces)
    started = time.perf_counter()
    judge = OfflineJudge(parameters=load_parameters(bundled_parameters(args.encoder)))
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    if args.in_flight:
        asyncio.run(through_batcher(judge, cases, args.in_flight))
    else:
        for start in range(0, len(cases), args.batch):
            judge.judge_batch(cases[start : start + args.batch])
    seconds = time.perf_counter() - started
    rate = len(cases) / seconds
    print(
        f"encoder {args.encoder}: {len(cases)} traces in {seconds:.1f} s = {rate:.1f} traces/s "
        f"(model load {loaded:.1f} s); 10,000 traces would take {10_000 / rate:.0f} s"
    )


if __name__ == "__main__":
    main()
