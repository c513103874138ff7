"""A throwaway PKI for TLS tests, made with the openssl command line: a CA, a server
certificate for localhost and 127.0.0.1, and a client certificate."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class Pki:
    """Paths of the PEM files."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(directory: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)


def _signed(directory: Path, name: str, subject: str, *extensions: str) -> None:
    """name.key and name.pem, signed by ca.key, carrying `extensions` from the request."""
    added = [arg for extension in extensions for arg in ("-addext", extension)]
    request = ["req", "-new", *_EC_KEY, "-subj", subject, *added]
    _openssl(directory, *request, "-keyout", f"{name}.key", "-out", f"{name}.csr")
    signing = ["x509", "-req", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"]
    _openssl(directory, *signing, "-days", "2", "-copy_extensions", "copy",
             "-in", f"{name}.csr", "-out", f"{name}.pem")  # fmt: skip


def make_pki(directory: Path) -> Pki:
    """Create the CA, server and client key pairs in `directory`."""
    authority = ["req", "-x509", *_EC_KEY, "-days", "2", "-subj", "/CN=bsa-judge test CA"]
    _openssl(directory, *authority, "-keyout", "ca.key", "-out", "ca.pem",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    server_names = "subjectAltName=DNS:localhost,IP:127.0.0.1"
    _signed(directory, "server", "/CN=localhost", server_names, "extendedKeyUsage=serverAuth")
    _signed(directory, "client", "/CN=bsa-judge test client", "extendedKeyUsage=clientAuth")
    return Pki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
    )
