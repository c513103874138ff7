"""The offline judge behind the `Judge` port: a trace in, the offline model's judgments out.

The model itself (bsa_judge.offline) knows nothing of judging's types; this adapter turns a
`Trace` into an `OfflineCase` and the `OfflineJudgment` back into two `Judgment`s, each with
the model's confidence in its label. Traces in flight are judged together: one forward pass
of the embedding model for many traces (`BatchingOfflineJudge`).

The model is loaded on first use, off the event loop, once per process (`shared_model`): a
server that never judges offline, or the many servers a test run starts, pay nothing for it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.judging.judgment import Judgment, JudgmentKind, TraceJudgments
from bsa_judge.judging.trace import Trace
from bsa_judge.offline import JUDGE_NAME, BatchingOfflineJudge, OfflineCase, OfflineJudgment
from bsa_judge.offline.batching import BatchJudge
from bsa_judge.offline.judge import OfflineJudge
from bsa_judge.offline.parameters import DEFAULT_ENCODER, bundled_parameters, load_parameters

_models: dict[str, OfflineJudge] = {}
_models_lock = threading.Lock()


def shared_model(encoder: str = DEFAULT_ENCODER) -> OfflineJudge:
    """The process's one offline model with the shipped parameters of `encoder`, loaded on
    the first call (about a second for the default; thread-safe)."""
    with _models_lock:
        model = _models.get(encoder)
        if model is None:
            model = OfflineJudge(parameters=load_parameters(bundled_parameters(encoder)))
            _models[encoder] = model
        return model


class _LazyModel:
    """A `BatchJudge` that loads the shared model at its first batch (in the batcher's
    worker thread, so the event loop never waits for the load)."""

    def __init__(self, encoder: str) -> None:
        self._encoder = encoder

    def judge_batch(self, cases: Sequence[OfflineCase]) -> list[OfflineJudgment]:
        return shared_model(self._encoder).judge_batch(cases)


def decided_by(judgment: OfflineJudgment) -> str:
    """The name a verdict records for the offline judge: its name and parameters version."""
    return f"{judgment.judge}@{judgment.parameters_version}"


class OfflineTraceJudge:
    """The offline judge as a `Judge`, named `offline` unless told otherwise.

    Its judgments carry the model's confidence in each label (0 to 1) and `judge_model`
    "offline@<parameters version>", which is also `decided_by`. A trace without reasoning
    gets a thinking judgment NOT_JUDGED, as the LLM judge gives it. A failure of the model
    is reported in-band: both judgments UPSTREAM_ERROR with the error, never raised.
    """

    def __init__(
        self,
        model: BatchJudge | None = None,
        *,
        name: str = JUDGE_NAME,
        encoder: str = DEFAULT_ENCODER,
        max_batch: int = 64,
        max_wait_seconds: float = 0.005,
    ) -> None:
        self.name = name
        self._batcher = BatchingOfflineJudge(
            model if model is not None else _LazyModel(encoder),
            max_batch=max_batch,
            max_wait_seconds=max_wait_seconds,
        )

    @property
    def batch_sizes(self) -> list[int]:
        """Sizes of the batches judged so far."""
        return self._batcher.batch_sizes

    async def judge(self, trace: Trace) -> TraceJudgments:
        """Both judgments of `trace`, judged in a batch with the other traces in flight."""
        thinking_kind = JudgmentKind.thinking(trace.item.scenario)
        case = OfflineCase(
            scenario=trace.item.scenario,
            query=trace.item.query,
            risk_summary=trace.item.risk_summary,
            reasoning=trace.reasoning if trace.has_reasoning else "",
            answer=trace.answer,
        )
        try:
            result = await self._batcher.judge(case)
        except Exception as error:
            failed = f"offline judge failed: {type(error).__name__}: {error}"
            return TraceJudgments(
                Judgment(JudgmentKind.SAFETY, JudgmentStatus.UPSTREAM_ERROR, error=failed),
                Judgment(thinking_kind, JudgmentStatus.UPSTREAM_ERROR, error=failed),
                decided_by=self.name,
            )
        who = decided_by(result)
        safety = Judgment(
            JudgmentKind.SAFETY,
            JudgmentStatus.OK,
            label=result.safety,
            explanation=result.safety_explanation,
            judge_model=who,
            template_version=result.parameters_version,
            attempts=1,
            confidence=result.safety_confidence,
        )
        if result.thinking is None:
            thinking = Judgment(
                thinking_kind,
                JudgmentStatus.NOT_JUDGED,
                judge_model=who,
                template_version=result.parameters_version,
                error="the sample has no reasoning to judge",
            )
        else:
            thinking = Judgment(
                thinking_kind,
                JudgmentStatus.OK,
                label=result.thinking,
                explanation=result.thinking_explanation,
                judge_model=who,
                template_version=result.parameters_version,
                attempts=1,
                confidence=result.thinking_confidence,
            )
        return TraceJudgments(safety, thinking, decided_by=who)

    async def aclose(self) -> None:
        """Stop the batching task (the shared model stays loaded for the process)."""
        await self._batcher.aclose()
