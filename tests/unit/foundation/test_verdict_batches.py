"""The verdicts ready together go back in JudgeTraceBatches replies bounded by bytes."""

from __future__ import annotations

from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.judging.judgment import Verdict
from bsa_judge.judging.validation import TraceInput
from bsa_judge.judging.verdict import invalid_verdict
from bsa_judge.service.convert_judging import keyed_verdict, verdict_batches


def _verdict(error_bytes: int) -> Verdict:
    trace = TraceInput(query="q", risk_summary="r", scenario=Scenario.RISK_OMISSION)
    return invalid_verdict(trace, "e" * error_bytes)


def test_every_verdict_is_in_one_reply_in_order_within_the_byte_bound() -> None:
    keyed = [(f"k{index}", _verdict(1000)) for index in range(10)]
    one = keyed_verdict(*keyed[0]).ByteSize()
    replies = list(verdict_batches(keyed, max_bytes=3 * one))
    assert [[v.key for v in reply.verdicts] for reply in replies] == [
        ["k0", "k1", "k2"],
        ["k3", "k4", "k5"],
        ["k6", "k7", "k8"],
        ["k9"],
    ]
    assert all(reply.ByteSize() <= 3 * one + 3 * 8 for reply in replies)  # + field framing


def test_a_verdict_larger_than_the_bound_goes_alone_and_few_small_ones_share_a_reply() -> None:
    keyed = [("small-1", _verdict(10)), ("huge", _verdict(5000)), ("small-2", _verdict(10))]
    replies = list(verdict_batches(keyed, max_bytes=1000))
    assert [[v.key for v in reply.verdicts] for reply in replies] == [
        ["small-1"],
        ["huge"],
        ["small-2"],
    ]
    assert [[v.key for v in r.verdicts] for r in verdict_batches(keyed[::2])] == [
        ["small-1", "small-2"]
    ]
