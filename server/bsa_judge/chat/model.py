"""The `ChatModel` port: chat messages and decoding parameters in, a `Completion` out.

Judging and generation depend on this protocol only. `ChatEndpoint`
(bsa_judge.backends.endpoint) implements it over an OpenAI-compatible HTTP endpoint and is
the only code that reads an OpenAI response; tests use a scripted fake
(tests/support/fake_model.py). A call that fails after the implementation's retries raises
`UpstreamFailure`; `UpstreamFailure.status` maps it to the in-band status of a judgment or a
sample, the one place that mapping is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

Messages = Sequence[Mapping[str, Any]]


class FailureCause(StrEnum):
    """Why an upstream call failed; also the `cause` label of the upstream metrics."""

    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    CLIENT_ERROR = "client_error"


_Status = TypeVar("_Status", bound=StrEnum)


class UpstreamFailure(Exception):  # noqa: N818 - a failure of the upstream, reported in-band
    """A model call failed after every retry. The message never contains secrets."""

    def __init__(self, endpoint: str, cause: FailureCause, detail: str) -> None:
        self.endpoint = endpoint
        self.cause = cause
        self.detail = detail
        super().__init__(f"{endpoint}: {cause.value}: {detail}")

    def status(self, statuses: type[_Status]) -> _Status:
        """This failure as a member of `statuses` (SampleStatus or JudgmentStatus): TIMEOUT
        for a timeout, UPSTREAM_ERROR for anything else."""
        name = "TIMEOUT" if self.cause is FailureCause.TIMEOUT else "UPSTREAM_ERROR"
        return statuses[name]


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one or more model calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    def shares(self, k: int) -> list[Usage]:
        """Split into k even shares that add up to this usage (the k choices of one call)."""

        def split(total: int) -> list[int]:
            base, extra = divmod(total, k)
            return [base + (1 if i < extra else 0) for i in range(k)]

        return [
            Usage(prompt, completion)
            for prompt, completion in zip(
                split(self.prompt_tokens), split(self.completion_tokens), strict=True
            )
        ]


class ReasoningSource(StrEnum):
    """Where the reasoning of a completion was found."""

    REASONING_CONTENT_FIELD = "reasoning_content_field"
    REASONING_FIELD = "reasoning_field"
    CONTENT_PARTS = "content_parts"
    INLINE_TAGS = "inline_tags"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice of a completion.

    `text` is the message content (reasoning parts of a list-valued content removed; inline
    reasoning tags are still in it). `reasoning` is what the endpoint sent apart from the
    content, from `reasoning_source` (a `reasoning_content` field, a `reasoning` field, or
    reasoning parts of the content; NONE when nothing non-blank was sent).
    `reasoning_field_sent` is true when a reasoning field arrived at all, even empty: the
    endpoint then separates reasoning itself.
    """

    index: int
    text: str
    reasoning: str = ""
    reasoning_source: ReasoningSource = ReasoningSource.NONE
    reasoning_field_sent: bool = False
    finish_reason: str = ""


@dataclass(frozen=True, slots=True)
class Completion:
    """A model's reply to one request: its choices (one, or n), the request's token usage
    and its latency (waiting for a concurrency slot included)."""

    choices: tuple[Choice, ...]
    usage: Usage = Usage()
    latency_s: float = 0.0

    @property
    def text(self) -> str:
        """The first choice's text; empty when the model returned no choice."""
        return next((choice.text for choice in self.choices), "")

    def by_index(self) -> dict[int, Choice]:
        """The choices by their index."""
        return {choice.index: choice for choice in self.choices}


class ChatModel(Protocol):
    """A chat model behind some endpoint."""

    @property
    def name(self) -> str:
        """The configured backend name (metrics and error messages use it)."""
        ...

    @property
    def model(self) -> str:
        """The model id sent upstream."""
        ...

    @property
    def identity(self) -> str:
        """What makes two models answer differently: where it is served and which model
        (two endpoints serving a model of the same name are two models)."""
        ...

    async def complete(
        self,
        messages: Messages,
        decoding: Mapping[str, Any],
        *,
        n: int = 1,
        stream: bool = False,
    ) -> Completion:
        """One completion of `messages`, `n` choices.

        `decoding` holds the chat API's sampling parameters (temperature, top_p, top_k,
        max_tokens, seed, stop, response_format; absent means the model's default).
        `stream`: receive the reply in chunks and assemble it (the result is the same).
        Raises UpstreamFailure when the call fails after every retry.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
