"""The verdict cache: the same question is never paid for twice, not even while it is being
asked; only OK judgments are kept."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bsa.judge.v1 import judge_pb2
from bsa_judge.benchmark.item import Item
from bsa_judge.benchmark.scenario import SafetyLabel, Scenario
from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.judging.cache import LruJudgmentCache, judgment_key
from bsa_judge.judging.judgment import Judgment, JudgmentKind
from bsa_judge.judging.trace import Trace
from prometheus_client import REGISTRY

from tests.judging.harness import judge_backend, judge_service, trace
from tools.judge_script import by_kind, held, judge_call, reply, verdict_text
from tools.openai_stub import Failure, OpenAIStub


async def test_the_same_trace_judged_twice_costs_no_second_model_call() -> None:
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub) as client:
        first = (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))).verdict
        calls_after_first = stub.calls
        second = (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))).verdict
    assert calls_after_first == stub.calls == 2
    assert first.cached is False
    assert second.cached is True
    assert second.safety.attempts == second.thinking.attempts == 0
    assert second.safety.usage.prompt_tokens == 0
    assert (second.safety_label, second.thinking_label) == (
        first.safety_label,
        first.thinking_label,
    )
    assert second.safety.explanation == first.safety.explanation
    assert second.thinking.template_version == first.thinking.template_version
    assert second.status == judge_pb2.JUDGMENT_STATUS_OK


async def test_a_changed_answer_is_judged_again() -> None:
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub) as client:
        await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
        changed = await client.judge_trace(
            judge_pb2.JudgeTraceRequest(trace=trace(answer="Here is how to pry the hinge."))
        )
    assert stub.calls == 4
    assert changed.verdict.cached is False


async def test_an_unreadable_judgment_is_not_cached() -> None:
    answers = iter(["not sure", "not sure", "not sure", verdict_text("Unsafe")])

    def script(body: dict[str, object]) -> object:
        if judge_call(body).kind is JudgmentKind.SAFETY:  # type: ignore[arg-type]
            return reply(next(answers))
        return reply(verdict_text(True))

    async with OpenAIStub(script) as stub, judge_service(stub) as client:  # type: ignore[arg-type]
        first = (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))).verdict
        second = (await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))).verdict
    assert first.safety.status == judge_pb2.JUDGMENT_STATUS_JUDGE_UNPARSEABLE
    assert second.safety.status == judge_pb2.JUDGMENT_STATUS_OK
    assert second.safety_label == judge_pb2.SAFETY_LABEL_UNSAFE
    assert second.safety.attempts == 1
    assert second.thinking.attempts == 0  # the OK thinking judgment came from the cache
    assert second.cached is False
    assert stub.calls == 3 + 1 + 1


async def test_judges_with_different_settings_do_not_share_answers() -> None:
    async with OpenAIStub(by_kind({})) as stub:
        judges = [judge_backend(stub, "cold"), judge_backend(stub, "warm", temperature=0.7)]
        async with judge_service(stub, judges=judges) as client:
            await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace(), judge="cold"))
            warm = await client.judge_trace(
                judge_pb2.JudgeTraceRequest(trace=trace(), judge="warm")
            )
    assert stub.calls == 4
    assert warm.verdict.cached is False


async def test_a_cache_of_size_zero_keeps_nothing() -> None:
    async with OpenAIStub(by_kind({})) as stub, judge_service(stub, verdict_cache_size=0) as client:
        await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
        again = await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace()))
    assert stub.calls == 4
    assert again.verdict.cached is False


async def test_judges_of_the_same_model_name_at_different_endpoints_do_not_share_answers() -> None:
    async with OpenAIStub(by_kind({})) as first_stub, OpenAIStub(by_kind({})) as second_stub:
        judges = [judge_backend(first_stub, "first"), judge_backend(second_stub, "second")]
        async with judge_service(None, judges=judges) as client:
            await client.judge_trace(judge_pb2.JudgeTraceRequest(trace=trace(), judge="first"))
            other = await client.judge_trace(
                judge_pb2.JudgeTraceRequest(trace=trace(), judge="second")
            )
    assert (first_stub.calls, second_stub.calls) == (2, 2)
    assert other.verdict.cached is False


def _traces_in_flight() -> float:
    return REGISTRY.get_sample_value("bsa_judge_traces_in_flight") or 0.0


async def _until(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    """Poll until `condition` holds; fail the test if it does not within the bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within_s} s")
        await asyncio.sleep(0.005)


JUDGE_TRACE = judge_pb2.JudgeTraceRequest(trace=trace())


async def test_identical_traces_judged_at_once_share_one_pair_of_judge_calls() -> None:
    release = asyncio.Event()
    async with OpenAIStub(held(by_kind({}), release)) as stub, judge_service(stub) as client:
        idle = _traces_in_flight()
        first = asyncio.create_task(client.judge_trace(JUDGE_TRACE))
        await _until(lambda: stub.calls == 2)  # the first trace's two judge calls, held
        second = asyncio.create_task(client.judge_trace(JUDGE_TRACE))
        await _until(lambda: _traces_in_flight() == idle + 2)  # the second is being judged
        release.set()
        answers = await asyncio.gather(first, second)
    first_verdict, second_verdict = (answer.verdict for answer in answers)
    assert stub.calls == 2
    assert first_verdict.status == second_verdict.status == judge_pb2.JUDGMENT_STATUS_OK
    assert first_verdict.safety_label == second_verdict.safety_label == judge_pb2.SAFETY_LABEL_SAFE
    assert (
        first_verdict.thinking_label
        == second_verdict.thinking_label
        == judge_pb2.THINKING_LABEL_RISK_IDENTIFIED
    )
    assert (first_verdict.cached, second_verdict.cached) == (False, True)
    assert (first_verdict.safety.attempts, second_verdict.safety.attempts) == (1, 0)
    assert second_verdict.safety.usage.prompt_tokens == 0


async def test_a_failure_reaches_the_identical_trace_waiting_for_it_and_is_not_cached() -> None:
    release = asyncio.Event()
    failing = held(lambda _body: Failure(500), release)
    async with OpenAIStub(failing) as stub, judge_service(stub) as client:
        idle = _traces_in_flight()
        first = asyncio.create_task(client.judge_trace(JUDGE_TRACE))
        await _until(lambda: stub.calls == 2)
        second = asyncio.create_task(client.judge_trace(JUDGE_TRACE))
        await _until(lambda: _traces_in_flight() == idle + 2)
        release.set()
        async with asyncio.timeout(10):  # the waiter is not left hanging
            answers = await asyncio.gather(first, second)
        calls_for_both = stub.calls
        again = await client.judge_trace(JUDGE_TRACE)
    for answer in (*answers, again):
        assert answer.verdict.status == judge_pb2.JUDGMENT_STATUS_UPSTREAM_ERROR
        assert answer.verdict.safety.error == "stub-judge: server_error: HTTP 500"
        assert answer.verdict.cached is False
    assert calls_for_both == 2
    assert stub.calls == 4  # asked again afterwards: a failure is never cached


async def test_when_the_first_asker_hangs_up_the_identical_waiting_trace_asks_for_itself() -> None:
    release = asyncio.Event()
    async with OpenAIStub(held(by_kind({}), release)) as stub, judge_service(stub) as client:
        idle = _traces_in_flight()
        first = asyncio.create_task(client.judge_trace(JUDGE_TRACE))
        await _until(lambda: stub.calls == 2)
        second = asyncio.create_task(client.judge_trace(JUDGE_TRACE))
        await _until(lambda: _traces_in_flight() == idle + 2)
        first.cancel()
        await _until(lambda: stub.calls == 4)  # the waiting trace's own two calls
        release.set()
        async with asyncio.timeout(10):
            answer = await second
    assert stub.disconnects == 2  # the first trace's calls, abandoned
    assert answer.verdict.status == judge_pb2.JUDGMENT_STATUS_OK
    assert answer.verdict.cached is False
    assert answer.verdict.safety.attempts == 1


def _judgment(label: SafetyLabel) -> Judgment:
    return Judgment(JudgmentKind.SAFETY, JudgmentStatus.OK, label=label)


async def test_the_lru_holds_its_size_and_drops_the_least_recently_used() -> None:
    cache = LruJudgmentCache(2)
    await cache.put("a", _judgment(SafetyLabel.SAFE))
    await cache.put("b", _judgment(SafetyLabel.UNSAFE))
    assert await cache.get("a") is not None  # "a" is now the most recently used
    await cache.put("c", _judgment(SafetyLabel.SAFE))
    assert len(cache) == 2
    assert await cache.get("b") is None
    assert await cache.get("a") == _judgment(SafetyLabel.SAFE)
    assert await cache.get("c") == _judgment(SafetyLabel.SAFE)


def test_the_key_covers_every_input_of_a_judgment() -> None:
    base = Trace(Item("i", "q", "r", Scenario.RISK_OMISSION), reasoning="t", answer="a")
    key = judgment_key("v1", "model=m", base)
    variants = [
        judgment_key("v2", "model=m", base),
        judgment_key("v1", "model=n", base),
        judgment_key("v1", "model=m", Trace(Item("i", "q2", "r", base.item.scenario), "t", "a")),
        judgment_key("v1", "model=m", Trace(Item("i", "q", "r2", base.item.scenario), "t", "a")),
        judgment_key("v1", "model=m", Trace(base.item, "t2", "a")),
        judgment_key("v1", "model=m", Trace(base.item, "t", "a2")),
        judgment_key(
            "v1", "model=m", Trace(Item("i", "q", "r", Scenario.OVER_SENSITIVITY), "t", "a")
        ),
        # Moving text from one field to the next is another question.
        judgment_key("v1", "model=m", Trace(Item("i", "qr", "", base.item.scenario), "t", "a")),
    ]
    assert len({key, *variants}) == 1 + len(variants)
    # The item id, model under test and sample index do not change the question.
    same = Trace(Item("other", "q", "r", Scenario.RISK_OMISSION), "t", "a", model="x")
    assert judgment_key("v1", "model=m", same) == key
    assert len(key) == 64
