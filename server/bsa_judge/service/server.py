"""Server assembly: the one place that wires servicer, interceptors, health and reflection."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from bsa.judge.v1 import judge_pb2, judge_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from bsa_judge.app.application import Application
from bsa_judge.service.interceptors.auth import BearerTokenAuth, load_tokens
from bsa_judge.service.interceptors.decoding import RequestDecodingInterceptor
from bsa_judge.service.interceptors.errors import DomainErrorInterceptor
from bsa_judge.service.interceptors.heavy import HeavyCallLimit
from bsa_judge.service.interceptors.logging import RequestLogInterceptor
from bsa_judge.service.interceptors.prometheus import PrometheusInterceptor
from bsa_judge.service.prometheus_endpoint import PrometheusEndpoint
from bsa_judge.service.servicer import JudgeServicer
from bsa_judge.service.tls import server_credentials
from bsa_judge.settings import Settings

SERVICE_NAME = judge_pb2.DESCRIPTOR.services_by_name["JudgeService"].full_name


@dataclass
class RunningServer:
    """A started server and what it serves."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    app: Application
    servicer: JudgeServicer
    prometheus: PrometheusEndpoint | None = None  # the /metrics endpoint, when metrics_port is set

    async def stop(self, grace_s: float | None = None) -> None:
        """Flip health to NOT_SERVING, refuse new RPCs, let in-flight ones finish, close.

        Open JudgeTraces streams stop reading at once: they deliver the verdicts of the
        traces they have read, then end UNAVAILABLE for the client to send the rest again
        elsewhere (bsa_judge.service.draining).
        """
        await self.health.enter_graceful_shutdown()
        self.servicer.drain()
        await self.server.stop(grace_s)
        if self.prometheus is not None:
            self.prometheus.stop()
        await self.app.aclose()


async def start_server(settings: Settings, app: Application) -> RunningServer:
    """Build and start the server on settings.host:settings.port (0 picks a free port)."""
    options = [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.keepalive_time_ms", int(settings.keepalive_time_s * 1000)),
        ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout_s * 1000)),
    ]
    # With workers, every worker binds the same port and the kernel spreads new connections
    # over them; with reuse_port, a successor server may bind it beside this one (a restart
    # without downtime). Otherwise the port is this server's alone: gRPC would set
    # SO_REUSEPORT on Linux by default, and a second server started by mistake on a taken
    # port would bind it and take a share of the connections, silently.
    shared = settings.workers > 1 or settings.reuse_port
    options.append(("grpc.so_reuseport", 1 if shared else 0))
    if settings.max_connection_age_s is not None:
        # GOAWAY after this age (calls in flight go on): clients reconnect and re-resolve.
        options.append(("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000)))
    credentials = server_credentials(settings)  # bad TLS settings fail before binding
    tokens = load_tokens(settings)
    # Outermost first. The request log and the Prometheus counts wrap everything, so calls
    # refused by auth are logged with their request id and counted with their code too; auth
    # refuses before the servicer runs; the error mapping sits next to the servicer, so
    # everything outside it sees the final status code; requests are decoded innermost, so
    # that undecodable bytes are logged, counted, refused by auth and answered
    # INVALID_ARGUMENT like any other bad input; heavy calls past their limit are refused
    # before their request is decoded.
    interceptors: list[grpc.aio.ServerInterceptor] = [
        RequestLogInterceptor(),
        PrometheusInterceptor(),
        *([BearerTokenAuth(tokens)] if tokens else []),
        DomainErrorInterceptor(),
        HeavyCallLimit(settings.heavy_request_bytes, settings.max_heavy_calls),
        RequestDecodingInterceptor(),
    ]
    server = grpc.aio.server(interceptors=interceptors, options=options)
    servicer = JudgeServicer(app)
    judge_pb2_grpc.add_JudgeServiceServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            SERVICE_NAME,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    address = f"{settings.host}:{settings.port}"
    if credentials is not None:
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    await server.start()
    prometheus = None
    if settings.metrics_port is not None:
        prometheus = PrometheusEndpoint.start(settings.metrics_host, settings.metrics_port)
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(
        server=server,
        port=port,
        health=health_servicer,
        app=app,
        servicer=servicer,
        prometheus=prometheus,
    )
