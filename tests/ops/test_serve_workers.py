"""`bsa-judge serve --workers 2` as real processes: two servers on one port, one supervisor.

Which worker answers a call is read from its `rpc` log line, which carries the worker's
`pid`. Each call here goes on a new channel with its own connection (gRPC channels to one
target share a connection unless told otherwise), so the kernel picks the worker anew: the
chance that 24 connections all reach one of two workers is 2**-23.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

from tests.judging.harness import judge_backend, trace
from tests.ops.scrape import Scrape, scrape
from tests.support.serve_process import Event, ServeProcess, serve_process, serve_until_exit
from tools.judge_script import agreeable_judge, held
from tools.openai_stub import OpenAIStub

JUDGE_TRACE = {
    "grpc_type": "unary",
    "grpc_service": "bsa.judge.v1.JudgeService",
    "grpc_method": "JudgeTrace",
}


def _judges(stub: OpenAIStub) -> dict[str, str]:
    return {"BSA_JUDGE_JUDGES": json.dumps([judge_backend(stub)])}


async def _judge_on_new_connection(port: int, request_id: str) -> grpc.StatusCode:
    """One JudgeTrace of a trace no other call sends, on a channel of its own."""
    request = judge_pb2.JudgeTraceRequest(
        trace=trace(reasoning=f"Trace {request_id}: trespass, so I refuse.")
    )
    # A local subchannel pool: channels to one target otherwise share one connection.
    options = [("grpc.use_local_subchannel_pool", 1)]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        call = judge_pb2_grpc.JudgeServiceStub(channel).JudgeTrace(
            request, metadata=(("x-request-id", request_id),)
        )
        await call
        return await call.code()


async def _answered_by(server: ServeProcess, request_id: str) -> int:
    """The pid of the worker whose `rpc` line names this request."""
    line = await server.event("rpc", lambda e: e.get("request_id") == request_id)
    return int(line["pid"])


async def _worker_event(server: ServeProcess, name: str, pid: int) -> Event:
    """The first event called `name` that the worker `pid` logged."""
    return await server.event(name, lambda event: event.get("pid") == pid)


async def _judge_calls_waiting(stub: OpenAIStub, count: int) -> None:
    for _ in range(2000):
        if stub.in_flight == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{stub.in_flight} judge calls in flight, never {count}")


async def _metrics(server: ServeProcess) -> Scrape:
    started = await server.event("server_started")
    return await scrape(int(started["metrics_port"]))


async def test_calls_on_new_connections_reach_both_workers_and_metrics_sum_their_traces() -> None:
    async with OpenAIStub(agreeable_judge()) as stub:
        async with serve_process("--workers=2", env=_judges(stub)) as server:
            workers = (await server.event("server_started"))["workers"]
            ids = [f"spread-{index}" for index in range(24)]
            codes = await asyncio.gather(
                *(_judge_on_new_connection(server.port, request_id) for request_id in ids)
            )
            pids = [await _answered_by(server, request_id) for request_id in ids]
            exported = await _metrics(server)
            server.send(signal.SIGTERM)
            assert await server.exit_code() == 0

    assert len(workers) == 2
    assert server.process.pid not in workers  # the supervisor serves no gRPC
    assert codes == [grpc.StatusCode.OK] * 24
    assert sorted(set(pids)) == sorted(workers)
    assert exported.value("bsa_judge_traces_total", status="ok") == 24
    assert exported.value("grpc_server_handled_total", **JUDGE_TRACE, grpc_code="OK") == 24
    assert exported.value("grpc_server_handling_seconds_count", **JUDGE_TRACE) == 24
    assert exported.value("bsa_judge_traces_in_flight") == 0
    assert stub.calls == 48  # safety and thinking, once per trace: nothing judged twice


async def test_sigterm_drains_every_worker_and_the_supervisor_exits_0() -> None:
    release = asyncio.Event()
    async with OpenAIStub(held(agreeable_judge(), release)) as stub:
        async with serve_process("--workers=2", "--grace-period-s=20", env=_judges(stub)) as server:
            workers = (await server.event("server_started"))["workers"]
            ids = [f"draining-{index}" for index in range(24)]
            calls = asyncio.gather(
                *(_judge_on_new_connection(server.port, request_id) for request_id in ids)
            )
            await _judge_calls_waiting(stub, 48)  # both calls of every trace

            server.send(signal.SIGTERM)
            for pid in workers:  # every worker is draining, its calls still in flight
                await _worker_event(server, "server_stopping", pid)
            release.set()

            codes = await calls
            exit_code = await server.exit_code()
            pids = [await _answered_by(server, request_id) for request_id in ids]

    stopped = [(e["event"], e.get("pid")) for e in server.events if e["event"] == "server_stopped"]
    assert codes == [grpc.StatusCode.OK] * 24
    assert exit_code == 0
    assert sorted(set(pids)) == sorted(workers)
    assert sorted(stopped, key=str) == sorted(
        [("server_stopped", workers[0]), ("server_stopped", workers[1]), ("server_stopped", None)],
        key=str,
    )


async def test_sighup_reaches_every_worker_and_each_reloads() -> None:
    async with serve_process("--workers=2") as server:
        workers = (await server.event("server_started"))["workers"]

        server.send(signal.SIGHUP)

        reloaded = [await _worker_event(server, "runtime_reloaded", pid) for pid in workers]
        server.send(signal.SIGTERM)
        assert await server.exit_code() == 0

    assert [event["worker"] for event in reloaded] == [0, 1]
    assert "worker_exited" not in [event["event"] for event in server.events]


async def test_a_killed_worker_is_restarted_and_the_counters_keep_what_it_judged() -> None:
    async with OpenAIStub(agreeable_judge()) as stub:
        async with serve_process("--workers=2", env=_judges(stub)) as server:
            workers = (await server.event("server_started"))["workers"]
            before = [f"before-{index}" for index in range(8)]
            await asyncio.gather(*(_judge_on_new_connection(server.port, i) for i in before))

            os.kill(workers[0], signal.SIGKILL)

            exited = await server.event("worker_exited")
            restarted = await server.event("worker_restarted")
            after: list[str] = []  # calls until one reaches the restarted worker
            while not after or await _answered_by(server, after[-1]) != restarted["pid"]:
                assert len(after) < 64, "the restarted worker answered none of 64 connections"
                after.append(f"after-{len(after)}")
                assert await _judge_on_new_connection(server.port, after[-1]) == grpc.StatusCode.OK
            exported = await _metrics(server)
            server.send(signal.SIGTERM)
            assert await server.exit_code() == 0

    assert (exited["worker"], exited["pid"], exited["signal"]) == (0, workers[0], "SIGKILL")
    assert exited["level"] == "error"
    assert restarted["worker"] == 0
    assert restarted["pid"] not in workers
    assert exported.value("bsa_judge_traces_total", status="ok") == 8 + len(after)
    assert exported.value("bsa_judge_traces_in_flight") == 0


async def test_a_worker_that_cannot_start_stops_the_server_with_exit_1() -> None:
    exited = await serve_until_exit("--workers=2", "--judge-prompts=/nonexistent/prompts")

    failed = [e for e in exited.events if e["event"] == "server_start_failed"]
    assert exited.code == 1
    # The worker's own line, then the supervisor's.
    assert [e.get("worker") for e in failed] == [0, 0]
    assert failed[1]["exit_code"] == 1
    assert "server_started" not in [e["event"] for e in exited.events]


async def test_workers_drain_and_exit_when_the_supervisor_is_killed() -> None:
    async with serve_process("--workers=2") as server:
        workers = (await server.event("server_started"))["workers"]

        server.send(signal.SIGKILL)

        stopping = [await _worker_event(server, "server_stopping", pid) for pid in workers]
        stopped = [await _worker_event(server, "server_stopped", pid) for pid in workers]
        assert await server.exit_code() == -signal.SIGKILL

    assert [event["signal"] for event in stopping] == ["SIGTERM", "SIGTERM"]
    assert [event["worker"] for event in stopped] == [0, 1]


async def test_a_metrics_port_already_taken_exits_1_before_any_worker_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        exited = await serve_until_exit("--workers=2", f"--metrics-port={port}")

    assert exited.code == 1
    assert [(e["event"], e["metrics_port"], e["level"]) for e in exited.events] == [
        ("server_start_failed", port, "error")
    ]


async def test_a_server_refuses_a_port_another_server_holds() -> None:
    # gRPC sets SO_REUSEPORT by default: a second `bsa-judge serve` on a taken port used to
    # bind it and take a share of the connections, silently. Now it exits 1 naming the port.
    async with serve_process() as first:
        second = await serve_until_exit("--port", str(first.port))
        assert first.process.returncode is None  # the first one still serves
    failed = [e for e in second.events if e["event"] == "server_start_failed"]
    assert second.code == 1
    assert [e["port"] for e in failed] == [first.port]
    assert f"Failed to bind to address 127.0.0.1:{first.port}" in json.dumps(failed)
    assert not [e for e in second.events if e["event"] == "server_started"]


async def test_with_reuse_port_a_successor_binds_beside_the_server_and_takes_over() -> None:
    reuse = {"BSA_JUDGE_REUSE_PORT": "true"}
    async with serve_process(env=reuse) as first:
        async with serve_process("--port", str(first.port), env=reuse) as successor:
            assert successor.port == first.port
            first.send(signal.SIGTERM)
            assert await first.exit_code() == 0
            # The port is still served: by the successor alone now.
            async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
                served = await judge_pb2_grpc.JudgeServiceStub(channel).JudgeTrace(
                    judge_pb2.JudgeTraceRequest(trace=trace()), timeout=30
                )
    assert served.verdict.status == judge_pb2.JUDGMENT_STATUS_OK
