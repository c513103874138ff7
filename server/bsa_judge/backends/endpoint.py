"""One OpenAI-compatible chat endpoint, and the single owner of how we call it.

Timeouts, retries with backoff (`retry_policy`: the openai SDK's rules, which honour
Retry-After and retry 408/409/429/5xx, timeouts, connection failures and replies cut short),
the per-endpoint concurrency limit and the classification of failures live here and nowhere
else. Judges and models under test both go through `ChatEndpoint`, which implements the
core's `ChatModel` port (bsa_judge.chat.model): it is the only code that reads an OpenAI
response.

Calls are plain HTTP: one long-lived aiohttp session per endpoint, its connection pool sized
to the concurrency limit, bodies encoded and decoded with orjson, retries waited and counted
by tenacity. The openai SDK's request building, httpx layer and typed models cost about
three quarters of a call's CPU and are not on this path (issue 11).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import orjson
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bsa_judge import telemetry
from bsa_judge.backends.openai_message import ChoiceParts, message_choice
from bsa_judge.backends.retry_policy import (
    CONNECTION_DETAIL,
    NOT_JSON_DETAIL,
    TIMEOUT_DETAIL,
    AttemptFailed,
    StatusReply,
    delay_before_retry,
    status_failure,
)
from bsa_judge.chat.model import Choice, Completion, FailureCause, Messages, UpstreamFailure, Usage
from bsa_judge.env_secrets import read_secret

__all__ = [
    "ChatEndpoint",
    "EndpointConfig",
    "FailureCause",
    "MissingApiKeyError",
    "UpstreamFailure",
]

# Local endpoints (vLLM, Ollama, stubs) accept any key; some refuse a request without one.
_PLACEHOLDER_API_KEY = "not-needed"
# The longest SSE line a streamed reply may send (aiohttp's line reader limit).
_READ_BUFFER_BYTES = 2**20

_Result = TypeVar("_Result")


class MissingApiKeyError(ValueError):
    """An endpoint names an API key variable that is unset or empty (raised when it is built)."""


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """How to reach one OpenAI-compatible chat endpoint."""

    name: str
    base_url: str
    model: str
    api_key_env: str | None = None  # the NAME of the environment variable holding the key
    max_concurrency: int = 16
    request_timeout_s: float = 120.0
    max_retries: int = 3
    extra_headers: Mapping[str, str] = field(default_factory=dict)

    def api_key(self) -> str:
        """The key from the variable `api_key_env` names; a placeholder when it names none.

        Raises MissingApiKeyError (naming the backend, its model and the variable, never a
        value) when the named variable is unset or empty: a configured key that is missing is
        a deployment mistake, better refused at startup than sent as a placeholder and
        answered with a 401 on every call.
        """
        if not self.api_key_env:
            return _PLACEHOLDER_API_KEY  # keyless local servers (vLLM, Ollama, stubs)
        key = read_secret(self.api_key_env)
        if not key:
            raise MissingApiKeyError(
                f"backend {self.name!r} (model {self.model!r}): api_key_env names the "
                f"environment variable {self.api_key_env}, which is not set or is empty"
            )
        return key


def _retryable(error: BaseException) -> bool:
    return isinstance(error, AttemptFailed) and error.retryable


def _wait(state: RetryCallState) -> float:
    assert state.outcome is not None
    failure = state.outcome.exception()
    assert isinstance(failure, AttemptFailed)
    # The first retry was made before tenacity's first attempt (ChatEndpoint._with_retries).
    return delay_before_retry(failure, retries_made=state.attempt_number)


def _transport_failure(error: Exception) -> AttemptFailed:
    """A failure below HTTP: aiohttp's own timeouts are timeouts; a refused, reset or closed
    connection (any other aiohttp client error) is a connection failure."""
    if isinstance(error, TimeoutError):
        return AttemptFailed(FailureCause.TIMEOUT, TIMEOUT_DETAIL, retryable=True)
    return AttemptFailed(FailureCause.CONNECTION, CONNECTION_DETAIL, retryable=True)


class ChatEndpoint:
    """Calls one endpoint's chat completions within its concurrency limit."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self._limit = asyncio.Semaphore(config.max_concurrency)
        self._url = config.base_url.rstrip("/") + "/chat/completions"
        self._headers = {
            "Authorization": f"Bearer {config.api_key()}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            **config.extra_headers,
        }
        # As the SDK's timeout: for connecting, and for each read (a stream may run longer).
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=config.request_timeout_s,
            sock_read=config.request_timeout_s,
        )
        self._session: aiohttp.ClientSession | None = None  # made in the first call's loop
        self._closed = False

    @property
    def name(self) -> str:
        """The endpoint's configured name."""
        return self.config.name

    @property
    def model(self) -> str:
        """The model id sent upstream."""
        return self.config.model

    @property
    def identity(self) -> str:
        """Where and which model: two endpoints serving a same-named model differ."""
        return f"base_url={self.config.base_url};model={self.config.model}"

    @property
    def closed(self) -> bool:
        """Whether `aclose` has run (its connections are released)."""
        return self._closed

    async def complete(
        self,
        messages: Messages,
        decoding: Mapping[str, Any],
        *,
        n: int = 1,
        stream: bool = False,
    ) -> Completion:
        """The ChatModel call: one completion with `n` choices, streamed or not.

        `top_k` (outside the OpenAI schema; vLLM, SGLang, Ollama accept it) is sent as a
        top-level field like the others. Raises UpstreamFailure once retries are spent.
        """
        started = time.perf_counter()
        params = dict(decoding)
        if params.get("top_k") is None:
            params.pop("top_k", None)
        if n > 1:
            params["n"] = n
        if stream:
            choices, usage = await self._streamed(messages, params)
        else:
            body = await self.complete_json(messages, **params)
            choices, usage = _read_body(body)
        return Completion(choices, usage, time.perf_counter() - started)

    async def _streamed(
        self, messages: Messages, params: dict[str, Any]
    ) -> tuple[tuple[Choice, ...], Usage]:
        parts: dict[int, ChoiceParts] = {}
        usage = Usage()
        async with aclosing(self.stream(messages, **params)) as chunks:
            async for chunk in chunks:
                for choice in _dicts(chunk.get("choices")):
                    delta = choice.get("delta")
                    delta = delta if isinstance(delta, dict) else {}
                    content = delta.get("content")
                    index = choice.get("index")
                    parts.setdefault(index if isinstance(index, int) else 0, ChoiceParts()).add(
                        content=content if isinstance(content, str | list) else None,
                        reasoning_content=_text(delta.get("reasoning_content")),
                        reasoning=_text(delta.get("reasoning")),
                        finish_reason=_text(choice.get("finish_reason")),
                    )
                reported = chunk.get("usage")
                if isinstance(reported, dict):
                    usage = Usage(
                        _count(reported.get("prompt_tokens")),
                        _count(reported.get("completion_tokens")),
                    )
        return tuple(part.choice(index) for index, part in parts.items()), usage

    async def complete_json(
        self, messages: Sequence[Mapping[str, Any]], **params: Any
    ) -> dict[str, Any]:
        """One chat completion as its decoded JSON body; raises UpstreamFailure once the
        retries are spent (a reply that is not a JSON object is retried like a 5xx)."""
        payload = _json({"model": self.config.model, "messages": messages, **params})
        async with self._limit:
            body = await self._with_retries(self._post, payload)
        usage = body.get("usage")
        if isinstance(usage, dict):
            self._count_tokens(usage.get("prompt_tokens"), usage.get("completion_tokens"))
        return body

    async def stream(
        self, messages: Sequence[Mapping[str, Any]], **params: Any
    ) -> AsyncGenerator[dict[str, Any], None]:
        """A streamed chat completion, its chunks as decoded JSON objects, holding one
        concurrency slot. Opening the stream is retried; a stream broken midway is not."""
        payload = _json(
            {
                "model": self.config.model,
                "messages": messages,
                **params,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        )
        async with self._limit:
            response = await self._with_retries(self._open_stream, payload)
            try:
                async for chunk in _sse_chunks(response):
                    usage = chunk.get("usage")
                    if isinstance(usage, dict):
                        self._count_tokens(
                            usage.get("prompt_tokens"), usage.get("completion_tokens")
                        )
                    yield chunk
            except AttemptFailed as failure:
                raise self._failure(failure) from failure
            except (TimeoutError, aiohttp.ClientError) as error:
                raise self._failure(_transport_failure(error)) from error
            finally:
                response.release()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        self._closed = True
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        """The endpoint's session, its pool as large as the concurrency limit."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.config.max_concurrency),
                headers=self._headers,
                timeout=self._timeout,
                read_bufsize=_READ_BUFFER_BYTES,
            )
        return self._session

    async def _with_retries(
        self, attempt: Callable[[bytes], Awaitable[_Result]], payload: bytes
    ) -> _Result:
        """`attempt(payload)` until it succeeds, fails for good, or `max_retries` retries are
        made.

        The retries are tenacity's; the first attempt is made without it, as most calls need
        no retry and a retrier costs about 6% of the server's CPU per call at saturation.
        """
        try:
            return await attempt(payload)
        except AttemptFailed as failure:
            if not failure.retryable or self.config.max_retries == 0:
                raise self._failure(failure) from failure
            first = failure
        self._count(first)
        await asyncio.sleep(delay_before_retry(first, retries_made=0))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_retries),
            retry=retry_if_exception(_retryable),
            wait=_wait,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return await retrying(attempt, payload)
        except AttemptFailed as failure:
            raise self._failure(failure) from failure

    async def _post(self, payload: bytes) -> dict[str, Any]:
        """One attempt: the reply's body as a JSON object."""
        try:
            async with self._http().post(self._url, data=payload) as response:
                body = await response.read()
                if response.status >= 400:
                    raise status_failure(StatusReply(response.status, response.headers))
        except (TimeoutError, aiohttp.ClientError) as error:
            raise _transport_failure(error) from error
        try:
            decoded = orjson.loads(body)
        except orjson.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, dict):  # cut short by a proxy or a crashing server
            raise AttemptFailed(FailureCause.SERVER_ERROR, NOT_JSON_DETAIL, retryable=True)
        return decoded

    async def _open_stream(self, payload: bytes) -> aiohttp.ClientResponse:
        """One attempt at opening a stream: the response, its status a success."""
        try:
            response = await self._http().post(self._url, data=payload)
            if response.status >= 400:
                async with response:
                    await response.read()
                raise status_failure(StatusReply(response.status, response.headers))
        except (TimeoutError, aiohttp.ClientError) as error:
            raise _transport_failure(error) from error
        return response

    def _count_retry(self, state: RetryCallState) -> None:
        assert state.outcome is not None
        failure = state.outcome.exception()
        assert isinstance(failure, AttemptFailed)
        self._count(failure)

    def _count(self, failure: AttemptFailed) -> None:
        """Count the retry `failure` causes."""
        telemetry.labelled(telemetry.UPSTREAM_RETRIES, self.name, failure.retry_cause.value).inc()

    def _failure(self, failure: AttemptFailed) -> UpstreamFailure:
        telemetry.labelled(telemetry.UPSTREAM_ERRORS, self.name, failure.cause.value).inc()
        return UpstreamFailure(self.name, failure.cause, failure.detail)

    def _count_tokens(self, prompt_tokens: Any, completion_tokens: Any) -> None:
        """Add a reply's usage to UPSTREAM_TOKENS; a count that is not a positive whole number
        (absent, null, malformed) adds nothing."""
        for direction, count in (("in", prompt_tokens), ("out", completion_tokens)):
            if isinstance(count, int) and not isinstance(count, bool) and count > 0:
                telemetry.labelled(telemetry.UPSTREAM_TOKENS, self.name, direction).inc(count)


async def _sse_chunks(response: aiohttp.ClientResponse) -> AsyncGenerator[dict[str, Any], None]:
    """The JSON objects of a server-sent event stream, up to `[DONE]`; an event carrying an
    `error` ends it as a client error, as the SDK did."""
    data: list[bytes] = []

    def event() -> dict[str, Any] | None:
        text = b"\n".join(data)
        data.clear()
        try:
            chunk = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise AttemptFailed(
                FailureCause.SERVER_ERROR, NOT_JSON_DETAIL, retryable=False
            ) from None
        if not isinstance(chunk, dict):
            return None
        if chunk.get("error"):
            raise AttemptFailed(FailureCause.CLIENT_ERROR, "APIError", retryable=False)
        return chunk

    async for raw in response.content:
        line = raw.rstrip(b"\r\n")
        if line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
            continue
        if line or not data:
            continue  # a comment, another field, or a blank line after nothing
        if data == [b"[DONE]"]:
            return
        chunk = event()
        if chunk is not None:
            yield chunk
    if data and data != [b"[DONE]"]:
        chunk = event()
        if chunk is not None:
            yield chunk


def _read_body(body: dict[str, Any]) -> tuple[tuple[Choice, ...], Usage]:
    """The choices and usage of a chat completion body; odd shapes read as empty."""
    raw_choices = body.get("choices")
    choices = tuple(
        _read_choice(choice, position)
        for position, choice in enumerate(raw_choices if isinstance(raw_choices, list) else [])
        if isinstance(choice, dict)
    )
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return choices, Usage()
    return choices, Usage(
        _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
    )


def _read_choice(choice: dict[str, Any], position: int) -> Choice:
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    content = message.get("content")
    index = choice.get("index")
    return message_choice(
        content if isinstance(content, str | list) else None,
        reasoning_content=_text(message.get("reasoning_content")),
        reasoning=_text(message.get("reasoning")),
        finish_reason=_text(choice.get("finish_reason")),
        index=index if isinstance(index, int) else position,
    )


def _json(body: dict[str, Any]) -> bytes:
    """A request body as JSON; mappings other than dicts (read-only messages) as objects."""
    return orjson.dumps(body, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
