"""Drawing k samples of one prompt from a model under test.

With a backend that accepts `n`, one request asks for all k choices (they complete
together); otherwise k requests run concurrently and each sample is yielded as soon as it
completes. Every call goes through the backend's `ChatModel` (an endpoint, which owns
retries, timeouts and the concurrency limit). A request that still fails becomes failed
samples in-band (UPSTREAM_ERROR or TIMEOUT); the others go on. Closing the iterator (the
caller went away) cancels the requests in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

from bsa_judge import telemetry
from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.chat.model import (
    Choice,
    Completion,
    Messages,
    ReasoningSource,
    UpstreamFailure,
    Usage,
)
from bsa_judge.generation.decoding import Decoding
from bsa_judge.generation.reasoning import SplitCompletion, sample_status, split_choice
from bsa_judge.generation.registry import LeasedModel


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


async def draw_samples(
    model: LeasedModel,
    messages: Messages,
    k: int,
    decoding: Decoding,
    indices: Sequence[int] | None = None,
) -> AsyncGenerator[Sample, None]:
    """Yield k samples of `messages` (or those of `indices`, when a run resumes), each as
    soon as it is complete. Sample i is seeded with seed + i, so a resumed sample is the one
    an uninterrupted run would have drawn (except from one n=k request)."""
    wanted = range(k) if indices is None else indices
    if model.backend.supports_n and k > 1 and len(wanted) == k:
        for sample in await _draw_together(model, messages, k, decoding):
            yield sample
        return
    tasks = [asyncio.create_task(_draw_one(model, messages, i, decoding)) for i in wanted]
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
    try:
        completion = await _request(model, messages, decoding, seed_offset=index, n=1)
    except UpstreamFailure as failure:
        return _failed(index, failure, _observe(model, started))
    latency = _observe(model, started)
    if not completion.choices:
        return _missing(index, latency, "the endpoint returned no choice")
    first, *_ = completion.choices
    return _sample(index, first, completion.usage, latency, model)


async def _draw_together(
    model: LeasedModel, messages: Messages, k: int, decoding: Decoding
) -> list[Sample]:
    """One request with n=k; usage is shared evenly among the k samples."""
    started = time.perf_counter()
    try:
        completion = await _request(model, messages, decoding, seed_offset=0, n=k)
    except UpstreamFailure as failure:
        latency = _observe(model, started)
        return [_failed(i, failure, latency) for i in range(k)]
    latency = _observe(model, started)
    shares = completion.usage.shares(k)
    choices = completion.by_index()
    return [
        _sample(i, choices[i], shares[i], latency, model)
        if i in choices
        else _missing(i, latency, f"the endpoint returned {len(choices)} of {k} choices")
        for i in range(k)
    ]


async def _request(
    model: LeasedModel, messages: Messages, decoding: Decoding, *, seed_offset: int, n: int
) -> Completion:
    params: dict[str, Any] = decoding.request_parameters(seed_offset=seed_offset)
    if model.backend.supports_top_k:
        params.update(decoding.extra_body())
    return await model.chat_model.complete(messages, params, n=n, stream=model.backend.stream)


def _sample(index: int, choice: Choice, usage: Usage, latency: float, model: LeasedModel) -> Sample:
    split: SplitCompletion = split_choice(
        choice,
        model.backend.reasoning_tags,
        opened_by_template=model.backend.reasoning_opened_by_template,
    )
    return Sample(
        index=index,
        reasoning=split.reasoning,
        answer=split.answer,
        status=sample_status(choice.finish_reason or None, split),
        finish_reason=choice.finish_reason,
        reasoning_source=split.source,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        latency_s=latency,
    )


def _failed(index: int, failure: UpstreamFailure, latency: float) -> Sample:
    return Sample(
        index=index,
        reasoning="",
        answer="",
        status=failure.status(SampleStatus),
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


def _observe(model: LeasedModel, started: float) -> float:
    latency = time.perf_counter() - started
    telemetry.GENERATION_SECONDS.labels(model.backend.name).observe(latency)
    return latency
