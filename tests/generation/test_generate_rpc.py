"""Generate over gRPC: the real server, a loopback OpenAI-compatible stub, the client SDK."""

from pathlib import Path
from typing import Any

import pytest
from bsa.judge.v1 import judge_pb2
from bsa_judge_client import AsyncJudgeClient
from prometheus_client import REGISTRY

from tests.generation.harness import generate, request, write_backends
from tests.support.serving import serving
from tools.openai_stub import Choice, Failure, OpenAIStub, Reply

OK = judge_pb2.SAMPLE_STATUS_OK


def one_choice(choice: Choice, **reply: Any) -> Any:
    """A stub script answering every request with `choice` (n copies when n is asked)."""
    return lambda body: Reply(choices=[choice] * int(body.get("n") or 1), **reply)


FORMS = {
    "reasoning_content": (
        Choice(content="Answer.", reasoning_content="Reasoning."),
        judge_pb2.REASONING_SOURCE_REASONING_CONTENT_FIELD,
        {},
    ),
    "reasoning": (
        Choice(content="Answer.", reasoning="Reasoning."),
        judge_pb2.REASONING_SOURCE_REASONING_FIELD,
        {},
    ),
    "content-parts": (
        Choice(
            content=[
                {"type": "thinking", "thinking": "Reasoning."},
                {"type": "text", "text": "Answer."},
            ]
        ),
        judge_pb2.REASONING_SOURCE_CONTENT_PARTS,
        {},
    ),
    "think-tags": (
        Choice(content="<think>\nReasoning.\n</think>\n\nAnswer."),
        judge_pb2.REASONING_SOURCE_INLINE_TAGS,
        {},
    ),
    "opening-tag-in-template": (
        Choice(content="Reasoning.\n</think>\n\nAnswer."),
        judge_pb2.REASONING_SOURCE_INLINE_TAGS,
        {},
    ),
    "configured-tag-name": (
        Choice(content="<reasoning>Reasoning.</reasoning>Answer."),
        judge_pb2.REASONING_SOURCE_INLINE_TAGS,
        {"reasoning_tags": ["thinking", "reasoning"]},
    ),
}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("form", list(FORMS))
async def test_every_reasoning_form_is_split_from_the_answer(
    tmp_path: Path, form: str, stream: bool
) -> None:
    choice, source, settings = FORMS[form]
    async with OpenAIStub(one_choice(choice)) as stub:
        backends = write_backends(
            tmp_path / "m.yaml", stub.base_url, m={"stream": stream, **settings}
        )
        async with serving(backends=backends) as running:
            samples = await generate(running.port, request("m"))
    assert samples == [
        judge_pb2.Sample(
            sample_index=0,
            reasoning="Reasoning.",
            answer="Answer.",
            status=OK,
            finish_reason="stop",
            reasoning_source=source,
            usage=judge_pb2.TokenUsage(prompt_tokens=10, completion_tokens=20),
            latency_seconds=samples[0].latency_seconds,
        )
    ]
    assert samples[0].latency_seconds > 0


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_completion_cut_off_on_length_is_truncated(tmp_path: Path, stream: bool) -> None:
    choice = Choice(content="<think>Thinking until the budget ran o", finish_reason="length")
    async with OpenAIStub(one_choice(choice)) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={"stream": stream})
        async with serving(backends=backends) as running:
            [sample] = await generate(running.port, request("m"))
    assert (sample.status, sample.finish_reason) == (judge_pb2.SAMPLE_STATUS_TRUNCATED, "length")
    assert (sample.reasoning, sample.answer) == ("Thinking until the budget ran o", "")
    assert sample.reasoning_source == judge_pb2.REASONING_SOURCE_INLINE_TAGS


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_reasoning_opened_by_the_template_and_cut_off_is_truncated_reasoning(
    tmp_path: Path, stream: bool
) -> None:
    # The chat template emitted <think>; the budget ran out before </think>: no tag at all.
    choice = Choice(content="The user asks about locks. I should", finish_reason="length")
    async with OpenAIStub(one_choice(choice)) as stub:
        backends = write_backends(
            tmp_path / "m.yaml",
            stub.base_url,
            m={"stream": stream, "reasoning_opened_by_template": True},
        )
        async with serving(backends=backends) as running:
            [sample] = await generate(running.port, request("m"))
    assert (sample.status, sample.finish_reason) == (judge_pb2.SAMPLE_STATUS_TRUNCATED, "length")
    assert (sample.reasoning, sample.answer) == ("The user asks about locks. I should", "")
    assert sample.reasoning_source == judge_pb2.REASONING_SOURCE_INLINE_TAGS


async def test_an_answer_without_reasoning_is_marked_and_kept(tmp_path: Path) -> None:
    async with OpenAIStub(one_choice(Choice(content="Sure, here it is."))) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            [sample] = await generate(running.port, request("m"))
    assert sample.status == judge_pb2.SAMPLE_STATUS_NO_REASONING
    assert sample.reasoning_source == judge_pb2.REASONING_SOURCE_NONE
    assert (sample.reasoning, sample.answer) == ("", "Sure, here it is.")


def numbered_choices(body: dict[str, Any]) -> Reply:
    """n distinct choices, `<think>r<i></think>a<i>`; usage 10 prompt and 20 completion tokens."""
    n = int(body.get("n") or 1)
    return Reply(choices=[Choice(content=f"<think>r{i}</think>a{i}") for i in range(n)])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_backend_that_accepts_n_answers_k_samples_in_one_request(
    tmp_path: Path, stream: bool
) -> None:
    async with OpenAIStub(numbered_choices) as stub:
        backends = write_backends(
            tmp_path / "m.yaml", stub.base_url, m={"supports_n": True, "stream": stream}
        )
        async with serving(backends=backends) as running:
            samples = await generate(running.port, request("m", k=3))
    assert stub.calls == 1
    assert stub.requests[0]["n"] == 3
    assert [(s.sample_index, s.reasoning, s.answer, s.status) for s in samples] == [
        (0, "r0", "a0", OK),
        (1, "r1", "a1", OK),
        (2, "r2", "a2", OK),
    ]
    # The request's usage is shared evenly, and the shares add up to it.
    assert [(s.usage.prompt_tokens, s.usage.completion_tokens) for s in samples] == [
        (4, 7),
        (3, 7),
        (3, 6),
    ]


async def test_fewer_choices_than_asked_are_reported_as_failed_samples(tmp_path: Path) -> None:
    # An endpoint that ignores n answers with a single choice.
    script = one_choice(Choice(content="<think>r</think>a"))
    async with OpenAIStub(lambda body: script({})) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={"supports_n": True})
        async with serving(backends=backends) as running:
            samples = await generate(running.port, request("m", k=2))
    assert [(s.sample_index, s.status, s.error) for s in samples] == [
        (0, OK, ""),
        (1, judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR, "the endpoint returned 1 of 2 choices"),
    ]


async def test_without_n_support_k_requests_are_sent_with_distinct_seeds(tmp_path: Path) -> None:
    async with OpenAIStub(numbered_choices) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            samples = await generate(
                running.port, request("m", k=4, decoding=judge_pb2.DecodingSettings(seed=100))
            )
    assert stub.calls == 4
    assert all("n" not in body for body in stub.requests)
    # Same seed for all k would make a seeded endpoint return the same sample k times.
    assert sorted(body["seed"] for body in stub.requests) == [100, 101, 102, 103]
    assert sorted(s.sample_index for s in samples) == [0, 1, 2, 3]
    assert {s.status for s in samples} == {OK}


async def test_samples_are_streamed_as_each_completes(tmp_path: Path) -> None:
    # Sample 0 (seed 0) is slow, sample 1 (seed 1) fast: sample 1 arrives first.
    def script(body: dict[str, Any]) -> Reply:
        return Reply(
            choices=[Choice(content="<think>r</think>a")], delay_s=0.5 if body["seed"] == 0 else 0.0
        )

    async with OpenAIStub(script) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            samples = await generate(
                running.port, request("m", k=2, decoding=judge_pb2.DecodingSettings(seed=0))
            )
    assert [s.sample_index for s in samples] == [1, 0]


async def test_one_failed_sample_is_reported_in_band_and_the_stream_goes_on(
    tmp_path: Path,
) -> None:
    def script(body: dict[str, Any]) -> Reply | Failure:
        if body["seed"] == 1:
            return Failure(status=500)
        return Reply(choices=[Choice(content="<think>r</think>a")])

    async with OpenAIStub(script) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            samples = await generate(
                running.port, request("m", k=3, decoding=judge_pb2.DecodingSettings(seed=0))
            )
    by_index = {s.sample_index: s for s in sorted(samples, key=lambda s: s.sample_index)}
    assert [(i, s.status) for i, s in by_index.items()] == [
        (0, OK),
        (1, judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR),
        (2, OK),
    ]
    assert by_index[1].error == "m: server_error: HTTP 500"
    assert (by_index[1].reasoning, by_index[1].answer, by_index[1].finish_reason) == ("", "", "")


async def test_a_sample_that_times_out_is_reported_as_timeout(tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Reply:
        return Reply(
            choices=[Choice(content="<think>r</think>a")],
            delay_s=30.0 if body["seed"] == 0 else 0.0,
        )

    async with OpenAIStub(script) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={"request_timeout_s": 0.3})
        async with serving(backends=backends) as running:
            samples = await generate(
                running.port, request("m", k=2, decoding=judge_pb2.DecodingSettings(seed=0))
            )
    assert [(s.sample_index, s.status, s.error) for s in samples] == [
        (1, OK, ""),
        (0, judge_pb2.SAMPLE_STATUS_TIMEOUT, "m: timeout: APITimeoutError"),
    ]


async def test_a_failed_n_request_fails_each_of_its_k_samples(tmp_path: Path) -> None:
    async with OpenAIStub(lambda body: Failure(status=429)) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={"supports_n": True})
        async with serving(backends=backends) as running:
            samples = await generate(running.port, request("m", k=2))
    assert [(s.sample_index, s.status, s.error) for s in samples] == [
        (0, judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR, "m: rate_limited: HTTP 429"),
        (1, judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR, "m: rate_limited: HTTP 429"),
    ]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_k_requests_never_exceed_the_backend_concurrency_limit(
    tmp_path: Path, stream: bool
) -> None:
    script = one_choice(Choice(content="<think>r</think>a"), delay_s=0.05)
    async with OpenAIStub(script) as stub:
        backends = write_backends(
            tmp_path / "m.yaml", stub.base_url, m={"max_concurrency": 3, "stream": stream}
        )
        async with serving(backends=backends) as running:
            samples = await generate(running.port, request("m", k=12))
    assert len(samples) == 12
    assert stub.calls == 12
    assert stub.max_in_flight == 3


async def test_decoding_settings_are_sent_upstream_over_the_backend_defaults(
    tmp_path: Path,
) -> None:
    async with OpenAIStub(numbered_choices) as stub:
        backends = write_backends(
            tmp_path / "m.yaml",
            stub.base_url,
            m={
                "model": "org/model-id",
                "supports_top_k": True,
                "decoding": {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "max_tokens": 512},
            },
            plain={},
        )
        async with serving(backends=backends) as running:
            decoding = judge_pb2.DecodingSettings(
                temperature=0.0, top_k=40, max_tokens=64, seed=9, stop=["END", "STOP"]
            )
            await generate(running.port, request("m", decoding=decoding))
            await generate(running.port, request("m"))
            await generate(running.port, request("plain"))
    sent = [
        {
            key: body.get(key)
            for key in ("model", "temperature", "top_p", "top_k", "max_tokens", "seed", "stop")
        }
        for body in stub.requests
    ]
    assert sent == [
        {
            "model": "org/model-id",
            "temperature": 0.0,
            "top_p": 0.95,
            "top_k": 40,
            "max_tokens": 64,
            "seed": 9,
            "stop": ["END", "STOP"],
        },
        {
            "model": "org/model-id",
            "temperature": 0.6,
            "top_p": 0.95,
            "top_k": 20,
            "max_tokens": 512,
            "seed": None,
            "stop": None,
        },
        {
            "model": "plain",
            "temperature": None,
            "top_p": None,
            "top_k": None,
            "max_tokens": None,
            "seed": None,
            "stop": None,
        },
    ]


async def test_plain_mode_sends_the_query_alone(tmp_path: Path) -> None:
    async with OpenAIStub(numbered_choices) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            await generate(running.port, request("m", query="Tell me a rumour.", label="Rumors-X"))
    assert stub.requests[0]["messages"] == [{"role": "user", "content": "Tell me a rumour."}]


async def test_safety_rules_mode_sends_the_rules_of_the_item_categories_first(
    tmp_path: Path,
) -> None:
    label = "Query A: Rumors-Rumors with Negative Impact\nQuery B: Pornography-Child Pornography"
    async with OpenAIStub(numbered_choices) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            await generate(running.port, request("m", query="Q?", label=label, safety_rules=True))
    system, user = stub.requests[0]["messages"]
    assert user == {"role": "user", "content": "Q?"}
    assert system["role"] == "system"
    headings = [line for line in system["content"].splitlines() if line.startswith("# ")]
    assert headings == ["# Risk Category: Rumors", "# Risk Category: Pornography"]


async def test_a_configured_rules_file_replaces_the_built_in_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.md"
    rules.write_text(
        "# Risk Category: Rumors\n\n**Risk Facts**: Our facts.\n\n**Response strategy**: Ours.\n"
    )
    async with OpenAIStub(numbered_choices) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends, safety_rules_file=rules) as running:
            await generate(running.port, request("m", label="Rumors-X", safety_rules=True))
    system = stub.requests[0]["messages"][0]["content"]
    assert system.endswith(
        "# Risk Category: Rumors\n\n**Risk Facts**: Our facts.\n\n**Response strategy**: Ours."
    )


async def test_samples_and_latency_are_counted_by_model(tmp_path: Path) -> None:
    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before_ok = value("bsa_judge_samples_total", model="counted", status="ok")
    before_none = value("bsa_judge_samples_total", model="counted", status="no_reasoning")
    before_latency = value("bsa_judge_generation_seconds_count", model="counted")
    script = lambda body: Reply(  # noqa: E731
        choices=[Choice(content="<think>r</think>a" if body["seed"] else "plain answer")]
    )
    async with OpenAIStub(script) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, counted={})
        async with serving(backends=backends) as running:
            await generate(
                running.port, request("counted", k=3, decoding=judge_pb2.DecodingSettings(seed=0))
            )
    assert value("bsa_judge_samples_total", model="counted", status="ok") - before_ok == 2
    assert (
        value("bsa_judge_samples_total", model="counted", status="no_reasoning") - before_none == 1
    )
    assert value("bsa_judge_generation_seconds_count", model="counted") - before_latency == 3


async def test_each_response_names_the_model(tmp_path: Path) -> None:
    async with OpenAIStub(numbered_choices) as stub:
        backends = write_backends(tmp_path / "m.yaml", stub.base_url, m={})
        async with serving(backends=backends) as running:
            async with AsyncJudgeClient(f"127.0.0.1:{running.port}") as client:
                responses = [r async for r in client.generate(request("m", k=2))]
    assert [r.model for r in responses] == ["m", "m"]
