"""JudgeService: translates proto <-> core and nothing more.

Domain errors raised here (bsa_judge.errors) become gRPC statuses in the error interceptor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

from bsa_judge.errors import FailedPrecondition
from bsa_judge.judging.stream import judge_stream
from bsa_judge.metrics.compute import metrics_for
from bsa_judge.runtime import Runtime
from bsa_judge.service import convert_generation, convert_judging, convert_metrics
from bsa_judge.service.draining import DRAINED_MESSAGE, UntilDraining


class JudgeServicer(judge_pb2_grpc.JudgeServiceServicer):
    """The bsa.judge.v1.JudgeService implementation."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._draining = asyncio.Event()  # set when the server stops (see drain)

    # --- Generate (issue: generation) ---------------------------------------------------
    async def Generate(  # noqa: N802 - gRPC method name
        self,
        request: judge_pb2.GenerateRequest,
        context: grpc.aio.ServicerContext[judge_pb2.GenerateRequest, judge_pb2.GenerateResponse],
    ) -> AsyncIterator[judge_pb2.GenerateResponse]:
        core_request = convert_generation.generation_request(request)
        # Leaving this loop (client cancel, deadline) closes the samples, cancelling upstream.
        async with aclosing(self._runtime.generator.generate(core_request)) as samples:
            async for sample in samples:
                yield convert_generation.generate_response(sample, core_request.model)

    # --- JudgeTrace / JudgeTraces (issue: judge) ------------------------------------------
    async def JudgeTrace(  # noqa: N802
        self,
        request: judge_pb2.JudgeTraceRequest,
        context: grpc.aio.ServicerContext[
            judge_pb2.JudgeTraceRequest, judge_pb2.JudgeTraceResponse
        ],
    ) -> judge_pb2.JudgeTraceResponse:
        trace = convert_judging.trace_from_request(
            request, max_field_bytes=self._runtime.settings.max_field_bytes
        )
        judges = self._runtime.judges.choose(request.judge, request.judges)
        verdict = await self._runtime.judges.verdict(trace, judges)
        return judge_pb2.JudgeTraceResponse(verdict=convert_judging.verdict_to_proto(verdict))

    async def JudgeTraces(  # noqa: N802
        self,
        request_iterator: AsyncIterator[judge_pb2.JudgeTracesRequest],
        context: grpc.aio.ServicerContext[
            judge_pb2.JudgeTracesRequest, judge_pb2.JudgeTracesResponse
        ],
    ) -> AsyncIterator[judge_pb2.JudgeTracesResponse]:
        self._runtime.judges.ensure_configured()
        settings = self._runtime.settings
        requests = UntilDraining(request_iterator, self._draining)
        verdicts = judge_stream(
            self._runtime.judges,
            convert_judging.stream_requests(requests),
            max_in_flight=settings.stream_max_in_flight,
            max_field_bytes=settings.max_field_bytes,
        )
        # Leaving this loop (client cancel, deadline) closes the stream, cancelling its work.
        try:
            async with aclosing(verdicts):
                async for key, verdict in verdicts:
                    yield judge_pb2.JudgeTracesResponse(
                        key=key, verdict=convert_judging.verdict_to_proto(verdict)
                    )
        finally:
            requests.close()
        if requests.cut:
            await context.abort(grpc.StatusCode.UNAVAILABLE, DRAINED_MESSAGE)

    def drain(self) -> None:
        """The server is stopping: open JudgeTraces streams read no further message, deliver
        the verdicts of those read, and end UNAVAILABLE (see UntilDraining)."""
        self._draining.set()

    # --- ComputeMetrics (issue: metrics) --------------------------------------------------
    async def ComputeMetrics(  # noqa: N802
        self,
        request: judge_pb2.ComputeMetricsRequest,
        context: grpc.aio.ServicerContext[
            judge_pb2.ComputeMetricsRequest, judge_pb2.ComputeMetricsResponse
        ],
    ) -> judge_pb2.ComputeMetricsResponse:
        if request.WhichOneof("source") == "run_id":
            raise FailedPrecondition("storage is not configured")
        options = convert_metrics.metrics_options(request)
        # Up to millions of samples to convert and score: off the event loop. Bad samples
        # raise VerdictError, an InvalidInput naming inline.samples[<row>].<field>.
        columns = await asyncio.to_thread(convert_metrics.inline_samples, request)
        report = await asyncio.to_thread(metrics_for, columns, options)
        return convert_metrics.metrics_response(report)
