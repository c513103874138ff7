"""Names of any length in a request: the status names them by a short prefix, so it fits the
trailers and the caller gets the code the server meant (issue 10, defect 4)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

from tests.generation.harness import request, write_backends
from tests.judging.harness import raw_judge_service, trace
from tests.support.serving import serving
from tools.judge_script import agreeable_judge
from tools.openai_stub import OpenAIStub

LONG = "x" * 9000


async def test_an_unknown_judge_of_9000_characters_is_not_found_named_by_its_prefix() -> None:
    async with OpenAIStub(agreeable_judge()) as stub, raw_judge_service(stub) as service:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await service.JudgeTrace(judge_pb2.JudgeTraceRequest(trace=trace(), judge=LONG))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == (
        f"unknown judge {'x' * 64!r}... (9000 characters); configured judges: stub-judge"
    )


async def test_a_vote_of_many_long_unknown_judges_is_not_found_naming_five() -> None:
    names = [f"{index}{'y' * 3000}" for index in range(40)]
    async with OpenAIStub(agreeable_judge()) as stub, raw_judge_service(stub) as service:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await service.JudgeTrace(judge_pb2.JudgeTraceRequest(trace=trace(), judges=names))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    details = raised.value.details()
    assert details is not None
    assert details.startswith(f"unknown judge {('0' + 'y' * 63)!r}... (3001 characters), ")
    assert " and 35 more; configured judges: stub-judge" in details
    assert len(details) < 1024


async def test_an_unknown_model_of_9000_characters_is_not_found_named_by_its_prefix(
    tmp_path: Path,
) -> None:
    async with OpenAIStub(agreeable_judge()) as stub:
        backends = write_backends(tmp_path / "models.yaml", stub.base_url, alpha={})
        async with (
            serving(backends=backends) as running,
            grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel,
        ):
            call = judge_pb2_grpc.JudgeServiceStub(channel).Generate(request(LONG))
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                async for _ in call:
                    pass
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert raised.value.details() == (
        f"unknown model {'x' * 64!r}... (9000 characters); configured models: alpha"
    )
