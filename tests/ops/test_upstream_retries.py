"""Upstream retries: counted by backend and cause, and spaced
as the upstream's Retry-After asks. Calls go through `ChatEndpoint.complete_json`, the path
judges and models under test use."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from bsa_judge.backends.endpoint import ChatEndpoint, EndpointConfig, UpstreamFailure
from prometheus_client import REGISTRY

from tools.openai_stub import Failure, OpenAIStub, Reply, Script

# Milliseconds, not the default half-second backoff: keeps the retries quick.
_SOON = {"retry-after-ms": "5"}
_HELLO = [{"role": "user", "content": "hello"}]


def _count(metric: str, backend: str, cause: str) -> float:
    value = REGISTRY.get_sample_value(metric, {"backend": backend, "cause": cause})
    return value or 0.0


def _failing_first(*failures: Failure) -> Script:
    """Answer with `failures` in turn, then succeed."""
    queue: Iterator[Failure] = iter(failures)

    def script(_request: dict[str, Any]) -> Reply | Failure:
        return next(queue, Reply())

    return script


async def test_two_rate_limited_replies_count_two_retries_and_no_error() -> None:
    async with OpenAIStub(
        _failing_first(Failure(429, headers=_SOON), Failure(429, headers=_SOON))
    ) as stub:
        endpoint = ChatEndpoint(EndpointConfig("retry-429", stub.base_url, "m", max_retries=3))
        before = _count("bsa_judge_upstream_retries_total", "retry-429", "rate_limited")
        await endpoint.complete_json(_HELLO)
        await endpoint.aclose()
    assert stub.calls == 3
    assert _count("bsa_judge_upstream_retries_total", "retry-429", "rate_limited") == before + 2
    assert _count("bsa_judge_upstream_errors_total", "retry-429", "rate_limited") == 0


async def test_a_retry_waits_as_long_as_retry_after_asks() -> None:
    async with OpenAIStub(_failing_first(Failure(429, headers={"Retry-After": "1"}))) as stub:
        endpoint = ChatEndpoint(EndpointConfig("retry-after-1", stub.base_url, "m", max_retries=1))
        reply = await endpoint.complete_json(_HELLO)
        await endpoint.aclose()
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert stub.calls == 2
    # A lower bound only: the retry came no sooner than the one second the upstream asked for.
    assert stub.arrivals[1] - stub.arrivals[0] >= 1.0


async def test_server_errors_past_the_last_retry_count_retries_and_one_error() -> None:
    async with OpenAIStub(lambda _request: Failure(503, headers=_SOON)) as stub:
        endpoint = ChatEndpoint(EndpointConfig("retry-5xx", stub.base_url, "m", max_retries=2))
        with pytest.raises(UpstreamFailure):
            await endpoint.complete_json(_HELLO)
        await endpoint.aclose()
    assert stub.calls == 3  # the first attempt and two retries; the third failure is final
    assert _count("bsa_judge_upstream_retries_total", "retry-5xx", "server_error") == 2
    assert _count("bsa_judge_upstream_errors_total", "retry-5xx", "server_error") == 1


async def test_a_slow_reply_counts_as_a_timeout_retry() -> None:
    async with OpenAIStub(
        _failing_first(Failure(500, delay_s=1.0))  # outlives the 0.3 s timeout
    ) as stub:
        endpoint = ChatEndpoint(
            EndpointConfig("retry-slow", stub.base_url, "m", max_retries=1, request_timeout_s=0.3)
        )
        await endpoint.complete_json(_HELLO)
        await endpoint.aclose()
    assert _count("bsa_judge_upstream_retries_total", "retry-slow", "timeout") == 1


async def test_a_refused_connection_counts_connection_retries() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = ChatEndpoint(
        EndpointConfig("retry-refused", f"http://127.0.0.1:{port}/v1", "m", max_retries=1)
    )
    with pytest.raises(UpstreamFailure):
        await endpoint.complete_json(_HELLO)
    await endpoint.aclose()
    assert _count("bsa_judge_upstream_retries_total", "retry-refused", "connection") == 1
    assert _count("bsa_judge_upstream_errors_total", "retry-refused", "connection") == 1


async def test_a_connection_reset_is_a_connection_failure_retried_not_a_timeout() -> None:
    async with OpenAIStub(lambda _request: Failure(reset=True)) as stub:
        endpoint = ChatEndpoint(EndpointConfig("retry-reset", stub.base_url, "m", max_retries=1))
        with pytest.raises(UpstreamFailure) as failed:
            await endpoint.complete_json(_HELLO)
        await endpoint.aclose()
    assert stub.calls == 2
    assert str(failed.value) == "retry-reset: connection: APIConnectionError"
    assert _count("bsa_judge_upstream_retries_total", "retry-reset", "connection") == 1
    assert _count("bsa_judge_upstream_errors_total", "retry-reset", "connection") == 1
    assert _count("bsa_judge_upstream_errors_total", "retry-reset", "timeout") == 0


async def test_a_truncated_json_reply_is_asked_again_and_counted_as_a_server_error_retry() -> None:
    truncated = Failure(200, raw_body=b'{"id": "chatcmpl-stub", "choices": [{"mess')
    async with OpenAIStub(_failing_first(truncated)) as stub:
        endpoint = ChatEndpoint(EndpointConfig("retry-truncated", stub.base_url, "m"))
        reply = await endpoint.complete_json(_HELLO)
        await endpoint.aclose()
    assert stub.calls == 2
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert _count("bsa_judge_upstream_retries_total", "retry-truncated", "server_error") == 1


async def test_status_retries_and_truncated_reply_retries_share_one_budget() -> None:
    truncated = Failure(200, raw_body=b'{"choices": [')
    script = _failing_first(Failure(500, headers=_SOON), truncated, truncated)
    async with OpenAIStub(script) as stub:
        endpoint = ChatEndpoint(
            EndpointConfig("retry-shared-budget", stub.base_url, "m", max_retries=2)
        )
        with pytest.raises(UpstreamFailure) as failed:
            await endpoint.complete_json(_HELLO)
        await endpoint.aclose()
    assert stub.calls == 3  # one call and its two retries, whatever failed
    assert str(failed.value) == "retry-shared-budget: server_error: reply is not JSON"
    assert _count("bsa_judge_upstream_errors_total", "retry-shared-budget", "server_error") == 1


async def test_a_409_with_x_should_retry_false_is_not_retried() -> None:
    refused = Failure(409, headers={"x-should-retry": "false"})
    async with OpenAIStub(_failing_first(refused)) as stub:
        endpoint = ChatEndpoint(EndpointConfig("no-retry", stub.base_url, "m", max_retries=3))
        with pytest.raises(UpstreamFailure) as failed:
            await endpoint.complete_json(_HELLO)
        await endpoint.aclose()
    assert stub.calls == 1
    assert str(failed.value) == "no-retry: client_error: HTTP 409"
