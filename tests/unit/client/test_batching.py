"""The SDK's packing of traces into JudgeTraceBatchesRequest messages (blocking client)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from bsa.judge.v1 import judge_pb2
from bsa_judge_client.batching import (
    BATCH_BYTES,
    END,
    NOTHING_AT_HAND,
    Batch,
    ReadAhead,
    trace_batches,
)
from bsa_judge_client.resubmission import Unanswered


def _trace(key: str, reasoning_bytes: int = 10) -> judge_pb2.JudgeTracesRequest:
    trace = judge_pb2.Trace(reasoning="r" * reasoning_bytes)
    return judge_pb2.JudgeTracesRequest(key=key, trace=trace)


def _keys(messages: list[judge_pb2.JudgeTraceBatchesRequest]) -> list[list[str]]:
    return [[trace.key for trace in message.traces] for message in messages]


class _Scripted(ReadAhead):
    """A read-ahead without a thread: `None` in the script is a moment with nothing read."""

    def __init__(self, script: list[Any]) -> None:
        super().__init__(iter(()), 1)
        self._script = script

    def take(self, *, wait: bool) -> Any:
        while self._script and self._script[0] is None:
            if not wait:
                self._script.pop(0)
                return NOTHING_AT_HAND
            self._script.pop(0)
        return self._script.pop(0) if self._script else END


def _packed(script: list[Any], size: int) -> list[judge_pb2.JudgeTraceBatchesRequest]:
    return list(trace_batches(Unanswered(), _Scripted(script), size, lambda: True, lambda: True))


def test_a_batch_is_bounded_by_count_and_by_bytes_but_takes_one_trace_of_any_size() -> None:
    batch = Batch(3)
    big = _trace("big", BATCH_BYTES)
    assert batch.fits(big.ByteSize())  # an empty batch takes anything: a huge one goes alone
    batch.add(big, big.ByteSize())
    assert not batch.fits(_trace("small").ByteSize())
    assert _keys([batch.take()]) == [["big"]]
    assert len(batch) == 0
    for key in ("a", "b", "c"):
        small = _trace(key)
        assert batch.fits(small.ByteSize())
        batch.add(small, small.ByteSize())
    assert batch.full
    assert _keys([batch.take()]) == [["a", "b", "c"]]


def test_traces_at_hand_go_by_count_and_by_bytes() -> None:
    small = [_trace(f"s{i}") for i in range(5)]
    quarter = [_trace(f"q{i}", BATCH_BYTES // 4) for i in range(5)]
    assert _keys(_packed([*small, *quarter], 4)) == [
        ["s0", "s1", "s2", "s3"],
        ["s4", "q0", "q1", "q2"],  # four small-or-quarter traces fit in 4 MiB
        ["q3", "q4"],
    ]
    # Three quarters and their framing fill a message: the fourth starts the next.
    assert _keys(_packed(quarter, 10)) == [["q0", "q1", "q2"], ["q3", "q4"]]


def test_a_batch_goes_as_soon_as_no_next_trace_is_at_hand() -> None:
    script = [_trace("a"), _trace("b"), None, _trace("c"), None, None, _trace("d")]
    assert _keys(_packed(script, 64)) == [["a", "b"], ["c"], ["d"]]


def test_a_batch_goes_when_no_slot_is_free_and_the_unanswered_go_first() -> None:
    unanswered = Unanswered()
    unanswered.add(_trace("again"))
    free = [2]

    def try_take() -> bool:
        if free[0] == 0:
            return False
        free[0] -= 1
        return True

    def take() -> bool:  # with no slot free, a verdict comes back while the sender waits
        if free[0] == 0:
            free[0] += 1
        return try_take()

    script = [_trace("a"), _trace("b"), _trace("c")]
    messages = list(trace_batches(unanswered, _Scripted(script), 64, take, try_take))
    assert _keys(messages) == [["again", "a"], ["b"], ["c"]]
    assert sorted(m.key for m in unanswered.messages()) == ["a", "again", "b", "c"]


def test_closing_a_read_ahead_ends_its_thread_even_on_an_endless_source() -> None:
    def endless() -> Iterator[judge_pb2.JudgeTracesRequest]:
        number = 0
        while True:
            number += 1
            yield _trace(f"t{number}")

    ahead = ReadAhead(endless(), 2)
    assert ahead.take(wait=True).key == "t1"
    readers = [thread for thread in threading.enumerate() if thread.name == "judge-traces"]
    assert len(readers) == 1  # blocked on a full queue: the caller has stopped taking
    ahead.close()
    readers[0].join(timeout=10)
    assert not readers[0].is_alive()
