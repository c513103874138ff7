"""The stored form of run specs, samples, judgments and verdicts: plain JSON values.

Written out field by field rather than with `dataclasses.asdict`, so that renaming a field of a
domain type fails type checking here instead of silently changing what is stored. Enums are
stored by value; reading tolerates missing optional keys (older rows) by using the defaults.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from bsa_judge.benchmark.run import ItemSelection
from bsa_judge.benchmark.scenario import SafetyLabel, Scenario, ThinkingLabel
from bsa_judge.benchmark.status import JudgmentStatus, SampleStatus
from bsa_judge.chat.model import Usage
from bsa_judge.generation.decoding import Decoding
from bsa_judge.generation.reasoning import ReasoningSource
from bsa_judge.generation.sampler import Sample
from bsa_judge.judging.judgment import (
    JudgeVote,
    Judgment,
    JudgmentKind,
    Label,
    Verdict,
)

Json = dict[str, Any]

_E = TypeVar("_E", SafetyLabel, ThinkingLabel, Scenario, SampleStatus)


def selection_to_text(selection: ItemSelection) -> str:
    """The item selection of a run spec, as JSON text (compared as written: keys sorted)."""
    return json.dumps(
        {
            "dataset": selection.dataset,
            "description": selection.description,
            "item_count": selection.item_count,
            "items_digest": selection.items_digest,
        },
        sort_keys=True,
    )


def selection_from_text(text: str) -> ItemSelection:
    """Inverse of `selection_to_text`."""
    data = json.loads(text)
    return ItemSelection(
        dataset=data["dataset"],
        description=data["description"],
        item_count=data["item_count"],
        items_digest=data["items_digest"],
    )


def decoding_to_json(decoding: Decoding) -> Json:
    """The decoding settings of a run spec."""
    return {
        "temperature": decoding.temperature,
        "top_p": decoding.top_p,
        "top_k": decoding.top_k,
        "max_tokens": decoding.max_tokens,
        "seed": decoding.seed,
        "stop": list(decoding.stop),
    }


def decoding_from_json(data: Json) -> Decoding:
    """Inverse of `decoding_to_json`."""
    return Decoding(
        temperature=data.get("temperature"),
        top_p=data.get("top_p"),
        top_k=data.get("top_k"),
        max_tokens=data.get("max_tokens"),
        seed=data.get("seed"),
        stop=tuple(data.get("stop", ())),
    )


def sample_to_json(sample: Sample) -> Json:
    """One generated sample."""
    return {
        "index": sample.index,
        "reasoning": sample.reasoning,
        "answer": sample.answer,
        "status": sample.status.value,
        "finish_reason": sample.finish_reason,
        "reasoning_source": sample.reasoning_source.value,
        "prompt_tokens": sample.prompt_tokens,
        "completion_tokens": sample.completion_tokens,
        "latency_s": sample.latency_s,
        "error": sample.error,
    }


def sample_from_json(data: Json) -> Sample:
    """Inverse of `sample_to_json`."""
    return Sample(
        index=data["index"],
        reasoning=data["reasoning"],
        answer=data["answer"],
        status=SampleStatus(data["status"]),
        finish_reason=data.get("finish_reason", ""),
        reasoning_source=ReasoningSource(data.get("reasoning_source", ReasoningSource.NONE)),
        prompt_tokens=data.get("prompt_tokens", 0),
        completion_tokens=data.get("completion_tokens", 0),
        latency_s=data.get("latency_s", 0.0),
        error=data.get("error", ""),
    )


def judgment_to_json(judgment: Judgment) -> Json:
    """One judge's judgment of a trace (also the judge cache's entries)."""
    return {
        "kind": judgment.kind.value,
        "status": judgment.status.value,
        "label": judgment.label.value if judgment.label is not None else None,
        "explanation": judgment.explanation,
        "raw_output": judgment.raw_output,
        "judge_model": judgment.judge_model,
        "template_version": judgment.template_version,
        "prompt_tokens": judgment.usage.prompt_tokens,
        "completion_tokens": judgment.usage.completion_tokens,
        "latency_s": judgment.latency_s,
        "attempts": judgment.attempts,
        "error": judgment.error,
        "cached": judgment.cached,
        "confidence": judgment.confidence,
    }


def judgment_from_json(data: Json) -> Judgment:
    """Inverse of `judgment_to_json`."""
    kind = JudgmentKind(data["kind"])
    return Judgment(
        kind=kind,
        status=JudgmentStatus(data["status"]),
        label=_label(kind, data.get("label")),
        explanation=data.get("explanation", ""),
        raw_output=data.get("raw_output", ""),
        judge_model=data.get("judge_model", ""),
        template_version=data.get("template_version", ""),
        usage=Usage(data.get("prompt_tokens", 0), data.get("completion_tokens", 0)),
        latency_s=data.get("latency_s", 0.0),
        attempts=data.get("attempts", 0),
        error=data.get("error", ""),
        cached=data.get("cached", False),
        confidence=data.get("confidence"),
    )


def verdict_to_json(verdict: Verdict) -> Json:
    """One trace's verdict, with its judgments and the judges' votes."""
    return {
        "status": verdict.status.value,
        "safety": _optional_judgment(verdict.safety),
        "thinking": _optional_judgment(verdict.thinking),
        "safety_label": _value(verdict.safety_label),
        "thinking_label": _value(verdict.thinking_label),
        "thinking_correct": verdict.thinking_correct,
        "scenario": _value(verdict.scenario),
        "sample_status": _value(verdict.sample_status),
        "item_id": verdict.item_id,
        "model": verdict.model,
        "sample_index": verdict.sample_index,
        "cached": verdict.cached,
        "votes": [
            {
                "judge": vote.judge,
                "safety": judgment_to_json(vote.safety),
                "thinking": judgment_to_json(vote.thinking),
            }
            for vote in verdict.votes
        ],
        "agreement": verdict.agreement,
        "latency_s": verdict.latency_s,
        "error": verdict.error,
        "decided_by": verdict.decided_by,
        "label": verdict.label,
    }


def verdict_from_json(data: Json) -> Verdict:
    """Inverse of `verdict_to_json`."""
    safety, thinking = data.get("safety"), data.get("thinking")
    return Verdict(
        status=JudgmentStatus(data["status"]),
        safety=judgment_from_json(safety) if safety is not None else None,
        thinking=judgment_from_json(thinking) if thinking is not None else None,
        thinking_correct=data.get("thinking_correct", False),
        scenario=_enum(Scenario, data.get("scenario")),
        sample_status=_enum(SampleStatus, data.get("sample_status")),
        item_id=data.get("item_id", ""),
        model=data.get("model", ""),
        sample_index=data.get("sample_index", 0),
        cached=data.get("cached", False),
        votes=tuple(
            JudgeVote(
                judge=vote["judge"],
                safety=judgment_from_json(vote["safety"]),
                thinking=judgment_from_json(vote["thinking"]),
            )
            for vote in data.get("votes", ())
        ),
        agreement=data.get("agreement", 0.0),
        latency_s=data.get("latency_s", 0.0),
        error=data.get("error", ""),
        decided_by=data.get("decided_by", ""),
        label=data.get("label", ""),
    )


def _optional_judgment(judgment: Judgment | None) -> Json | None:
    return judgment_to_json(judgment) if judgment is not None else None


def _value(member: SafetyLabel | ThinkingLabel | Scenario | SampleStatus | None) -> str | None:
    return member.value if member is not None else None


def _enum(kind: type[_E], value: str | None) -> _E | None:
    return kind(value) if value is not None else None


def _label(kind: JudgmentKind, value: str | None) -> Label | None:
    if value is None:
        return None
    return SafetyLabel(value) if kind is JudgmentKind.SAFETY else ThinkingLabel(value)
