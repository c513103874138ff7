"""A TCP proxy on loopback that a test can cut and restore: PostgreSQL going away and coming
back, as the server sees it, without touching the machine's shared PostgreSQL cluster (other
tests use it; restarting it is not ours to do)."""

from __future__ import annotations

import asyncio
from contextlib import suppress


class CuttableProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`upstream_port`.

    `cut()` drops every open connection and refuses new ones (a closed port: connection
    refused, as while a database restarts); `restore()` listens again on the same port.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.connections = 0  # accepted so far
        self._listener: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> CuttableProxy:
        await self.restore()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cut()

    async def restore(self) -> None:
        """Accept connections (again, on the same port)."""
        assert self._listener is None
        self._listener = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = int(self._listener.sockets[0].getsockname()[1])

    async def cut(self) -> None:
        """Close the port and every connection through it."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _forward(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        try:
            upstream_in, upstream_out = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port
            )
        except OSError:
            client_out.transport.abort()
            return
        self._open.update((client_out, upstream_out))
        try:
            await asyncio.gather(_pipe(client_in, upstream_out), _pipe(upstream_in, client_out))
        finally:
            for writer in (client_out, upstream_out):
                self._open.discard(writer)
                writer.transport.abort()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    sink.transport.abort()  # one side gone: the other goes too
