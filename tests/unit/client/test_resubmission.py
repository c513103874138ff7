"""Which ended streams the SDK follows with a new one carrying the unanswered traces."""

from __future__ import annotations

import grpc
import pytest
from bsa_judge_client.resubmission import CORE_WRITE_FAILURE, resubmits

from tests.driver.fake_client import RpcFailure


@pytest.mark.parametrize(
    ("code", "details", "expected"),
    [
        (grpc.StatusCode.UNAVAILABLE, "the server is shutting down", True),
        # grpc.aio's status when our write raced a draining server's end (grpc/grpc#36066)
        (grpc.StatusCode.INTERNAL, CORE_WRITE_FAILURE, True),
        (grpc.StatusCode.INTERNAL, "internal error (request id req-42)", False),  # a bug
        (grpc.StatusCode.INVALID_ARGUMENT, "requests[3]: cannot be decoded", False),
        (grpc.StatusCode.UNAUTHENTICATED, "missing bearer token", False),
    ],
)
def test_a_stream_is_followed_by_another_only_when_the_server_had_nothing_more(
    code: grpc.StatusCode, details: str, expected: bool
) -> None:
    assert resubmits(RpcFailure(code, details), failed_in_a_row=1, resubmissions=3) is expected


def test_resubmissions_in_a_row_without_a_verdict_are_bounded() -> None:
    ended = RpcFailure(grpc.StatusCode.UNAVAILABLE, "draining")
    assert resubmits(ended, failed_in_a_row=3, resubmissions=3)
    assert not resubmits(ended, failed_in_a_row=4, resubmissions=3)
