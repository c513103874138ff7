"""Generate: proto messages <-> generation core values, and nothing else."""

from __future__ import annotations

from bsa.judge.v1 import judge_pb2

from bsa_judge.benchmark.status import SampleStatus
from bsa_judge.generation.decoding import Decoding
from bsa_judge.generation.generator import GenerationRequest
from bsa_judge.generation.reasoning import ReasoningSource
from bsa_judge.generation.sampler import Sample

_SAMPLE_STATUS: dict[SampleStatus, judge_pb2.SampleStatus.ValueType] = {
    SampleStatus.OK: judge_pb2.SAMPLE_STATUS_OK,
    SampleStatus.TRUNCATED: judge_pb2.SAMPLE_STATUS_TRUNCATED,
    SampleStatus.NO_REASONING: judge_pb2.SAMPLE_STATUS_NO_REASONING,
    SampleStatus.UPSTREAM_ERROR: judge_pb2.SAMPLE_STATUS_UPSTREAM_ERROR,
    SampleStatus.TIMEOUT: judge_pb2.SAMPLE_STATUS_TIMEOUT,
}

_REASONING_SOURCE: dict[ReasoningSource, judge_pb2.ReasoningSource.ValueType] = {
    ReasoningSource.REASONING_CONTENT_FIELD: judge_pb2.REASONING_SOURCE_REASONING_CONTENT_FIELD,
    ReasoningSource.REASONING_FIELD: judge_pb2.REASONING_SOURCE_REASONING_FIELD,
    ReasoningSource.CONTENT_PARTS: judge_pb2.REASONING_SOURCE_CONTENT_PARTS,
    ReasoningSource.INLINE_TAGS: judge_pb2.REASONING_SOURCE_INLINE_TAGS,
    ReasoningSource.NONE: judge_pb2.REASONING_SOURCE_NONE,
}


def generation_request(request: judge_pb2.GenerateRequest) -> GenerationRequest:
    """The core request of a GenerateRequest (checked by the generator, not here)."""
    return GenerationRequest(
        query=request.item.query,
        model=request.model,
        k=request.k,
        decoding=decoding(request.decoding),
        safety_rules=request.safety_rules,
        label=request.item.label,
    )


def decoding(settings: judge_pb2.DecodingSettings) -> Decoding:
    """Decoding settings; a field left unset stays None (the backend's default)."""
    return Decoding(
        temperature=settings.temperature if settings.HasField("temperature") else None,
        top_p=settings.top_p if settings.HasField("top_p") else None,
        top_k=settings.top_k if settings.HasField("top_k") else None,
        max_tokens=settings.max_tokens if settings.HasField("max_tokens") else None,
        seed=settings.seed if settings.HasField("seed") else None,
        stop=tuple(settings.stop),
    )


def generate_response(sample: Sample, model: str) -> judge_pb2.GenerateResponse:
    """The stream message carrying one finished sample."""
    return judge_pb2.GenerateResponse(
        model=model,
        sample=judge_pb2.Sample(
            sample_index=sample.index,
            reasoning=sample.reasoning,
            answer=sample.answer,
            status=_SAMPLE_STATUS[sample.status],
            finish_reason=sample.finish_reason,
            reasoning_source=_REASONING_SOURCE[sample.reasoning_source],
            usage=judge_pb2.TokenUsage(
                prompt_tokens=sample.prompt_tokens, completion_tokens=sample.completion_tokens
            ),
            latency_seconds=sample.latency_s,
            error=sample.error,
        ),
    )
