"""The lean baseline of the throughput benches: chat completions posted with plain aiohttp.

No SDK, no typed models, no retries: one long-lived session whose connection pool holds as
many connections as calls may be in flight, the JSON body posted and the reply decoded with
the standard library. It is about the least a client can spend per call in Python, so the
service's ratio to it says what the service costs on top of the upstream calls themselves.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

import aiohttp


class LeanChatClient:
    """POST /chat/completions to an OpenAI-compatible server; use as an async context."""

    def __init__(self, base_url: str, *, connections: int) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LeanChatClient:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._connections),
            headers={"Authorization": "Bearer not-needed", "Content-Type": "application/json"},
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._session is not None
        await self._session.close()

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """One whole (non-streamed) completion, decoded; raises on an HTTP error status."""
        assert self._session is not None
        async with self._session.post(self._url, data=json.dumps(body)) as response:
            response.raise_for_status()
            reply: dict[str, Any] = json.loads(await response.read())
        return reply

    async def stream(self, body: dict[str, Any]) -> int:
        """One streamed completion: every SSE event decoded; returns how many there were."""
        assert self._session is not None
        events = 0
        async with self._session.post(self._url, data=json.dumps(body)) as response:
            response.raise_for_status()
            async for line in response.content:
                if line.startswith(b"data: ") and line.strip() != b"data: [DONE]":
                    json.loads(line[6:])
                    events += 1
        return events
