"""Optional bearer-token auth for every RPC but the health service.

Callers send `authorization: Bearer <token>` metadata. No token (or another scheme) gets
UNAUTHENTICATED; a token that is not one of ours gets PERMISSION_DENIED. Tokens are compared
in constant time and never appear in a status message or a log line.

grpc.health.v1.Health stays open because load balancers, Kubernetes probes and the
container HEALTHCHECK cannot send credentials, and it reveals nothing but SERVING. Server
reflection is NOT exempt: it needs a token like the JudgeService (grpcurl: `-H
'authorization: Bearer ...'`), so an unauthenticated caller learns nothing about the API.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any, NoReturn

import grpc

from bsa_judge.env_secrets import read_secret
from bsa_judge.service.interceptors.method_handler import (
    HandlerInterceptor,
    kind_of,
    with_behaviour,
)
from bsa_judge.settings import Settings

OPEN_SERVICES = frozenset({"grpc.health.v1.Health"})
_SCHEME = "bearer "


class AuthConfigError(ValueError):
    """Auth is configured but yields no usable token. The message never contains a token."""


def load_tokens(settings: Settings) -> frozenset[str] | None:
    """The accepted tokens, or None when auth is off (neither a file nor an env var is set).

    The file holds one token per line (blank lines and `#` comments ignored); the environment
    variable named by `auth_tokens_env` holds comma-separated tokens. Both may be combined.
    """
    if settings.auth_tokens_file is None and settings.auth_tokens_env is None:
        return None
    tokens: set[str] = set()
    if settings.auth_tokens_file is not None:
        tokens |= _tokens_from_file(settings.auth_tokens_file)
    if settings.auth_tokens_env is not None:
        value = read_secret(settings.auth_tokens_env)
        if not value:
            raise AuthConfigError(
                f"auth_tokens_env: environment variable {settings.auth_tokens_env} is not set "
                "or empty"
            )
        tokens |= {token.strip() for token in value.split(",") if token.strip()}
    if not tokens:
        raise AuthConfigError("auth is configured but no token was found (auth_tokens_*)")
    return frozenset(tokens)


def _tokens_from_file(path: Path) -> set[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise AuthConfigError(f"auth_tokens_file: cannot read {path}: {error.strerror}") from None
    return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}


class BearerTokenAuth(HandlerInterceptor):
    """Refuses RPCs without one of the accepted bearer tokens."""

    def __init__(self, tokens: Collection[str], open_services: Collection[str] = OPEN_SERVICES):
        if not tokens:
            raise AuthConfigError("BearerTokenAuth needs at least one token")
        self._tokens = tuple(token.encode() for token in tokens)
        self._open_services = frozenset(open_services)

    def rebuilt(
        self, handler: grpc.RpcMethodHandler[Any, Any], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        service = details.method.lstrip("/").rpartition("/")[0]
        if service in self._open_services:
            return handler
        refusal = self._refusal(details.invocation_metadata)
        if refusal is None:
            return handler
        return _refusing(handler, *refusal)

    def _refusal(self, metadata: Any) -> tuple[grpc.StatusCode, str] | None:
        """Why this call is refused, or None to let it through."""
        header = next((value for key, value in metadata or () if key == "authorization"), None)
        if not isinstance(header, str) or not header.lower().startswith(_SCHEME):
            return (
                grpc.StatusCode.UNAUTHENTICATED,
                "missing bearer token: send metadata 'authorization: Bearer <token>'",
            )
        if not self._accepts(header[len(_SCHEME) :].strip().encode()):
            return grpc.StatusCode.PERMISSION_DENIED, "the bearer token is not accepted"
        return None

    def _accepts(self, presented: bytes) -> bool:
        # Compare against every token without stopping early, so timing tells nothing.
        accepted = False
        for token in self._tokens:
            accepted |= hmac.compare_digest(presented, token)
        return accepted


def _refusing(
    handler: grpc.RpcMethodHandler[Any, Any], code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same kind that answers `code` without running the method."""

    async def refuse(_request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> NoReturn:
        await context.abort(code, message)

    async def refuse_stream(
        _request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        await context.abort(code, message)
        yield  # type: ignore[unreachable]  # makes an async generator, as streams need

    streaming_responses = kind_of(handler) in ("server_stream", "bidi_stream")
    return with_behaviour(handler, refuse_stream if streaming_responses else refuse)
