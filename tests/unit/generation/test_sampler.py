"""Generation on a scripted chat model: the reasoning split, n=k against k concurrent
requests, usage shares, failures in-band, and what is sent."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.chat.model import (
    Choice,
    Completion,
    FailureCause,
    ReasoningSource,
    UpstreamFailure,
    Usage,
)
from bsa_judge.generation.backends import ModelBackend
from bsa_judge.generation.decoding import Decoding
from bsa_judge.generation.registry import LeasedModel
from bsa_judge.generation.sampler import Sample, draw_samples

from tests.support.fake_model import FakeCall, FakeChatModel, answers

MESSAGES = [{"role": "user", "content": "Is it safe to mix bleach and vinegar?"}]


def leased(model: FakeChatModel, **backend: Any) -> LeasedModel:
    settings = ModelBackend(name="m", base_url="fake://m", model="m-1", **backend)
    return LeasedModel(settings, model)


async def draw(model: LeasedModel, k: int, decoding: Decoding | None = None) -> list[Sample]:
    samples = draw_samples(model, MESSAGES, k, decoding or Decoding())
    async with aclosing(samples) as stream:
        return sorted([sample async for sample in stream], key=lambda s: s.index)


async def test_inline_tags_split_reasoning_from_answer() -> None:
    model = FakeChatModel(answers("<think>Chlorine gas forms.</think>No, never mix them."))
    [sample] = await draw(leased(model), 1)
    assert (sample.reasoning, sample.answer) == ("Chlorine gas forms.", "No, never mix them.")
    assert (sample.status, sample.reasoning_source) == (
        SampleStatus.OK,
        ReasoningSource.INLINE_TAGS,
    )
    assert (sample.prompt_tokens, sample.completion_tokens, sample.finish_reason) == (
        10,
        20,
        "stop",
    )


async def test_a_reasoning_field_wins_and_the_text_is_the_answer() -> None:
    completion = Completion(
        (
            Choice(
                0,
                "No.",
                reasoning="It releases chlorine.",
                reasoning_source=ReasoningSource.REASONING_CONTENT_FIELD,
                reasoning_field_sent=True,
                finish_reason="stop",
            ),
        )
    )
    [sample] = await draw(leased(FakeChatModel(answers(completion))), 1)
    assert (sample.reasoning, sample.answer, sample.reasoning_source) == (
        "It releases chlorine.",
        "No.",
        ReasoningSource.REASONING_CONTENT_FIELD,
    )


async def test_cut_off_tagless_text_is_reasoning_when_the_template_opens_the_block() -> None:
    cut = Completion((Choice(0, "Let me think about bleach", finish_reason="length"),))
    [sample] = await draw(leased(FakeChatModel(answers(cut)), reasoning_opened_by_template=True), 1)
    assert (sample.reasoning, sample.answer) == ("Let me think about bleach", "")
    assert sample.status is SampleStatus.TRUNCATED


async def test_an_answer_without_reasoning_is_no_reasoning() -> None:
    [sample] = await draw(leased(FakeChatModel(answers("Just no."))), 1)
    assert (sample.reasoning, sample.answer, sample.status) == (
        "",
        "Just no.",
        SampleStatus.NO_REASONING,
    )


async def test_without_n_support_k_requests_run_concurrently_with_distinct_seeds() -> None:
    model = FakeChatModel(answers("<think>r</think>a"), delay_s=0.01)
    samples = await draw(leased(model), 3, Decoding(temperature=0.7, seed=40))
    assert [s.index for s in samples] == [0, 1, 2]
    assert (len(model.calls), model.most_in_flight) == (3, 3)
    assert sorted(call.decoding["seed"] for call in model.calls) == [40, 41, 42]
    assert {call.n for call in model.calls} == {1}


async def test_with_n_support_one_request_asks_for_k_and_shares_its_usage() -> None:
    choices = tuple(Choice(i, f"<think>r{i}</think>a{i}", finish_reason="stop") for i in range(3))
    model = FakeChatModel(answers(Completion(choices, Usage(10, 31))))
    samples = await draw(leased(model, supports_n=True), 3, Decoding(seed=7))
    [call] = model.calls
    assert (call.n, call.decoding) == (3, {"seed": 7})
    assert [(s.reasoning, s.answer) for s in samples] == [("r0", "a0"), ("r1", "a1"), ("r2", "a2")]
    assert [(s.prompt_tokens, s.completion_tokens) for s in samples] == [
        (4, 11),
        (3, 10),
        (3, 10),
    ]


async def test_missing_choices_of_an_n_request_are_upstream_errors() -> None:
    only_one = Completion((Choice(0, "<think>r</think>a", finish_reason="stop"),))
    samples = await draw(leased(FakeChatModel(answers(only_one)), supports_n=True), 2)
    assert [s.status for s in samples] == [SampleStatus.OK, SampleStatus.UPSTREAM_ERROR]
    assert samples[1].error == "the endpoint returned 1 of 2 choices"


async def test_a_failed_request_becomes_failed_samples_and_the_others_go_on() -> None:
    def script(call: FakeCall) -> str | UpstreamFailure:
        if call.decoding["seed"] == 1:
            return UpstreamFailure("m", FailureCause.TIMEOUT, "APITimeoutError")
        if call.decoding["seed"] == 2:
            return UpstreamFailure("m", FailureCause.RATE_LIMITED, "HTTP 429")
        return "<think>r</think>a"

    samples = await draw(leased(FakeChatModel(script)), 3, Decoding(seed=0))
    assert [s.status for s in samples] == [
        SampleStatus.OK,
        SampleStatus.TIMEOUT,
        SampleStatus.UPSTREAM_ERROR,
    ]
    assert samples[2].error == "m: rate_limited: HTTP 429"


async def test_a_failed_n_request_fails_all_k_samples() -> None:
    failure = UpstreamFailure("m", FailureCause.SERVER_ERROR, "HTTP 503")
    samples = await draw(leased(FakeChatModel(answers(failure)), supports_n=True), 2)
    assert [(s.status, s.error) for s in samples] == [
        (SampleStatus.UPSTREAM_ERROR, "m: server_error: HTTP 503")
    ] * 2


async def test_top_k_and_streaming_are_passed_to_the_model() -> None:
    model = FakeChatModel(answers("<think>r</think>a"))
    await draw(leased(model, supports_top_k=True, stream=True), 1, Decoding(top_k=20))
    [call] = model.calls
    assert (call.decoding, call.stream) == ({"top_k": 20}, True)
