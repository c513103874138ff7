"""The offline judge through the service: the whole benchmark at k = 5 streamed through
JudgeTraces to `bsa-judge serve` with no judge endpoint configured (so the offline judge).

    .venv/bin/python bench/offline_judge_rpc.py [--traces 10000] [--in-flight 512]
        [--batch-size 1]

Traces as bench/offline_judge_speed.py builds them (the 2,000 items of
../shared/bsa/dataset.csv, k = 5, each with a same-scenario gold trace's reasoning and
answer in turn), sent with the client SDK's async `judge_traces`; the server is a real
subprocess on loopback with its defaults (`stream_max_in_flight` 256). The first verdict
includes loading the model. `--batch-size N` > 1 packs N traces to a message
(JudgeTraceBatches, the SDK's `batch_size`). Prints traces/s, the wall time for all of
them, and who decided.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO / "bench"))

from bsa.judge.v1 import judge_pb2  # noqa: E402
from bsa_judge.service import enums  # noqa: E402
from bsa_judge_client import AsyncJudgeClient  # noqa: E402
from offline_judge_speed import benchmark_traces  # noqa: E402


async def run(total: int, in_flight: int, batch_size: int) -> None:
    cases = benchmark_traces(total)
    requests = [
        judge_pb2.JudgeTracesRequest(
            key=str(i),
            trace=judge_pb2.Trace(
                item=judge_pb2.Item(
                    id=f"item-{i // 5}",
                    query=c.query,
                    risk_summary=c.risk_summary,
                    scenario=enums.SCENARIO[c.scenario],
                ),
                reasoning=c.reasoning,
                answer=c.answer,
                model="bench",
                sample_index=i % 5,
            ),
        )
        for i, c in enumerate(cases)
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BSA_JUDGE_")}
    with tempfile.TemporaryDirectory() as folder:
        env["BSA_JUDGE_DATABASE_URL"] = f"sqlite:///{folder}/runs.sqlite3"
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bsa_judge.cli", "serve", "--port=0", "--metrics-port=none",
            "--log-format=json", env=env, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert server.stdout is not None
        port = 0
        while not port:
            event = json.loads(await server.stdout.readline())
            if event.get("event") == "server_started":
                port = int(event["port"])
        drain = asyncio.create_task(server.stdout.read())
        try:
            deciders: Counter[str] = Counter()
            started = time.perf_counter()
            async with AsyncJudgeClient(f"127.0.0.1:{port}") as client:
                async for response in client.judge_traces(
                    requests, max_in_flight=in_flight, batch_size=batch_size
                ):
                    deciders[response.verdict.decided_by] += 1
            seconds = time.perf_counter() - started
        finally:
            server.terminate()
            await server.wait()
            drain.cancel()
    sys.stdout.write(
        f"{len(requests)} traces through "
        f"{'JudgeTraces' if batch_size == 1 else f'JudgeTraceBatches ({batch_size})'} in "
        f"{seconds:.1f} s: "
        f"{len(requests) / seconds:.1f} traces/s; decided by {dict(deciders)}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.traces, args.in_flight, args.batch_size))


if __name__ == "__main__":
    main()
