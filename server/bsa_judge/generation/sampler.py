"""Drawing k samples of one prompt from a model under test.

With a backend that accepts `n`, one request asks for all k choices (they complete
together); otherwise k requests run concurrently and each sample is yielded as soon as it
completes. Every call goes through the backend's ChatEndpoint, which owns retries, timeouts
and the concurrency limit. A request that still fails becomes failed samples in-band
(UPSTREAM_ERROR or TIMEOUT); the others go on. Closing the iterator (the caller went away)
cancels the requests in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from bsa_judge import telemetry
from bsa_judge.backends.endpoint import FailureCause, UpstreamFailure
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.generation.decoding import Decoding
from bsa_judge.generation.reasoning import (
    CompletionParts,
    ReasoningSource,
    SplitCompletion,
    sample_status,
)
from bsa_judge.generation.registry import LeasedModel

Messages = Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Sample:
    """One completion of the model under test, its reasoning split from its answer.

    `latency_s` runs from the start of the sample's request (waiting for a slot under the
    backend's concurrency limit included) to its completion; the k samples of an n=k request
    share it, and share the request's token usage evenly.
    """

    index: int
    reasoning: str
    answer: str
    status: SampleStatus
    finish_reason: str
    reasoning_source: ReasoningSource
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    error: str = ""


@dataclass(frozen=True, slots=True)
class _Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


async def draw_samples(
    model: LeasedModel, messages: Messages, k: int, decoding: Decoding
) -> AsyncGenerator[Sample, None]:
    """Yield k samples of `messages`, each as soon as it is complete."""
    if model.backend.supports_n and k > 1:
        for sample in await _draw_together(model, messages, k, decoding):
            yield sample
        return
    tasks = [asyncio.create_task(_draw_one(model, messages, i, decoding)) for i in range(k)]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _draw_one(
    model: LeasedModel, messages: Messages, index: int, decoding: Decoding
) -> Sample:
    """One request, one sample. A distinct seed per sample keeps seeded samples distinct."""
    started = time.perf_counter()
    params = decoding.request_parameters(seed_offset=index)
    try:
        choices, usage = await _request(model, messages, decoding, params, n=1)
    except UpstreamFailure as failure:
        return _failed(index, failure, _observe(model, started))
    latency = _observe(model, started)
    if not choices:
        return _missing(index, latency, "the endpoint returned no choice")
    return _sample(index, choices[0], usage, latency, model)


async def _draw_together(
    model: LeasedModel, messages: Messages, k: int, decoding: Decoding
) -> list[Sample]:
    """One request with n=k; usage is shared evenly among the k samples."""
    started = time.perf_counter()
    try:
        choices, usage = await _request(
            model, messages, decoding, decoding.request_parameters(), n=k
        )
    except UpstreamFailure as failure:
        latency = _observe(model, started)
        return [_failed(i, failure, latency) for i in range(k)]
    latency = _observe(model, started)
    shares = _shares(usage, k)
    return [
        _sample(i, choices[i], shares[i], latency, model)
        if i in choices
        else _missing(i, latency, f"the endpoint returned {len(choices)} of {k} choices")
        for i in range(k)
    ]


async def _request(
    model: LeasedModel, messages: Messages, decoding: Decoding, params: dict[str, Any], n: int
) -> tuple[dict[int, CompletionParts], _Usage]:
    """The choices of one request by index, streamed or not, and its token usage."""
    if n > 1:
        params["n"] = n
    extra_body = decoding.extra_body() if model.backend.supports_top_k else None
    endpoint = model.endpoint
    if not model.backend.stream:
        # The completion as plain JSON: reasoning fields outside the OpenAI schema are read
        # as sent, and the SDK's typed models (much of a call's CPU) are skipped.
        body = await endpoint.complete_json(messages, **params, **(extra_body or {}))
        choices = body.get("choices")
        parsed = {
            _choice_index(choice, position): _message_parts(choice)
            for position, choice in enumerate(choices if isinstance(choices, list) else [])
            if isinstance(choice, dict)
        }
        usage = body.get("usage")
        if not isinstance(usage, dict):
            return parsed, _Usage()
        return parsed, _Usage(
            _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
        )
    streamed: dict[int, CompletionParts] = {}
    usage = _Usage()
    async with aclosing(endpoint.stream(messages, extra_body=extra_body, **params)) as chunks:
        async for chunk in chunks:
            for choice in chunk.choices:
                delta = choice.delta
                extra = delta.model_extra or {}
                streamed.setdefault(choice.index, CompletionParts()).add(
                    content=delta.content,
                    reasoning_content=_text(extra.get("reasoning_content")),
                    reasoning=_text(extra.get("reasoning")),
                    finish_reason=choice.finish_reason,
                )
            if chunk.usage is not None:
                usage = _usage_of(chunk.usage)
    return streamed, usage


def _message_parts(choice: dict[str, Any]) -> CompletionParts:
    """A non-streamed choice (JSON) in the same shape as an accumulated streamed one."""
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    content = message.get("content")
    parts = CompletionParts()
    parts.add(
        content=content if isinstance(content, str | list) else None,
        reasoning_content=_text(message.get("reasoning_content")),
        reasoning=_text(message.get("reasoning")),
        finish_reason=_text(choice.get("finish_reason")),
    )
    return parts


def _choice_index(choice: dict[str, Any], position: int) -> int:
    index = choice.get("index")
    return index if isinstance(index, int) else position


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _sample(
    index: int, parts: CompletionParts, usage: _Usage, latency: float, model: LeasedModel
) -> Sample:
    split: SplitCompletion = parts.split(
        model.backend.reasoning_tags,
        opened_by_template=model.backend.reasoning_opened_by_template,
    )
    return Sample(
        index=index,
        reasoning=split.reasoning,
        answer=split.answer,
        status=sample_status(parts.finish_reason, split),
        finish_reason=parts.finish_reason or "",
        reasoning_source=split.source,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        latency_s=latency,
    )


def _failed(index: int, failure: UpstreamFailure, latency: float) -> Sample:
    status = (
        SampleStatus.TIMEOUT
        if failure.cause is FailureCause.TIMEOUT
        else SampleStatus.UPSTREAM_ERROR
    )
    return Sample(
        index=index,
        reasoning="",
        answer="",
        status=status,
        finish_reason="",
        reasoning_source=ReasoningSource.NONE,
        prompt_tokens=0,
        completion_tokens=0,
        latency_s=latency,
        error=str(failure),
    )


def _missing(index: int, latency: float, error: str) -> Sample:
    return Sample(
        index=index,
        reasoning="",
        answer="",
        status=SampleStatus.UPSTREAM_ERROR,
        finish_reason="",
        reasoning_source=ReasoningSource.NONE,
        prompt_tokens=0,
        completion_tokens=0,
        latency_s=latency,
        error=error,
    )


def _shares(usage: _Usage, k: int) -> list[_Usage]:
    """Split a request's usage into k even shares that add up to it."""

    def split(total: int) -> list[int]:
        base, extra = divmod(total, k)
        return [base + (1 if i < extra else 0) for i in range(k)]

    return [
        _Usage(prompt, completion)
        for prompt, completion in zip(
            split(usage.prompt_tokens), split(usage.completion_tokens), strict=True
        )
    ]


def _usage_of(usage: Any) -> _Usage:
    if usage is None:
        return _Usage()
    return _Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _observe(model: LeasedModel, started: float) -> float:
    latency = time.perf_counter() - started
    telemetry.GENERATION_SECONDS.labels(model.backend.name).observe(latency)
    return latency
