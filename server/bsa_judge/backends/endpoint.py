"""One OpenAI-compatible chat endpoint, and the single owner of how we call it.

Timeouts, retries with backoff (the openai SDK's own machinery, which honours Retry-After
and retries 408/409/429/5xx, timeouts and connection errors), the per-endpoint concurrency
limit and the classification of failures live here and nowhere else. Judges and models under
test both go through `ChatEndpoint`, which implements the core's `ChatModel` port
(bsa_judge.chat.model): it is the only code that reads an OpenAI response.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx2
import openai
from openai._vendor.httpx_aiohttp.transport import AiohttpTransport
from openai.types.chat import ChatCompletionChunk

from bsa_judge import telemetry
from bsa_judge.backends.openai_message import ChoiceParts, message_choice
from bsa_judge.chat.model import Choice, Completion, FailureCause, Messages, UpstreamFailure, Usage
from bsa_judge.env_secrets import read_secret

__all__ = [
    "ChatEndpoint",
    "EndpointConfig",
    "FailureCause",
    "MissingApiKeyError",
    "RetryCountingTransport",
    "UpstreamFailure",
    "classify",
]

# openai refuses an empty key; local endpoints (vLLM, Ollama, stubs) accept any.
_PLACEHOLDER_API_KEY = "not-needed"


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


def classify(error: Exception) -> FailureCause:
    """Map an openai SDK exception to a failure cause."""
    if isinstance(error, openai.APITimeoutError | asyncio.TimeoutError):
        return FailureCause.TIMEOUT
    if isinstance(error, openai.RateLimitError):
        return FailureCause.RATE_LIMITED
    if isinstance(error, openai.InternalServerError):
        return FailureCause.SERVER_ERROR
    if isinstance(error, openai.APIStatusError):
        return FailureCause.SERVER_ERROR if error.status_code >= 500 else FailureCause.CLIENT_ERROR
    if isinstance(error, openai.APIConnectionError):
        return FailureCause.CONNECTION
    return FailureCause.CLIENT_ERROR


def cause_of_status(status: int) -> FailureCause | None:
    """The failure cause an HTTP status stands for, or None for a success."""
    if status < 400:
        return None
    if status == 429:
        return FailureCause.RATE_LIMITED
    if status == 408:
        return FailureCause.TIMEOUT
    return FailureCause.SERVER_ERROR if status >= 500 else FailureCause.CLIENT_ERROR


# How the latest upstream attempt in this asyncio task ended (None: it succeeded).
_previous_attempt: ContextVar[FailureCause | None] = ContextVar(
    "bsa_judge_previous_upstream_attempt", default=None
)


class RetryCountingTransport(httpx2.AsyncBaseTransport):
    """Counts the SDK's retries into UPSTREAM_RETRIES by backend and cause.

    The SDK numbers each attempt of a call in `x-stainless-retry-count`; an attempt numbered
    above zero is a retry, caused by how the previous attempt of the same call ended. All
    attempts of a call run in the caller's task, so that outcome is kept in a context
    variable, which concurrent calls (other tasks) do not share. This counts exactly the
    retries the SDK makes without restating its rules (Retry-After cap, x-should-retry).
    """

    def __init__(self, backend: str, inner: httpx2.AsyncBaseTransport) -> None:
        self._backend = backend
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        previous = _previous_attempt.get()
        if previous is not None and request.headers.get("x-stainless-retry-count", "0") != "0":
            telemetry.UPSTREAM_RETRIES.labels(self._backend, previous.value).inc()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx2.TimeoutException as error:
            connection_error = _connection_error(error, request)
            if connection_error is not None:
                _previous_attempt.set(FailureCause.CONNECTION)
                raise connection_error from error.__cause__
            _previous_attempt.set(FailureCause.TIMEOUT)
            raise
        except httpx2.TransportError:
            _previous_attempt.set(FailureCause.CONNECTION)
            raise
        _previous_attempt.set(cause_of_status(response.status_code))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _connection_error(
    error: httpx2.TimeoutException, request: httpx2.Request
) -> httpx2.TransportError | None:
    """The connection failure the aiohttp adapter reported as a timeout, or None for a real one.

    The adapter maps every `aiohttp.ClientConnectionError` it does not know better (a refused
    or unresolvable connection, a connection reset or closed by the server before it replied)
    to a connect timeout; only aiohttp's own timeouts are timeouts.
    """
    cause = error.__cause__
    if not isinstance(cause, aiohttp.ClientConnectionError) or isinstance(cause, TimeoutError):
        return None
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx2.ConnectError(str(error), request=request)
    return httpx2.ReadError(f"{type(cause).__name__}: {cause}", request=request)


def _describe(error: Exception) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"HTTP {error.status_code}"
    return type(error).__name__


# A reply that is not a JSON object (a body cut short by a proxy or a crashing server) is
# asked again within the call's max_retries (shared with the SDK's own retries), after this
# delay doubled on each attempt.
_MALFORMED_RETRY_DELAY_S = 0.25


def _retries_made(response: httpx2.Response) -> int:
    """How many retries the SDK made before this reply (its x-stainless-retry-count)."""
    try:
        return int(response.request.headers.get("x-stainless-retry-count", "0"))
    except (RuntimeError, ValueError):  # no request attached, or a header not ours
        return 0


def _json_object(response: httpx2.Response) -> dict[str, Any] | None:
    """The reply's body when it is a JSON object, else None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class ChatEndpoint:
    """Calls one endpoint's chat completions within its concurrency limit."""

    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self._limit = asyncio.Semaphore(config.max_concurrency)
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key(),
            timeout=config.request_timeout_s,
            max_retries=config.max_retries,
            default_headers=dict(config.extra_headers) or None,
            # The SDK's aiohttp client (openai[aiohttp]), its pool sized to our concurrency
            # limit, retries counted. httpx's own pool scans every connection per request, which
            # costs most of the CPU at hundreds of concurrent calls; aiohttp's does not.
            http_client=openai.DefaultAioHttpClient(
                transport=RetryCountingTransport(
                    config.name,
                    AiohttpTransport(
                        limits=httpx2.Limits(
                            max_connections=config.max_concurrency,
                            max_keepalive_connections=config.max_concurrency,
                        )
                    ),
                )
            ),
        )

    @property
    def _create(self) -> Any:
        # The SDK's overloads cannot be resolved with **params; the result types are
        # annotated at each call site instead.
        return self._client.chat.completions.create

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

    async def complete(
        self,
        messages: Messages,
        decoding: Mapping[str, Any],
        *,
        n: int = 1,
        stream: bool = False,
    ) -> Completion:
        """The ChatModel call: one completion with `n` choices, streamed or not.

        `top_k` (outside the OpenAI schema; vLLM, SGLang, Ollama accept it) goes in the
        request's extra body. Raises UpstreamFailure once retries are spent.
        """
        started = time.perf_counter()
        params = {name: value for name, value in decoding.items() if name != "top_k"}
        extra_body = {"top_k": decoding["top_k"]} if decoding.get("top_k") is not None else {}
        if n > 1:
            params["n"] = n
        if stream:
            choices, usage = await self._streamed(messages, params, extra_body)
        else:
            # The completion as plain JSON: reasoning fields outside the OpenAI schema are
            # read as sent, and the SDK's typed models (much of a call's CPU) are skipped.
            body = await self.complete_json(messages, **params, **extra_body)
            choices, usage = _read_body(body)
        return Completion(choices, usage, time.perf_counter() - started)

    async def _streamed(
        self, messages: Messages, params: dict[str, Any], extra_body: dict[str, Any]
    ) -> tuple[tuple[Choice, ...], Usage]:
        parts: dict[int, ChoiceParts] = {}
        usage = Usage()
        async with aclosing(self.stream(messages, extra_body=extra_body, **params)) as chunks:
            async for chunk in chunks:
                for choice in chunk.choices:
                    delta = choice.delta
                    extra = delta.model_extra or {}
                    parts.setdefault(choice.index, ChoiceParts()).add(
                        content=delta.content,
                        reasoning_content=_text(extra.get("reasoning_content")),
                        reasoning=_text(extra.get("reasoning")),
                        finish_reason=choice.finish_reason,
                    )
                if chunk.usage is not None:
                    usage = Usage(
                        chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0
                    )
        return tuple(part.choice(index) for index, part in parts.items()), usage

    async def complete_json(
        self, messages: Sequence[Mapping[str, Any]], **params: Any
    ) -> dict[str, Any]:
        """One chat completion as its decoded JSON body; raises UpstreamFailure once the SDK's
        retries are spent, or when the reply is not a JSON object.

        Sent through the SDK client (its retries, timeouts and headers) without the SDK's
        typed request transform and response models, which cost about 40% of the CPU of a
        call; callers read only the fields they need.
        """
        retries_left = self.config.max_retries  # shared by the SDK's retries and ours
        malformed = 0
        while True:
            async with self._limit:
                try:
                    response: httpx2.Response = await self._client.post(
                        "/chat/completions",
                        body={"model": self.config.model, "messages": list(messages), **params},
                        cast_to=httpx2.Response,
                        options={"max_retries": retries_left},
                    )
                except openai.OpenAIError as error:
                    raise self._failure(error) from error
            body = _json_object(response)
            if body is not None:
                break
            retries_left -= _retries_made(response)
            if retries_left <= 0:
                telemetry.UPSTREAM_ERRORS.labels(self.name, FailureCause.SERVER_ERROR.value).inc()
                raise UpstreamFailure(self.name, FailureCause.SERVER_ERROR, "reply is not JSON")
            # Not a JSON object (a body cut short): a retry, as for a 5xx.
            telemetry.UPSTREAM_RETRIES.labels(self.name, FailureCause.SERVER_ERROR.value).inc()
            await asyncio.sleep(_MALFORMED_RETRY_DELAY_S * 2**malformed)
            retries_left -= 1
            malformed += 1
        usage = body.get("usage")
        if isinstance(usage, dict):
            self._count_tokens(usage.get("prompt_tokens"), usage.get("completion_tokens"))
        return body

    async def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        extra_body: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> AsyncGenerator[ChatCompletionChunk, None]:
        """A streamed chat completion, chunk by chunk, holding one concurrency slot."""
        async with self._limit:
            try:
                chunks: openai.AsyncStream[ChatCompletionChunk] = await self._create(
                    model=self.config.model,
                    messages=list(messages),
                    extra_body=dict(extra_body) if extra_body else None,
                    stream=True,
                    stream_options={"include_usage": True},
                    **params,
                )
                async for chunk in chunks:
                    if chunk.usage is not None:
                        self._count_tokens(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    yield chunk
            except openai.OpenAIError as error:
                raise self._failure(error) from error

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    def _failure(self, error: Exception) -> UpstreamFailure:
        failure = UpstreamFailure(self.name, classify(error), _describe(error))
        telemetry.UPSTREAM_ERRORS.labels(self.name, failure.cause.value).inc()
        return failure

    def _count_tokens(self, prompt_tokens: Any, completion_tokens: Any) -> None:
        """Add a reply's usage to UPSTREAM_TOKENS; a count that is not a positive whole number
        (absent, null, malformed) adds nothing."""
        for direction, count in (("in", prompt_tokens), ("out", completion_tokens)):
            if isinstance(count, int) and not isinstance(count, bool) and count > 0:
                telemetry.UPSTREAM_TOKENS.labels(self.name, direction).inc(count)


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


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
