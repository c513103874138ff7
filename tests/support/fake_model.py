"""A scripted `ChatModel` for unit tests: no sockets, answers from a script.

The script is a function of the call (`FakeCall`: messages, decoding, n, stream) returning
what the model answers: a text (one choice), a `Completion`, or an `UpstreamFailure` (raised,
as an endpoint raises one once its retries are spent). Every call is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bsa_judge.backends.endpoint_settings import EndpointSettings
from bsa_judge.chat.model import Choice, Completion, Messages, UpstreamFailure, Usage


@dataclass(frozen=True)
class FakeCall:
    """One call made to a fake model."""

    messages: list[dict[str, Any]]
    decoding: dict[str, Any]
    n: int
    stream: bool

    @property
    def prompt(self) -> str:
        """The first message's content."""
        return str(self.messages[0]["content"])


Answer = str | Completion | UpstreamFailure
Script = Callable[[FakeCall], Answer]


def text(content: str, *, tokens: tuple[int, int] = (10, 20)) -> Completion:
    """A one-choice completion answering `content`."""
    return Completion((Choice(0, content, finish_reason="stop"),), Usage(*tokens))


@dataclass
class FakeChatModel:
    """A ChatModel whose answers come from `script`, after `delay_s` (0: none). With a
    `gate`, each call waits to take one token from it: the test releases calls one by one."""

    script: Script
    name: str = "fake"
    model: str = "fake-model"
    base_url: str = "fake://model"
    delay_s: float = 0.0
    gate: asyncio.Queue[None] | None = None
    calls: list[FakeCall] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    closed: bool = False

    @property
    def identity(self) -> str:
        return f"base_url={self.base_url};model={self.model}"

    async def complete(
        self,
        messages: Messages,
        decoding: Mapping[str, Any],
        *,
        n: int = 1,
        stream: bool = False,
    ) -> Completion:
        assert not self.closed, "called after aclose"
        call = FakeCall([dict(m) for m in messages], dict(decoding), n, stream)
        self.calls.append(call)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.gate is not None:
                await self.gate.get()
            answer = self.script(call)
        finally:
            self.in_flight -= 1
        if isinstance(answer, UpstreamFailure):
            raise answer
        return text(answer) if isinstance(answer, str) else answer

    async def aclose(self) -> None:
        self.closed = True


def answers(*texts: Answer) -> Script:
    """A script giving these answers in turn (the last one again once they run out)."""
    queue = list(texts)

    def script(call: FakeCall) -> Answer:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return script


@dataclass
class FakeModels:
    """A `connect` for the composition root: one FakeChatModel per endpoint name, built by
    the script registered for that name."""

    scripts: Mapping[str, Script]
    delay_s: float = 0.0
    built: dict[str, list[FakeChatModel]] = field(default_factory=dict)

    def __call__(self, settings: EndpointSettings) -> FakeChatModel:
        model = FakeChatModel(
            self.scripts[settings.name],
            name=settings.name,
            model=settings.model,
            base_url=settings.base_url,
            delay_s=self.delay_s,
        )
        self.built.setdefault(settings.name, []).append(model)
        return model

    def latest(self, name: str) -> FakeChatModel:
        """The model most recently built for `name`."""
        return self.built[name][-1]

    def all_calls(self) -> Sequence[FakeCall]:
        return [call for models in self.built.values() for m in models for call in m.calls]
