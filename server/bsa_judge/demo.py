"""`make demo`: start the real server, show what it does, stop it gracefully.

The server runs as a subprocess (`bsa-judge serve --port 0`), exactly as in production; the
demo reads the bound port from its `server_started` log line, runs each step of `STEPS`
against it, then sends SIGTERM and reports the exit code. A step is a function of `Demo`;
append one to `STEPS` to show more.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, cast

import grpc
from bsa_judge_client import JudgeClient
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status
from rich.console import Console

JUDGE_SERVICE = "bsa.judge.v1.JudgeService"
STARTUP_TIMEOUT_S = 60.0
GRACE_PERIOD_S = 10.0


@dataclass
class Demo:
    """What every step gets: the server's address, a channel to it, and the console."""

    target: str
    channel: grpc.Channel
    console: Console


def show_health(demo: Demo) -> None:
    """The standard gRPC health check, for the server and for the judge service."""
    # The typed stubs of grpcio-health-checking leave HealthStub's methods out.
    check = demo.channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    for service in ("", JUDGE_SERVICE):
        reply = check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        demo.console.print(f"  health      {service or '(server)'}: [bold green]{status}[/]")


def show_reflection(demo: Demo) -> None:
    """The services a generic tool (grpcurl, Postman) finds by server reflection."""
    database = ProtoReflectionDescriptorDatabase(demo.channel)
    for service in sorted(database.get_services()):
        demo.console.print(f"  reflection  {service}")
    judge = database.FindFileContainingSymbol(JUDGE_SERVICE).service[0]
    rpcs = ", ".join(method.name for method in judge.method)
    demo.console.print(f"  rpcs        {JUDGE_SERVICE}: {rpcs}")


def show_bad_input(demo: Demo) -> None:
    """A trace with its required fields missing, sent with the client SDK, is refused with
    INVALID_ARGUMENT naming each field."""
    with JudgeClient(demo.target) as client:
        try:
            client.judge_trace({"trace": {"answer": "Sure, here is how."}})
        except grpc.RpcError as error:
            call = cast(grpc.Call, error)  # what a failed blocking call raises is both
            demo.console.print(f"  bad input   JudgeTrace -> [bold]{call.code().name}[/]")
            for field, description in _field_violations(call):
                demo.console.print(f"              {field}: {description}")
            return
    demo.console.print("  bad input   JudgeTrace accepted an empty trace (unexpected)")


def _field_violations(call: grpc.Call) -> list[tuple[str, str]]:
    """The google.rpc.BadRequest field violations carried by a failed call's status."""
    status = rpc_status.from_call(call)
    violations = []
    for detail in status.details if status is not None else ():
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            violations += [(v.field, v.description) for v in bad_request.field_violations]
    return violations


STEPS: list[Callable[[Demo], None]] = [show_health, show_reflection, show_bad_input]


@dataclass
class ServerProcess:
    """The `bsa-judge serve` subprocess and its bound port."""

    process: subprocess.Popen[str]
    port: int = 0
    exit_code: int | None = None


@contextmanager
def running_server(console: Console) -> Iterator[ServerProcess]:
    """Start `bsa-judge serve --port 0`; on leaving, SIGTERM it and wait for its exit."""
    command = [
        sys.executable, "-m", "bsa_judge.cli", "serve", "--port=0", "--metrics-port=none",
        "--log-format=json", f"--grace-period-s={GRACE_PERIOD_S}",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    events = _events(process.stdout)
    server = ServerProcess(process)
    try:
        server.port = int(_wait_for(events, "server_started")["port"])
        console.print(f"  server      listening on 127.0.0.1:{server.port} (pid {process.pid})")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            server.exit_code = process.wait(timeout=GRACE_PERIOD_S + 10)
        except subprocess.TimeoutExpired:
            process.kill()
            server.exit_code = process.wait()


def _events(stdout: IO[str]) -> queue.Queue[dict[str, Any] | None]:
    """The server's JSON log events, read by a thread (which also keeps the pipe drained)."""
    events: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def read() -> None:
        for line in stdout:
            if line.startswith("{"):
                events.put(json.loads(line))
        events.put(None)  # the server's output ended

    threading.Thread(target=read, daemon=True).start()
    return events


def _wait_for(events: queue.Queue[dict[str, Any] | None], name: str) -> dict[str, Any]:
    while True:
        event = events.get(timeout=STARTUP_TIMEOUT_S)
        if event is None:
            raise RuntimeError(f"the server stopped before logging {name}")
        if event.get("event") == name:
            return event


def main() -> int:
    """Run the demo; returns 0 when every step ran and the server stopped cleanly."""
    console = Console(highlight=False, soft_wrap=True)
    console.print("[bold]bsa-judge demo[/]: the Beyond Safe Answers judging service")
    with running_server(console) as server:
        target = f"127.0.0.1:{server.port}"
        with grpc.insecure_channel(target) as channel:
            demo = Demo(target=target, channel=channel, console=console)
            for step in STEPS:
                step(demo)
    console.print(f"  server      stopped by SIGTERM, exit code {server.exit_code}")
    return 0 if server.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
