"""Debian's chromium, headless, driven over the Chrome DevTools Protocol, to look at a page.

`async with headless_chromium(tmp_path) as browser: page = await browser.open(url)` starts
`/usr/bin/chromium` (`make chromium` installs it) with a throw-away profile and nothing
running in the background, opens the URL in a new tab and waits for its load event. The
`Page` keeps what a person's browser would have shown in its developer tools: console
messages, uncaught exceptions, log entries and every request made; it evaluates JavaScript
and takes screenshots. The protocol goes over aiohttp's WebSocket client (no browser
download, no driver).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = "chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
TIMEOUT_S = 30.0


@dataclass
class Page:
    """One tab, and what happened in it."""

    browser: Browser
    session: str
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    log_entries: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    loaded: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, method: str, **params: Any) -> Any:
        """One protocol command in this tab; its result."""
        return await self.browser.send(method, session=self.session, **params)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable values)."""
        reply = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def screenshot(self) -> bytes:
        """A PNG of the whole page, beyond the viewport."""
        reply = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        return base64.b64decode(reply["data"])

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries, as text."""
        found = [json.dumps(m.get("args")) for m in self.console if m.get("type") == "error"]
        found += [json.dumps(e) for e in self.exceptions]
        found += [e.get("text", "") for e in self.log_entries if e.get("level") == "error"]
        return found

    def record(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            self.console.append(params)
        elif method == "Runtime.exceptionThrown":
            self.exceptions.append(params["exceptionDetails"])
        elif method == "Log.entryAdded":
            self.log_entries.append(params["entry"])
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Page.loadEventFired":
            self.loaded.set()


@dataclass
class Browser:
    """A running chromium and its DevTools WebSocket."""

    socket: aiohttp.ClientWebSocketResponse
    pages: dict[str, Page] = field(default_factory=dict)
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, method: str, *, session: str | None = None, **params: Any) -> Any:
        """One protocol command (to the browser, or to a tab's session); its result."""
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        reply = asyncio.get_running_loop().create_future()
        self._pending[number] = reply
        await self.socket.send_str(json.dumps(message))
        async with asyncio.timeout(TIMEOUT_S):
            return await reply

    async def open(self, url: str, *, width: int = 1400, height: int = 1000) -> Page:
        """A new tab at `url`, once its load event has fired, with every event recorded."""
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        page = Page(self, attached["sessionId"])
        self.pages[page.session] = page
        for domain in ("Runtime", "Log", "Network", "Page"):
            await page.send(f"{domain}.enable")
        await page.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await page.send("Page.navigate", url=url)
        async with asyncio.timeout(TIMEOUT_S):
            await page.loaded.wait()
        return page

    async def listen(self) -> None:
        async for message in self.socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data:
                reply = self._pending.pop(data["id"])
                if "error" in data:
                    reply.set_exception(AssertionError(f"DevTools error: {data['error']}"))
                else:
                    reply.set_result(data.get("result", {}))
            elif (page := self.pages.get(data.get("sessionId", ""))) is not None:
                page.record(data["method"], data.get("params", {}))


def chromium_path() -> str:
    """Where chromium is; fails saying how to install it."""
    path = shutil.which(CHROMIUM)
    if path is None:
        raise AssertionError("chromium is not installed: run `make chromium`")
    return path


@asynccontextmanager
async def headless_chromium(profile: Path) -> AsyncIterator[Browser]:
    """A headless chromium with its profile in `profile`, stopped (and waited for) at the end."""
    process = await asyncio.create_subprocess_exec(
        chromium_path(),
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(TIMEOUT_S):
            address = await _devtools_address(process.stderr)
        drain = asyncio.create_task(_drain(process.stderr))
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(address, max_msg_size=0) as socket,
        ):
            browser = Browser(socket)
            listener = asyncio.create_task(browser.listen())
            try:
                yield browser
            finally:
                listener.cancel()
                with suppress(asyncio.CancelledError):
                    await listener
        drain.cancel()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def _devtools_address(stderr: asyncio.StreamReader) -> str:
    lines = []
    async for raw in stderr:
        line = raw.decode(errors="replace")
        lines.append(line)
        if found := _LISTENING.search(line):
            return found.group(1)
    raise AssertionError("chromium exited without a DevTools address:\n" + "".join(lines))


async def _drain(stderr: asyncio.StreamReader) -> None:
    async for _ in stderr:
        pass
