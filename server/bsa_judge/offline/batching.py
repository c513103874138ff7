"""Async front of the offline judge: gathers the traces in flight into one batch.

Requests wait a few milliseconds (or until the batch is full) so that one forward pass
serves many traces; the pass runs in a worker thread, leaving the event loop free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from bsa_judge.offline.judge import OfflineCase, OfflineJudgment


class BatchJudge(Protocol):
    """What the batcher drives: OfflineJudge is one."""

    def judge_batch(self, cases: Sequence[OfflineCase]) -> list[OfflineJudgment]:
        """Judge every case, in order."""
        ...


class BatchingOfflineJudge:
    """`await judge(case)` from many tasks; batches of up to `max_batch` cases are judged."""

    def __init__(
        self, judge: BatchJudge, *, max_batch: int = 64, max_wait_seconds: float = 0.005
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._judge = judge
        self._max_batch = max_batch
        self._max_wait = max_wait_seconds
        self._queue: asyncio.Queue[tuple[OfflineCase, asyncio.Future[OfflineJudgment]]] = (
            asyncio.Queue()
        )
        self._worker: asyncio.Task[None] | None = None
        #: Sizes of the batches judged so far (for tests and metrics).
        self.batch_sizes: list[int] = []

    async def judge(self, case: OfflineCase) -> OfflineJudgment:
        """The judgment of one case, judged together with the others in flight."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="offline-judge-batcher")
        future: asyncio.Future[OfflineJudgment] = asyncio.get_running_loop().create_future()
        await self._queue.put((case, future))
        return await future

    async def aclose(self) -> None:
        """Stop the batching task; requests still waiting get CancelledError."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            future.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self._max_wait
            while len(batch) < self._max_batch:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            live = [(case, future) for case, future in batch if not future.done()]
            if not live:
                continue
            self.batch_sizes.append(len(live))
            try:
                results = await asyncio.to_thread(self._judge.judge_batch, [c for c, _ in live])
            except Exception as error:  # every waiting caller learns why its trace failed
                for _, future in live:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)
