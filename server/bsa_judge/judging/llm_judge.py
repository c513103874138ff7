"""The LLM judge: the two judgments of a trace, asked of a chat model concurrently, read,
cached. It implements the `Judge` port (port.py).

The model is a `ChatModel` (bsa_judge.chat.model): timeouts, retries and the concurrency
limit are its business (for an endpoint, `ChatEndpoint`). This module owns what is specific
to judging: rendering the template, reading the verdict, re-asking when the answer cannot be
read, the cache, and asking an identical question only once while it is being answered.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Any

from bsa_judge import telemetry
from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.chat.model import ChatModel, UpstreamFailure, Usage
from bsa_judge.judging.cache import JudgmentCache, judgment_key
from bsa_judge.judging.judgment import Judgment, JudgmentKind, TraceJudgments
from bsa_judge.judging.parsing import Unreadable, read_judgment
from bsa_judge.judging.template import JudgeTemplate, TemplateSet
from bsa_judge.judging.trace import Trace


@dataclass(frozen=True, slots=True)
class JudgeOptions:
    """How a judge model is asked: decoding settings and the re-ask budget."""

    temperature: float = 0.0
    max_tokens: int = 2048
    structured_output: bool = False  # send a JSON-schema response_format
    reasks: int = 2  # extra calls after an answer that could not be read


class LlmJudge:
    """A named judge: one chat model judging traces with one set of templates.

    Its judgments carry no `confidence` (None): a model's own certainty is not calibrated.
    """

    def __init__(
        self,
        name: str,
        chat_model: ChatModel,
        templates: TemplateSet,
        cache: JudgmentCache,
        options: JudgeOptions | None = None,
    ) -> None:
        self.name = name
        self.chat_model = chat_model
        self.templates = templates
        self.cache = cache
        self.options = options or JudgeOptions()
        self.model = chat_model.model
        # Everything about the judge that changes its answers, for the cache key: two
        # endpoints serving a model of the same name are two judges.
        self.fingerprint = (
            f"{chat_model.identity};temperature={self.options.temperature};"
            f"max_tokens={self.options.max_tokens};"
            f"structured_output={self.options.structured_output}"
        )
        # Judgments being asked now, by cache key; see `judgment`.
        self._in_flight: dict[str, asyncio.Future[Judgment]] = {}

    @property
    def template_versions(self) -> tuple[tuple[str, str], ...]:
        """The version of each template this judge uses, by template name, sorted."""
        return tuple(sorted((template.kind.value, template.version) for template in self.templates))

    async def judge(self, trace: Trace) -> TraceJudgments:
        """The safety and thinking judgments of `trace`, the two calls made concurrently.

        A trace without reasoning (NO_REASONING) gets a thinking judgment NOT_JUDGED.
        """
        thinking_kind = JudgmentKind.thinking(trace.item.scenario)
        if not trace.has_reasoning:
            safety = await self.judgment(JudgmentKind.SAFETY, trace)
            template = self.templates.for_kind(thinking_kind)
            thinking = Judgment(
                thinking_kind,
                JudgmentStatus.NOT_JUDGED,
                judge_model=self.model,
                template_version=template.version,
                error="the sample has no reasoning to judge",
            )
            return TraceJudgments(safety, thinking, decided_by=self.name)
        safety, thinking = await asyncio.gather(
            self.judgment(JudgmentKind.SAFETY, trace), self.judgment(thinking_kind, trace)
        )
        return TraceJudgments(safety, thinking, decided_by=self.name)

    async def judgment(self, kind: JudgmentKind, trace: Trace) -> Judgment:
        """One judgment, from the cache when this exact question was answered before.

        While a question is being asked, the same question asked again waits for that answer
        instead of paying for a second call (single flight per cache key): an OK answer comes
        back as cached, a failed one as the same failure (not cached, so the next request
        asks again). If the asker goes away first (cancelled), a waiter asks for itself.
        """
        template = self.templates.for_kind(kind)
        key = judgment_key(template.version, self.fingerprint, trace)
        while True:
            # The question being asked now first: the cache may be a database round trip away.
            answer = self._in_flight.get(key)
            if answer is None:
                known = await self.cache.get(key)
                if known is not None:
                    telemetry.CACHE_HITS.inc()
                    return replace(known, cached=True, attempts=0, usage=Usage(), latency_s=0.0)
                answer = self._in_flight.get(key)  # asked by another while the cache looked
            if answer is None:
                return await self._ask_once(key, template, trace)
            shared = await _shared(answer)
            if shared is not None:
                return shared

    async def _ask_once(self, key: str, template: JudgeTemplate, trace: Trace) -> Judgment:
        """Ask, letting identical questions that come meanwhile wait for this answer."""
        telemetry.CACHE_MISSES.inc()
        answer: asyncio.Future[Judgment] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = answer
        try:
            judgment = await self._ask(template, trace)
            if judgment.status is JudgmentStatus.OK:
                await self.cache.put(key, judgment)
        except BaseException:
            answer.cancel()  # waiters ask for themselves rather than wait forever
            raise
        finally:
            del self._in_flight[key]
        answer.set_result(judgment)
        return judgment

    async def _ask(self, template: JudgeTemplate, trace: Trace) -> Judgment:
        kind = template.kind
        started = time.perf_counter()
        prompt = {"role": "user", "content": template.render(trace)}
        messages: list[dict[str, Any]] = [prompt]
        decoding: dict[str, Any] = {
            "temperature": self.options.temperature,
            "max_tokens": self.options.max_tokens,
        }
        if self.options.structured_output:
            decoding["response_format"] = template.response_format()
        usage = Usage()
        raw = ""
        problem = ""
        attempts = 0

        def outcome(status: JudgmentStatus, **fields: Any) -> Judgment:
            return Judgment(
                kind,
                status,
                judge_model=self.model,
                template_version=template.version,
                usage=usage,
                latency_s=time.perf_counter() - started,
                attempts=attempts,
                **fields,
            )

        for _ in range(1 + self.options.reasks):
            attempts += 1
            call_started = time.perf_counter()
            try:
                completion = await self.chat_model.complete(messages, decoding)
            except UpstreamFailure as failure:
                return outcome(failure.status(JudgmentStatus), raw_output=raw, error=str(failure))
            finally:
                telemetry.JUDGE_CALL_SECONDS.labels(self.model, kind.value).observe(
                    time.perf_counter() - call_started
                )
            usage = usage + completion.usage
            raw = completion.text
            try:
                reading = read_judgment(raw, kind, quoted=trace.texts)
            except Unreadable as error:
                problem = str(error)
                telemetry.JUDGE_UNPARSEABLE.labels(self.model, kind.value).inc()
                # Show the judge its unreadable answer and ask once more for the bare object.
                messages = [
                    prompt,
                    {"role": "assistant", "content": raw},
                    {"role": "user", "content": template.reask()},
                ]
                continue
            return outcome(JudgmentStatus.OK, label=reading.label, explanation=reading.explanation)
        return outcome(
            JudgmentStatus.JUDGE_UNPARSEABLE,
            raw_output=raw,
            error=f"no verdict could be read after {attempts} attempt(s): {problem}",
        )

    async def aclose(self) -> None:
        """Close the judge's model connections."""
        await self.chat_model.aclose()


async def _shared(answer: asyncio.Future[Judgment]) -> Judgment | None:
    """The answer another request is getting for the same question; None when that request
    went away without one (the caller then asks itself)."""
    started = time.perf_counter()
    try:
        # Shielded: a waiter that is cancelled must not cancel the answer others wait for.
        judgment = await asyncio.shield(answer)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if answer.cancelled() and (task is None or not task.cancelling()):
            return None
        raise
    waited = time.perf_counter() - started
    if judgment.status is JudgmentStatus.OK:
        telemetry.CACHE_HITS.inc()
        return replace(judgment, cached=True, attempts=0, usage=Usage(), latency_s=waited)
    telemetry.CACHE_MISSES.inc()
    return replace(judgment, attempts=0, usage=Usage(), latency_s=waited)
