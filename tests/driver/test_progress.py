"""What the user sees during a run: plain lines off a terminal, a rich bar on one; failed
samples, failed verdicts and refused items count as errors."""

from __future__ import annotations

import io
import re

from bsa.judge.v1 import judge_pb2
from bsa_judge.driver.progress import Counts, ProgressView


def response(
    item_id: str, *, sample_status: int = 1, verdict_status: int = 1, error: str = ""
) -> judge_pb2.EvaluateItemsResponse:
    if error:
        return judge_pb2.EvaluateItemsResponse(item_id=item_id, error=error)
    return judge_pb2.EvaluateItemsResponse(
        item_id=item_id,
        sample=judge_pb2.Sample(status=sample_status),  # type: ignore[arg-type]
        verdict=judge_pb2.Verdict(status=verdict_status),  # type: ignore[arg-type]
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_plain_lines_count_items_samples_verdicts_and_errors() -> None:
    log = io.StringIO()
    with ProgressView(Counts(items_total=3, samples_total=6), log, every_s=0) as view:
        view.update(response("a"), item_done=False)
        view.update(response("a", sample_status=judge_pb2.SAMPLE_STATUS_TIMEOUT), item_done=True)
        view.update(response("b", verdict_status=judge_pb2.JUDGMENT_STATUS_TIMEOUT), False)
        no_reasoning = response(
            "b",
            sample_status=judge_pb2.SAMPLE_STATUS_NO_REASONING,
            verdict_status=judge_pb2.JUDGMENT_STATUS_NOT_JUDGED,
        )
        view.update(no_reasoning, item_done=True)
        view.update(response("c", error="item.query: empty"), item_done=False)
    lines = [re.sub(r" rate \S+ eta \S+$", "", line) for line in log.getvalue().splitlines()]
    assert lines == [
        "items 0/3 samples 1/6 verdicts 1 errors 0",
        "items 1/3 samples 2/6 verdicts 1 errors 1",
        "items 1/3 samples 3/6 verdicts 1 errors 2",
        "items 2/3 samples 4/6 verdicts 2 errors 2",
        "items 2/3 samples 4/6 verdicts 2 errors 3",
        "items 2/3 samples 4/6 verdicts 2 errors 3",  # the last line, on leaving
    ]


def test_on_a_terminal_a_progress_bar_shows_the_counts() -> None:
    terminal = Terminal()
    with ProgressView(Counts(items_total=1, samples_total=2), terminal) as view:
        view.update(response("a"), item_done=False)
        view.update(response("a"), item_done=True)
        view.note("stream broke (UNAVAILABLE)")
    shown = terminal.getvalue()
    assert "2/2" in shown
    assert "items 1/1  verdicts 2  errors 0" in shown
    assert "stream broke (UNAVAILABLE)" in shown
