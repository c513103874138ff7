"""Generate: proto messages <-> generation core values, and nothing else."""

from __future__ import annotations

from bsa.judge.v1 import judge_pb2

from bsa_judge.generation.decoding import Decoding
from bsa_judge.generation.generator import GenerationRequest
from bsa_judge.generation.sampler import Sample
from bsa_judge.service import enums

_SAMPLE_STATUS = enums.SAMPLE_STATUS

_REASONING_SOURCE = enums.REASONING_SOURCE


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
    return judge_pb2.GenerateResponse(model=model, sample=sample_to_proto(sample))


def sample_to_proto(sample: Sample) -> judge_pb2.Sample:
    """A sample as sent to callers (by Generate, and by the run RPCs)."""
    return judge_pb2.Sample(
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
    )
