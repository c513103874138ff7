"""`bsa-judge health`, the container HEALTHCHECK: exit 0 only when the server is SERVING."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bsa_judge.cli import main

from tests.ops.certificates import make_pki
from tests.support.serving import serving


async def _health(*argv: str) -> int:
    """Run the command; its output is read among the lines the in-process server logs."""
    # The command blocks; the server runs on this event loop, so the command gets a thread.
    return await asyncio.to_thread(main, ["health", *argv])


async def test_a_serving_server_is_healthy(capsys: pytest.CaptureFixture[str]) -> None:
    async with serving() as running:
        code = await _health("--address", f"127.0.0.1:{running.port}")
    assert code == 0
    assert f"127.0.0.1:{running.port}: SERVING" in capsys.readouterr().out.splitlines()


async def test_an_unknown_service_is_unhealthy(capsys: pytest.CaptureFixture[str]) -> None:
    async with serving() as running:
        address = f"127.0.0.1:{running.port}"
        code = await _health("--address", address, "--service", "no.such.Service")
    assert code == 1
    assert f"{address}: NOT_FOUND" in capsys.readouterr().out.splitlines()


async def test_a_server_that_is_not_there_is_unhealthy(capsys: pytest.CaptureFixture[str]) -> None:
    async with serving() as running:
        address = f"127.0.0.1:{running.port}"
    code = await _health("--address", address, "--timeout", "1")
    assert code == 1
    assert f"{address}: UNAVAILABLE" in capsys.readouterr().out.splitlines()


async def test_the_health_check_speaks_mtls(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    async with serving(
        tls_cert=pki.server_cert, tls_key=pki.server_key, tls_client_ca=pki.ca
    ) as running:
        address = f"127.0.0.1:{running.port}"
        with_cert = await _health("--address", address, "--tls-ca", str(pki.ca),
                                  "--tls-cert", str(pki.client_cert),
                                  "--tls-key", str(pki.client_key))  # fmt: skip
        without_cert = await _health("--address", address, "--tls-ca", str(pki.ca))
    assert (with_cert, without_cert) == (0, 1)


async def test_the_health_check_can_check_the_certificate_for_another_name(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path)  # the server certificate names localhost and 127.0.0.1
    async with serving(tls_cert=pki.server_cert, tls_key=pki.server_key) as running:
        address = f"127.0.0.1:{running.port}"
        ca = ("--address", address, "--tls-ca", str(pki.ca))
        as_localhost = await _health(*ca, "--tls-server-name", "localhost")
        as_stranger = await _health(*ca, "--tls-server-name", "judge.example.com")
    assert (as_localhost, as_stranger) == (0, 1)
