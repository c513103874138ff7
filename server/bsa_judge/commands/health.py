"""`bsa-judge health`: ask a running server's gRPC health service; exit 0 when it is SERVING.

The container HEALTHCHECK runs this. It reads the same BSA_JUDGE_* environment as the server
for the port, and connects over loopback.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import grpc


def register(subcommands: Any) -> None:
    """Add the `health` subcommand."""
    parser: argparse.ArgumentParser = subcommands.add_parser(
        "health", help="check that a running server answers SERVING"
    )
    parser.add_argument(
        "--address", help="host:port of the server (default: 127.0.0.1 and BSA_JUDGE_PORT)"
    )
    parser.add_argument(
        "--service", default="", help="service to ask about (default: the whole server)"
    )
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer")
    parser.add_argument("--tls-ca", type=Path, help="CA of the server certificate: use TLS")
    parser.add_argument("--tls-cert", type=Path, help="client certificate, for mTLS")
    parser.add_argument("--tls-key", type=Path, help="client key, for mTLS")
    parser.add_argument("--tls-server-name", help="name the server certificate is checked for")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the serving status; 0 when SERVING, 1 otherwise (unreachable included)."""
    # Imported here, not at the top: every other subcommand loads this module too.
    import grpc
    from grpc_health.v1 import health_pb2

    from bsa_judge.settings import Settings

    address = args.address or f"127.0.0.1:{Settings().port}"
    try:
        with _channel(address, args) as channel:
            check = channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )
            reply = check(health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout)
    except grpc.RpcError as error:
        # A failed call on a channel raises an RpcError that is also a grpc.Call.
        code: grpc.StatusCode = error.code()
        print(f"{address}: {code.name}")  # noqa: T201
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{address}: {status}")  # noqa: T201
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


def _channel(address: str, args: argparse.Namespace) -> grpc.Channel:
    import grpc

    if args.tls_ca is None:
        return grpc.insecure_channel(address)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=args.tls_ca.read_bytes(),
        private_key=args.tls_key.read_bytes() if args.tls_key else None,
        certificate_chain=args.tls_cert.read_bytes() if args.tls_cert else None,
    )
    options = []
    if args.tls_server_name:
        options.append(("grpc.ssl_target_name_override", args.tls_server_name))
    return grpc.secure_channel(address, credentials, options=options)
