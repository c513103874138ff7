"""Property-based fuzzing of every request message and of raw bytes per method: every call
ends OK or with a documented code, never UNKNOWN or INTERNAL, and the server stays healthy.

The short form runs in `make test`; `make fuzz` sets BSA_JUDGE_FUZZ_EXAMPLES for the long one
(bench/RESULTS.md records it). The server runs on its own event loop in a thread; the test
calls it with the blocking gRPC API, as hypothesis drives a plain function.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import grpc
import pytest
from bsa.judge.v1 import judge_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.generation.harness import write_backends
from tests.judging.harness import judge_backend, trace
from tests.support.proto_strategies import messages
from tests.support.serving import serving
from tools.judge_script import AGREEABLE, judge_call, reply, verdict_text
from tools.openai_stub import Choice, OpenAIStub, Reply

SERVICE = "/bsa.judge.v1.JudgeService/"
EXAMPLES = int(os.environ.get("BSA_JUDGE_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 100,  # the short form is the same every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NAMES = ("stub-judge", "alpha", "m", "item-1")
#: The codes the API documents for bad input and missing things; anything else is a defect.
DOCUMENTED = frozenset(
    {
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)
REQUESTS: dict[str, type[Any]] = {
    "JudgeTrace": judge_pb2.JudgeTraceRequest,
    "JudgeTraces": judge_pb2.JudgeTracesRequest,
    "JudgeTraceBatches": judge_pb2.JudgeTraceBatchesRequest,
    "Generate": judge_pb2.GenerateRequest,
    "ComputeMetrics": judge_pb2.ComputeMetricsRequest,
}
# The request-streaming methods: a request is a list of messages.
STREAMED = ("JudgeTraces", "JudgeTraceBatches")


def judge_or_model(body: dict[str, Any]) -> Reply:
    """Judge requests get an agreeable verdict; anything else is a generation."""
    try:
        kind = judge_call(body).kind
    except (AssertionError, KeyError, TypeError, AttributeError):
        return Reply(choices=[Choice(content="<think>risky</think>No.")])
    return reply(verdict_text(AGREEABLE[kind]))


class Served:
    """The server and its stub on an event loop of their own, in a thread."""

    def __init__(self, backends_dir: Path) -> None:
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._started: Future[int] = Future()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._run(backends_dir),)
        )

    async def _run(self, backends_dir: Path) -> None:
        self._stop = asyncio.Event()
        try:
            async with OpenAIStub(judge_or_model) as stub:
                backends = write_backends(backends_dir / "models.yaml", stub.base_url, alpha={})
                async with serving(judges=[judge_backend(stub)], backends=backends) as running:
                    self._started.set_result(running.port)
                    await self._stop.wait()
        except BaseException as error:
            if not self._started.done():
                self._started.set_exception(error)
            raise

    def __enter__(self) -> int:
        self._thread.start()
        return self._started.result(timeout=60)

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)
        self._loop.close()


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[grpc.Channel]:
    with (
        Served(tmp_path_factory.mktemp("fuzz")) as port,
        grpc.insecure_channel(f"127.0.0.1:{port}") as opened,
    ):
        yield opened
        # Still healthy, and still judging, after everything it was sent.
        health = health_pb2_grpc.HealthStub(opened).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        judged = call(opened, "JudgeTrace", judge_pb2.JudgeTraceRequest(trace=trace()))
        assert judged == grpc.StatusCode.OK


def call(channel: grpc.Channel, method: str, request: Any) -> grpc.StatusCode:
    """Send `request` (a message, raw bytes, or a list of either for a stream); its code."""
    encode = (lambda message: message) if _raw(request) else _serialize
    options: dict[str, Any] = {"timeout": 30}
    try:
        if method in STREAMED:
            stream = channel.stream_stream(SERVICE + method, request_serializer=encode)
            for _ in stream(iter(request), **options):
                pass
        elif method == "Generate":
            for _ in channel.unary_stream(SERVICE + method, request_serializer=encode)(
                request, **options
            ):
                pass
        else:
            channel.unary_unary(SERVICE + method, request_serializer=encode)(request, **options)
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def _raw(request: Any) -> bool:
    first = request[0] if isinstance(request, list) and request else request
    return isinstance(first, bytes)


def _serialize(message: Any) -> bytes:
    return message.SerializeToString()  # type: ignore[no-any-return]


def message_of(method: str) -> st.SearchStrategy[Any]:
    kind = REQUESTS[method]
    return messages(kind.DESCRIPTOR, kind, NAMES)


@pytest.mark.parametrize("method", sorted(REQUESTS))
@FUZZ
@given(data=st.data())
def test_every_request_message_gets_a_documented_code(
    channel: grpc.Channel, method: str, data: st.DataObject
) -> None:
    if method in STREAMED:
        request: Any = data.draw(st.lists(message_of(method), max_size=3))
    else:
        request = data.draw(message_of(method))
    assert call(channel, method, request) in DOCUMENTED


@pytest.mark.parametrize("method", sorted(REQUESTS))
@FUZZ
@given(data=st.data())
def test_raw_bytes_get_a_documented_code(
    channel: grpc.Channel, method: str, data: st.DataObject
) -> None:
    body = st.binary(max_size=200)
    request: Any = data.draw(st.lists(body, max_size=3) if method in STREAMED else body)
    assert call(channel, method, request) in DOCUMENTED
