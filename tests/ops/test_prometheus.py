"""A real Prometheus server scrapes the service and answers the dashboard's p95 judge latency.

Prometheus is Debian's `prometheus` package (`make prometheus` installs it). It listens on a
free loopback port, keeps its data in the test's temporary folder, scrapes every second, and
is stopped at the end of the test.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from bsa_judge.service.server import RunningServer

from tests.judging.harness import judge_backend, trace
from tests.support.serving import serving
from tools.judge_script import by_kind
from tools.openai_stub import OpenAIStub

DEADLINE_S = 30.0
# Its own judge model name: other tests in this process judge too, into the same registry.
JUDGE_MODEL = "ops-p95-judge"
P95_BY_JUDGE_MODEL = (
    "histogram_quantile(0.95, sum by (le, judge_model) "
    "(rate(bsa_judge_judge_call_seconds_bucket[30s])))"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Prometheus:
    """The HTTP API of a running Prometheus server."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self._session = session
        self.url = f"http://127.0.0.1:{port}"

    async def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector (empty until Prometheus is up and has data)."""
        try:
            async with self._session.get(
                f"{self.url}/api/v1/query", params={"query": promql}
            ) as response:
                if response.status != 200:
                    return []
                body = await response.json()
        except aiohttp.ClientConnectionError:
            return []
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    async def reload(self) -> bool:
        """Ask Prometheus to re-read its configuration; False while it is not up yet."""
        try:
            async with self._session.post(f"{self.url}/-/reload") as response:
                return response.status == 200
        except aiohttp.ClientConnectionError:
            return False


@pytest.fixture
async def prometheus(tmp_path: Path) -> AsyncIterator[tuple[Prometheus, Path]]:
    """A Prometheus server started with an empty target list; the test writes its targets."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("Prometheus is not installed: run `make prometheus` (Debian's package)")
    config = tmp_path / "prometheus.yml"
    await asyncio.to_thread(config.write_text, "global:\n  scrape_interval: 1s\n")
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",  # lets the test reload the config with its targets
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as session:
            yield Prometheus(session, port), config
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)


async def _scrape_service(prometheus: Prometheus, config: Path, running: RunningServer) -> None:
    assert running.prometheus is not None
    targets = (
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n"
        "  - job_name: bsa-judge\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{running.prometheus.port}']}}]\n"
    )
    await asyncio.to_thread(config.write_text, targets)
    async with asyncio.timeout(DEADLINE_S):
        while True:  # Prometheus may still be starting
            if await prometheus.reload():
                return
            await asyncio.sleep(0.2)


async def test_prometheus_scrapes_the_service_and_computes_the_p95_of_judge_latency(
    prometheus: tuple[Prometheus, Path],
) -> None:
    server, config = prometheus
    started = time.monotonic()
    async with (
        OpenAIStub(by_kind({}, delay_s=0.06)) as stub,
        serving(judges=[judge_backend(stub, model=JUDGE_MODEL)], metrics_port=0) as running,
        grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
    ):
        await _scrape_service(server, config, running)
        service = judge_pb2_grpc.JudgeServiceStub(channel)
        p95: list[dict[str, Any]] = []
        sent = 0
        async with asyncio.timeout(DEADLINE_S):
            # Judge traces while Prometheus scrapes, until two scrapes apart show the rate.
            while not p95 or math.isnan(float(p95[0]["value"][1])):
                # New traces each time: a trace judged before would come from the cache.
                sent += 5
                await asyncio.gather(
                    *(
                        service.JudgeTrace(judge_pb2.JudgeTraceRequest(trace=trace(
                            item_id=f"item-{n}", reasoning=f"Trace {n}: that would be trespass."
                        )))
                        for n in range(sent - 5, sent)
                    )
                )  # fmt: skip
                await asyncio.sleep(0.25)
                p95 = [
                    series
                    for series in await server.query(P95_BY_JUDGE_MODEL)
                    if series["metric"].get("judge_model") == JUDGE_MODEL
                ]
    [series] = p95
    assert series["metric"] == {"judge_model": JUDGE_MODEL}
    # Each call waits 0.06 s at the stub: the p95 lies in or above the 0.05-0.1 s bucket.
    assert 0.05 <= float(series["value"][1]) <= 1.0
    assert time.monotonic() - started < DEADLINE_S
