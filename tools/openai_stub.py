"""A real OpenAI-compatible HTTP server on loopback, scripted per request: the judge of `make
demo`, and the upstream of the integration tests and benches.

`/v1/chat/completions` answers with whatever the script returns for the request body:
a `Reply` (one or more choices, usage, finish reasons, streaming as SSE), or a `Failure`
(any HTTP status with headers such as Retry-After, a slow reply, a raw body such as
truncated JSON, or a connection reset). The stub counts calls,
keeps every request body, its headers and its arrival time, and records the most requests it
had in flight at once. A reply or failure can be held back until the test releases it
(`hold`). A client
that hangs up cancels the request's handler, as real servers abort the generation; such
requests are counted in `disconnects`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import web


@dataclass(frozen=True)
class Choice:
    """One choice of a completion: content plus optional reasoning fields."""

    content: str | list[dict[str, Any]] | None = ""
    reasoning_content: str | None = None  # DeepSeek / vLLM reasoning parser field
    reasoning: str | None = None  # newer vLLM / OpenRouter field
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Reply:
    """A successful completion. With `choices` empty, `n` copies of `Choice(content)`."""

    choices: Sequence[Choice] = ()
    prompt_tokens: int = 10
    completion_tokens: int = 20
    delay_s: float = 0.0
    stream_chunk_chars: int = 8  # when the request asks to stream, split text this finely
    chunk_delay_s: float = 0.0  # when streaming, pause this long before each chunk
    hold: asyncio.Event | None = None  # when given, the reply waits until the event is set


@dataclass(frozen=True)
class Failure:
    """An HTTP error reply (or a reply so slow that the client times out)."""

    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    body: Mapping[str, Any] = field(
        default_factory=lambda: {"error": {"message": "stub failure", "type": "server_error"}}
    )
    hold: asyncio.Event | None = None  # when given, the failure waits until the event is set
    raw_body: bytes | None = None  # sent as the body instead of `body` (e.g. truncated JSON)
    reset: bool = False  # reset the connection (TCP RST) instead of replying


Script = Callable[[dict[str, Any]], "Reply | Failure"]


def text_reply(text: str) -> Script:
    """A script that always answers `text`."""
    return lambda _request: Reply(choices=[Choice(content=text)])


class OpenAIStub:
    """The stub server. Use `async with OpenAIStub(script) as stub:`; `stub.base_url` is /v1."""

    def __init__(self, script: Script, *, host: str = "127.0.0.1", backlog: int = 128) -> None:
        self.script = script
        self.host = host
        self.backlog = backlog  # pending connections; benches opening hundreds at once raise it
        self.calls = 0
        self.requests: list[dict[str, Any]] = []
        # Per request, in arrival order: its headers (names lower-cased) and when it arrived
        # (time.monotonic()).
        self.headers: list[dict[str, str]] = []
        self.arrivals: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.disconnects = 0  # requests whose client hung up before the reply was complete
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """The OpenAI base URL of the stub (ends in /v1)."""
        return f"http://{self.host}:{self.port}/v1"

    async def __aenter__(self) -> OpenAIStub:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0, backlog=self.backlog)
        await site.start()
        server = site._server
        assert server is not None
        # aiohttp types the server as AbstractServer, which does not declare `sockets`.
        self.port = int(cast(Any, server).sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def reset(self) -> None:
        """Forget counted calls and requests."""
        self.calls = 0
        self.requests.clear()
        self.headers.clear()
        self.arrivals.clear()
        self.max_in_flight = 0
        self.disconnects = 0

    async def _models(self, _request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "stub", "object": "model"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body = await request.json()
        self.calls += 1
        self.requests.append(body)
        self.headers.append({name.lower(): value for name, value in request.headers.items()})
        self.arrivals.append(arrived)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            outcome = self.script(body)
            if outcome.delay_s:
                await asyncio.sleep(outcome.delay_s)
            if outcome.hold is not None:
                await outcome.hold.wait()
            if isinstance(outcome, Failure):
                if outcome.reset:
                    _reset(request)
                    raise ConnectionResetError("the stub reset the connection")
                if outcome.raw_body is not None:
                    return web.Response(
                        body=outcome.raw_body,
                        status=outcome.status,
                        headers=dict(outcome.headers),
                        content_type="application/json",
                    )
                return web.json_response(
                    dict(outcome.body), status=outcome.status, headers=dict(outcome.headers)
                )
            choices = list(outcome.choices) or [Choice()] * int(body.get("n") or 1)
            if body.get("stream"):
                return await self._stream(request, body, outcome, choices)
            return web.json_response(_completion(body, outcome, choices))
        except (asyncio.CancelledError, ConnectionResetError):
            self.disconnects += 1
            raise
        finally:
            self.in_flight -= 1

    async def _stream(
        self, request: web.Request, body: dict[str, Any], reply: Reply, choices: list[Choice]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        created = int(time.time())

        async def send(payload: dict[str, Any]) -> None:
            if reply.chunk_delay_s:
                await asyncio.sleep(reply.chunk_delay_s)
            await response.write(f"data: {json.dumps(payload)}\n\n".encode())

        def chunk(index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.get("model", "stub"),
                "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
            }

        step = max(1, reply.stream_chunk_chars)
        for index, choice in enumerate(choices):
            await send(chunk(index, {"role": "assistant", "content": ""}, None))
            for key in ("reasoning_content", "reasoning"):
                text = getattr(choice, key)
                for start in range(0, len(text or ""), step):
                    await send(chunk(index, {key: text[start : start + step]}, None))
            if isinstance(choice.content, list):
                # List-valued content streams one part per delta, as a one-part list.
                for part in choice.content:
                    await send(chunk(index, {"content": [part]}, None))
            content = choice.content if isinstance(choice.content, str) else ""
            for start in range(0, len(content), step):
                await send(chunk(index, {"content": content[start : start + step]}, None))
            await send(chunk(index, {}, choice.finish_reason))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.get("model", "stub"),
                "choices": [],
                "usage": _usage(reply),
            }
            await send(usage)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _reset(request: web.Request) -> None:
    """Close the request's connection with a TCP RST (SO_LINGER 0), as a crashed proxy does."""
    transport = request.transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _usage(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def _completion(body: dict[str, Any], reply: Reply, choices: list[Choice]) -> dict[str, Any]:
    def message(choice: Choice) -> dict[str, Any]:
        out: dict[str, Any] = {"role": "assistant", "content": choice.content}
        if choice.reasoning_content is not None:
            out["reasoning_content"] = choice.reasoning_content
        if choice.reasoning is not None:
            out["reasoning"] = choice.reasoning
        return out

    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "stub"),
        "choices": [
            {"index": i, "message": message(c), "finish_reason": c.finish_reason}
            for i, c in enumerate(choices)
        ],
        "usage": _usage(reply),
    }
