"""TLS and mutual TLS from certificate files."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from bsa_judge.service.tls import TLSConfigError, server_credentials
from bsa_judge.settings import Settings
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.ops.certificates import Pki, make_pki
from tests.support.serving import serving

SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


async def _health(
    channel: grpc.aio.Channel,
) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=5
    )
    return reply.status


async def test_a_client_trusting_the_ca_gets_served_over_tls(pki: Pki) -> None:
    async with serving(tls_cert=pki.server_cert, tls_key=pki.server_key) as running:
        credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
        async with grpc.aio.secure_channel(f"127.0.0.1:{running.port}", credentials) as channel:
            assert await _health(channel) == SERVING


async def test_a_plaintext_client_cannot_talk_to_a_tls_server(pki: Pki) -> None:
    async with serving(tls_cert=pki.server_cert, tls_key=pki.server_key) as running:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _health(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mtls_serves_a_client_with_a_certificate_from_the_client_ca(pki: Pki) -> None:
    async with serving(
        tls_cert=pki.server_cert, tls_key=pki.server_key, tls_client_ca=pki.ca
    ) as running:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=pki.ca.read_bytes(),
            private_key=pki.client_key.read_bytes(),
            certificate_chain=pki.client_cert.read_bytes(),
        )
        async with grpc.aio.secure_channel(f"127.0.0.1:{running.port}", credentials) as channel:
            assert await _health(channel) == SERVING


async def test_mtls_rejects_a_client_without_a_certificate(pki: Pki) -> None:
    async with serving(
        tls_cert=pki.server_cert, tls_key=pki.server_key, tls_client_ca=pki.ca
    ) as running:
        credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
        async with grpc.aio.secure_channel(f"127.0.0.1:{running.port}", credentials) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _health(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_certificate_without_its_key_is_refused_naming_the_missing_field(pki: Pki) -> None:
    with pytest.raises(TLSConfigError) as refused:
        server_credentials(Settings(tls_cert=pki.server_cert))
    assert str(refused.value) == "tls_key is required when the other TLS file is set"


def test_a_client_ca_without_a_server_certificate_is_refused() -> None:
    with pytest.raises(TLSConfigError) as refused:
        server_credentials(Settings(tls_client_ca=Path("ca.pem")))
    assert str(refused.value) == "tls_client_ca needs tls_cert and tls_key"


def test_an_unreadable_certificate_file_is_named(tmp_path: Path, pki: Pki) -> None:
    missing = tmp_path / "absent.pem"
    with pytest.raises(TLSConfigError) as refused:
        server_credentials(Settings(tls_cert=missing, tls_key=pki.server_key))
    assert str(refused.value) == f"tls_cert: cannot read {missing}: No such file or directory"


def test_no_tls_settings_means_plaintext() -> None:
    assert server_credentials(Settings()) is None
