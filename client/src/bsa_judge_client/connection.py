"""How a client connects: target, TLS, retry policy and load balancing, as channel options.

Retries are gRPC's own (the service-config `retryPolicy`), so they are transparent: a call
that meets UNAVAILABLE (server restarting, pod going away, connection refused) is retried
with exponential backoff before the caller sees anything. Streaming calls are retried only
until their first response arrives, as gRPC does; EvaluateItems not at all (NOT_RETRIED).

For a headless Kubernetes Service, connect to `dns:///<service>.<namespace>.svc:50051` with
`load_balancing="round_robin"`: the DNS resolver returns every pod and the channel spreads
calls over all of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import grpc

SERVICE = "bsa.judge.v1.JudgeService"

LoadBalancing = Literal["pick_first", "round_robin"]

# Extra metadata for one call, e.g. (("x-request-id", "batch-7/trace-19"),).
Metadata = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class RetryPolicy:
    """gRPC retry policy for UNAVAILABLE (and any other codes listed).

    Attributes:
        max_attempts: Tries in all, the first included (gRPC caps this at 5).
        initial_backoff_s: Upper bound of the first random backoff, in seconds.
        max_backoff_s: Upper bound of any backoff, in seconds.
        backoff_multiplier: Growth of the backoff bound after each attempt.
        retryable_codes: Status codes that are retried.
    """

    max_attempts: int = 5
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 5.0
    backoff_multiplier: float = 2.0
    retryable_codes: tuple[grpc.StatusCode, ...] = (grpc.StatusCode.UNAVAILABLE,)

    def as_service_config(self) -> dict[str, Any]:
        """The `retryPolicy` object of a gRPC service config."""
        return {
            "maxAttempts": self.max_attempts,
            "initialBackoff": f"{self.initial_backoff_s}s",
            "maxBackoff": f"{self.max_backoff_s}s",
            "backoffMultiplier": self.backoff_multiplier,
            "retryableStatusCodes": [code.name for code in self.retryable_codes],
        }


@dataclass(frozen=True)
class Tls:
    """TLS for the channel: the CA to trust, and a client certificate for mutual TLS.

    With every field None, the system's trusted roots are used. Build it from PEM files with
    `Tls.from_files`.

    Attributes:
        root_certificates: PEM of the CA(s) that signed the server certificate.
        certificate_chain: PEM of the client certificate (mTLS).
        private_key: PEM of the client private key (mTLS).
        server_name: Override of the name checked against the server certificate.
    """

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    server_name: str | None = None

    @classmethod
    def from_files(
        cls,
        ca: str | Path | None = None,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        server_name: str | None = None,
    ) -> Tls:
        """TLS from PEM files: `ca` to trust, `cert` and `key` for mutual TLS."""

        def read(path: str | Path | None) -> bytes | None:
            return None if path is None else Path(path).read_bytes()

        return cls(read(ca), read(cert), read(key), server_name)

    def credentials(self) -> grpc.ChannelCredentials:
        """The gRPC channel credentials."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )


#: Methods gRPC never retries by itself: EvaluateItems streams resume through the caller's
#: `PendingItems` (the driver sends what is pending again). A transparent retry of such a
#: stream, broken by a server killed before its first response, hung the call for good: the
#: new attempt never reached the restarted server while the request iterator waited.
NOT_RETRIED = ("EvaluateItems",)


def service_config(retry: RetryPolicy | None, load_balancing: LoadBalancing) -> str:
    """The JSON service config: retries for every JudgeService method but NOT_RETRIED, and
    the balancer."""
    config: dict[str, Any] = {"loadBalancingConfig": [{load_balancing: {}}]}
    if retry is not None:
        config["methodConfig"] = [
            {"name": [{"service": SERVICE}], "retryPolicy": retry.as_service_config()},
            # The most specific name wins: these methods get no retry policy.
            {"name": [{"service": SERVICE, "method": method} for method in NOT_RETRIED]},
        ]
    return json.dumps(config)


def channel_options(
    retry: RetryPolicy | None,
    load_balancing: LoadBalancing,
    tls: Tls | None,
    max_message_bytes: int,
    extra: tuple[tuple[str, Any], ...],
) -> list[tuple[str, Any]]:
    """Channel arguments for these choices; `extra` comes last and wins."""
    options: list[tuple[str, Any]] = [
        ("grpc.service_config", service_config(retry, load_balancing)),
        ("grpc.enable_retries", 1 if retry is not None else 0),
        # Our config, not one a DNS TXT record might carry.
        ("grpc.service_config_disable_resolution", 1),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]
    if tls is not None and tls.server_name is not None:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return [*options, *extra]


def call_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Metadata sent on every call: the bearer token when there is one.

    Sent as plain metadata rather than call credentials, which gRPC only allows on secure
    channels; this way the token also reaches a server on an insecure loopback channel.
    """
    return (("authorization", f"Bearer {token}"),) if token else ()
