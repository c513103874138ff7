"""The Prometheus `/metrics` HTTP endpoint, on its own port beside the gRPC one."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

import prometheus_client
from prometheus_client import CollectorRegistry


@dataclass
class PrometheusEndpoint:
    """prometheus-client's HTTP server exporting the default registry (bsa_judge.telemetry),
    or the workers' summed metrics (bsa_judge.service.prometheus_multiprocess)."""

    server: WSGIServer
    thread: threading.Thread

    @classmethod
    def start(
        cls, host: str, port: int, registry: CollectorRegistry = prometheus_client.REGISTRY
    ) -> PrometheusEndpoint:
        """Serve /metrics of `registry` on host:port (0 picks a free port) from a daemon
        thread."""
        # The *_created series double the series count and no dashboard of ours reads them.
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        server, thread = prometheus_client.start_http_server(port, addr=host, registry=registry)
        return cls(server=server, thread=thread)

    @property
    def port(self) -> int:
        """The port actually bound."""
        return int(self.server.server_address[1])

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
