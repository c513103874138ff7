"""JudgeService: translates proto <-> core and calls the application layer, nothing more.

Domain errors raised here (bsa_judge.errors) become gRPC statuses in the error interceptor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc

from bsa_judge.app.application import Application
from bsa_judge.service import convert_generation, convert_judging, convert_metrics, convert_runs
from bsa_judge.service.draining import DRAINED_MESSAGE, RUN_DRAINED_MESSAGE, UntilDraining

_Request = TypeVar("_Request")
_Output = TypeVar("_Output")


class JudgeServicer(judge_pb2_grpc.JudgeServiceServicer):
    """The bsa.judge.v1.JudgeService implementation."""

    def __init__(self, app: Application) -> None:
        self._app = app
        self._draining = asyncio.Event()  # set when the server stops (see drain)

    # --- Generate (issue: generation) ---------------------------------------------------
    async def Generate(  # noqa: N802 - gRPC method name
        self,
        request: judge_pb2.GenerateRequest,
        context: grpc.aio.ServicerContext[judge_pb2.GenerateRequest, judge_pb2.GenerateResponse],
    ) -> AsyncIterator[judge_pb2.GenerateResponse]:
        core_request = convert_generation.generation_request(request)
        # Leaving this loop (client cancel, deadline) closes the samples, cancelling upstream.
        async with aclosing(self._app.generate(core_request)) as samples:
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
        trace = convert_judging.trace_input(request.trace, present=request.HasField("trace"))
        verdict = await self._app.judge_trace(
            trace, judge=request.judge, judges=tuple(request.judges)
        )
        return judge_pb2.JudgeTraceResponse(verdict=convert_judging.verdict_to_proto(verdict))

    async def JudgeTraces(  # noqa: N802
        self,
        request_iterator: AsyncIterator[judge_pb2.JudgeTracesRequest],
        context: grpc.aio.ServicerContext[
            judge_pb2.JudgeTracesRequest, judge_pb2.JudgeTracesResponse
        ],
    ) -> AsyncIterator[judge_pb2.JudgeTracesResponse]:
        verdicts = _until_drained(
            request_iterator,
            context,
            self._draining,
            lambda requests: self._app.judge_traces(convert_judging.stream_requests(requests)),
            DRAINED_MESSAGE,
        )
        async with aclosing(verdicts):
            async for key, verdict in verdicts:
                yield convert_judging.keyed_verdict(key, verdict)

    async def JudgeTraceBatches(  # noqa: N802
        self,
        request_iterator: AsyncIterator[judge_pb2.JudgeTraceBatchesRequest],
        context: grpc.aio.ServicerContext[
            judge_pb2.JudgeTraceBatchesRequest, judge_pb2.JudgeTraceBatchesResponse
        ],
    ) -> AsyncIterator[judge_pb2.JudgeTraceBatchesResponse]:
        batches = _until_drained(
            request_iterator,
            context,
            self._draining,
            lambda requests: self._app.judge_trace_batches(
                convert_judging.batch_requests(requests)
            ),
            DRAINED_MESSAGE,
        )
        async with aclosing(batches):
            async for batch in batches:
                for reply in convert_judging.verdict_batches(batch):
                    yield reply

    def drain(self) -> None:
        """The server is stopping: open JudgeTraces and EvaluateItems streams read no further
        message, deliver what those read produce, and end UNAVAILABLE (see UntilDraining)."""
        self._draining.set()

    # --- ComputeMetrics (issue: metrics) --------------------------------------------------
    async def ComputeMetrics(  # noqa: N802
        self,
        request: judge_pb2.ComputeMetricsRequest,
        context: grpc.aio.ServicerContext[
            judge_pb2.ComputeMetricsRequest, judge_pb2.ComputeMetricsResponse
        ],
    ) -> judge_pb2.ComputeMetricsResponse:
        options = convert_metrics.metrics_options(request)
        if request.WhichOneof("source") == "run_id":
            report = await self._app.score_run(request.run_id, options)
        else:
            # Up to millions of samples to convert: off the event loop. Bad samples raise
            # ScoredSampleError, an InvalidInput naming inline.samples[<row>].<field>.
            samples = await asyncio.to_thread(convert_metrics.inline_samples, request)
            report = await self._app.score(samples, options)
        return convert_metrics.metrics_response(report)

    # --- Runs ---------------------------------------------------------------------------
    async def CreateRun(  # noqa: N802
        self,
        request: judge_pb2.CreateRunRequest,
        context: grpc.aio.ServicerContext[judge_pb2.CreateRunRequest, judge_pb2.CreateRunResponse],
    ) -> judge_pb2.CreateRunResponse:
        view, created = await self._app.create_run(convert_runs.run_spec(request))
        return judge_pb2.CreateRunResponse(run=convert_runs.run_to_proto(view), created=created)

    async def GetRun(  # noqa: N802
        self,
        request: judge_pb2.GetRunRequest,
        context: grpc.aio.ServicerContext[judge_pb2.GetRunRequest, judge_pb2.GetRunResponse],
    ) -> judge_pb2.GetRunResponse:
        view = await self._app.get_run(request.run_id)
        return judge_pb2.GetRunResponse(run=convert_runs.run_to_proto(view))

    async def ListRuns(  # noqa: N802
        self,
        request: judge_pb2.ListRunsRequest,
        context: grpc.aio.ServicerContext[judge_pb2.ListRunsRequest, judge_pb2.ListRunsResponse],
    ) -> judge_pb2.ListRunsResponse:
        page = await self._app.list_runs(request.page_size, request.page_token)
        return judge_pb2.ListRunsResponse(
            runs=[convert_runs.run_to_proto(view) for view in page.runs],
            next_page_token=page.next_page_token,
        )

    async def ExportRun(  # noqa: N802
        self,
        request: judge_pb2.ExportRunRequest,
        context: grpc.aio.ServicerContext[judge_pb2.ExportRunRequest, judge_pb2.ExportRunResponse],
    ) -> AsyncIterator[judge_pb2.ExportRunResponse]:
        async with aclosing(self._app.export_run(request.run_id)) as records:
            async for record in records:
                yield convert_runs.export_response(record)

    async def EvaluateItems(  # noqa: N802
        self,
        request_iterator: AsyncIterator[judge_pb2.EvaluateItemsRequest],
        context: grpc.aio.ServicerContext[
            judge_pb2.EvaluateItemsRequest, judge_pb2.EvaluateItemsResponse
        ],
    ) -> AsyncIterator[judge_pb2.EvaluateItemsResponse]:
        # On SIGTERM, as JudgeTraces: no further item is read, the items read are finished,
        # and the stream ends UNAVAILABLE: the driver sends what is pending to a replica.
        outcomes = _until_drained(
            request_iterator,
            context,
            self._draining,
            lambda requests: self._app.evaluate_items(convert_runs.run_items(requests)),
            RUN_DRAINED_MESSAGE,
        )
        async with aclosing(outcomes):
            async for outcome in outcomes:
                yield convert_runs.evaluate_response(outcome)


async def _until_drained(
    request_iterator: AsyncIterator[_Request],
    context: grpc.aio.ServicerContext[Any, Any],
    draining: asyncio.Event,
    work: Callable[[AsyncIterator[_Request]], AsyncGenerator[_Output, None]],
    drained_message: str,
) -> AsyncGenerator[_Output, None]:
    """What `work` makes of a request stream that stops being read when the server drains:
    the stream is accepted at once (the SDK starts writing then), the outputs of what was
    read are all delivered, and a stream cut by draining then ends UNAVAILABLE with
    `drained_message`. Closing this generator (client cancel, deadline) closes `work`,
    cancelling what it has in flight."""
    await context.send_initial_metadata(())
    requests = UntilDraining(request_iterator, draining)
    outputs = work(requests)
    try:
        async with aclosing(outputs):
            async for output in outputs:
                yield output
    finally:
        requests.close()
    if requests.cut:
        await context.abort(grpc.StatusCode.UNAVAILABLE, drained_message)
