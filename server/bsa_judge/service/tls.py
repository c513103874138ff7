"""Transport security from certificate files: TLS, or mutual TLS when a client CA is given."""

from __future__ import annotations

from pathlib import Path

import grpc

from bsa_judge.settings import Settings


class TLSConfigError(ValueError):
    """The TLS settings are incomplete or a file cannot be read."""


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """Credentials for a secure port, or None to serve plaintext.

    `tls_cert` and `tls_key` (PEM) turn TLS on; `tls_client_ca` additionally requires every
    client to present a certificate signed by that CA (mTLS).
    """
    if settings.tls_cert is None and settings.tls_key is None:
        if settings.tls_client_ca is not None:
            raise TLSConfigError("tls_client_ca needs tls_cert and tls_key")
        return None
    if settings.tls_cert is None or settings.tls_key is None:
        missing = "tls_cert" if settings.tls_cert is None else "tls_key"
        raise TLSConfigError(f"{missing} is required when the other TLS file is set")
    client_ca = _read("tls_client_ca", settings.tls_client_ca) if settings.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(_read("tls_key", settings.tls_key), _read("tls_cert", settings.tls_cert))],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


def _read(field: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TLSConfigError(f"{field}: cannot read {path}: {error.strerror}") from None
