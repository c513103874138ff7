"""When an upstream attempt is tried again, and after how long: the openai SDK's rules, kept
so that moving off the SDK changes nothing an upstream sees.

Retried: a timeout, a connection failure, a reply that is not a JSON object (a body cut
short), and the statuses 408, 409, 429 and 5xx, unless the reply says `x-should-retry:
false` (and any status when it says `true`). The wait honours the reply's `retry-after-ms`
or `Retry-After` (seconds or an HTTP date) when it asks for more than 0 and at most 60
seconds; otherwise it is 0.5 s doubled per retry made, at most 8 s, less up to 25% jitter.
The waiting and counting is tenacity's (`backends/endpoint.py`).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bsa_judge.chat.model import FailureCause

_MAX_RETRY_AFTER_S = 60.0
_INITIAL_DELAY_S = 0.5
_MAX_DELAY_S = 8.0

# The failure details callers see (the names the openai SDK's exceptions had; tests and
# clients read them): a status reads "HTTP <code>".
TIMEOUT_DETAIL = "APITimeoutError"
CONNECTION_DETAIL = "APIConnectionError"
NOT_JSON_DETAIL = "reply is not JSON"


class AttemptFailed(Exception):  # noqa: N818 - one attempt's outcome, not the call's
    """One attempt of a call failed.

    `cause`: what the call fails with if this is the last attempt; `retry_cause`: the cause
    its retry is counted under (a 408 retried is a timeout; once final, a client error).
    """

    def __init__(
        self,
        cause: FailureCause,
        detail: str,
        *,
        retryable: bool,
        retry_cause: FailureCause | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail
        self.retryable = retryable
        self.retry_cause = retry_cause or cause
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class StatusReply:
    """What decides the retry of a reply with an error status."""

    status: int
    headers: Mapping[str, str]


def status_failure(reply: StatusReply) -> AttemptFailed:
    """The failure an error status stands for, with its retry decision."""
    status = reply.status
    if status == 429:
        cause = FailureCause.RATE_LIMITED
    elif status >= 500:
        cause = FailureCause.SERVER_ERROR
    else:
        cause = FailureCause.CLIENT_ERROR
    retry_cause = FailureCause.TIMEOUT if status == 408 else cause
    should_retry = reply.headers.get("x-should-retry")
    if should_retry == "true":
        retryable = True
    elif should_retry == "false":
        retryable = False
    else:
        retryable = status in (408, 409, 429) or status >= 500
    return AttemptFailed(
        cause,
        f"HTTP {status}",
        retryable=retryable,
        retry_cause=retry_cause,
        retry_after_s=retry_after(reply.headers),
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The seconds `retry-after-ms` or `Retry-After` asks for; None when neither is usable."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    when = email.utils.parsedate_tz(value)
    if when is None:
        return None
    return float(email.utils.mktime_tz(when) - time.time())


def delay_before_retry(failure: AttemptFailed, retries_made: int) -> float:
    """Seconds to wait before the retry that follows `failure` (`retries_made` before it)."""
    asked = failure.retry_after_s
    if asked is not None and 0 < asked <= _MAX_RETRY_AFTER_S:
        return asked
    delay = min(_INITIAL_DELAY_S * 2.0**retries_made, _MAX_DELAY_S)
    return delay * (1 - 0.25 * random.random())
