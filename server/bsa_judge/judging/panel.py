"""The panel of configured judges: which judge a request gets, and its verdict."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from bsa_judge import telemetry
from bsa_judge.backends.endpoint import ChatEndpoint, EndpointConfig
from bsa_judge.errors import FailedPrecondition, NotFound, quoted_list
from bsa_judge.judging.builtin_templates import builtin_templates
from bsa_judge.judging.cache import LruVerdictCache, VerdictCache
from bsa_judge.judging.judge import Judge, JudgeOptions
from bsa_judge.judging.judgment import JudgeVote, Verdict
from bsa_judge.judging.official_prompts import load_official_prompts
from bsa_judge.judging.trace import Trace
from bsa_judge.judging.verdict import count_verdict, verdict_for
from bsa_judge.judging.vote import majority
from bsa_judge.settings import Settings


class JudgePanel:
    """The configured judges, by name; the default is `default` or the first configured."""

    def __init__(self, judges: Sequence[Judge] = (), default: str | None = None) -> None:
        self._judges: dict[str, Judge] = {}
        for judge in judges:
            if judge.name in self._judges:
                raise ValueError(f"judge {judge.name!r} is configured twice")
            self._judges[judge.name] = judge
        if default is not None and default not in self._judges:
            raise ValueError(
                f"default judge {default!r} is not configured; configured: {self._names()}"
            )
        self.default = default or next(iter(self._judges), None)

    @classmethod
    def from_settings(cls, settings: Settings, cache: VerdictCache | None = None) -> JudgePanel:
        """Judges for every backend of `settings.judges`, sharing one template set and cache."""
        templates = (
            load_official_prompts(settings.judge_prompts)
            if settings.judge_prompts is not None
            else builtin_templates()
        )
        shared_cache = cache if cache is not None else LruVerdictCache(settings.verdict_cache_size)
        judges = [
            Judge(
                backend.name,
                ChatEndpoint(
                    EndpointConfig(
                        name=backend.name,
                        base_url=backend.base_url,
                        model=backend.model,
                        api_key_env=backend.api_key_env,
                        max_concurrency=backend.max_concurrency,
                        request_timeout_s=backend.request_timeout_s,
                        max_retries=backend.max_retries,
                    )
                ),
                templates,
                shared_cache,
                JudgeOptions(
                    temperature=backend.temperature,
                    max_tokens=backend.max_tokens,
                    structured_output=backend.structured_output,
                    reasks=settings.judge_reasks,
                ),
            )
            for backend in settings.judges
        ]
        return cls(judges, settings.default_judge)

    @property
    def names(self) -> tuple[str, ...]:
        """The configured judge names, in configuration order."""
        return tuple(self._judges)

    def ensure_configured(self) -> None:
        """Raise FailedPrecondition when no judge is configured."""
        if not self._judges:
            raise FailedPrecondition(
                "no judge is configured: add a judge backend to the `judges` setting "
                "(config file, or BSA_JUDGE_JUDGES)"
            )

    def choose(self, judge: str = "", judges: Sequence[str] = ()) -> tuple[Judge, ...]:
        """The judges a request names: `judges` (a vote) if any, else `judge`, else the default.

        Raises FailedPrecondition when no judge is configured, NotFound for an unknown name.
        """
        self.ensure_configured()
        names = list(dict.fromkeys(judges)) or [judge or self.default or ""]
        unknown = [name for name in names if name not in self._judges]
        if unknown:
            raise NotFound(
                f"unknown judge {quoted_list(unknown)}; configured judges: {self._names()}"
            )
        return tuple(self._judges[name] for name in names)

    async def verdict(self, trace: Trace, judges: Sequence[Judge]) -> Verdict:
        """Judge `trace` with one judge, or by majority vote of several."""
        started = time.perf_counter()
        telemetry.TRACES_IN_FLIGHT.inc()
        try:
            if len(judges) == 1:
                safety, thinking = await judges[0].judge(trace)
                verdict = verdict_for(
                    trace, safety, thinking, latency_s=time.perf_counter() - started
                )
            else:
                results = await asyncio.gather(*(judge.judge(trace) for judge in judges))
                votes = tuple(
                    JudgeVote(judge.name, safety, thinking)
                    for judge, (safety, thinking) in zip(judges, results, strict=True)
                )
                won = majority(votes)
                verdict = verdict_for(
                    trace,
                    won.safety,
                    won.thinking,
                    latency_s=time.perf_counter() - started,
                    votes=votes,
                    agreement=won.agreement,
                )
        finally:
            telemetry.TRACES_IN_FLIGHT.dec()
        count_verdict(verdict)
        return verdict

    async def aclose(self) -> None:
        """Close every judge's upstream connections."""
        await asyncio.gather(*(judge.aclose() for judge in self._judges.values()))

    def _names(self) -> str:
        return ", ".join(self._judges) or "(none)"
