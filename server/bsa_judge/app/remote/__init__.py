"""The CLI's client-side use cases: work done against running bsa-judge servers through the
client SDK (`bsa_judge_client`).

`bsa-judge run` drives a benchmark run (`driving`), `bsa-judge report` reads stored runs of a
server besides files (`reporting`), `bsa-judge calibrate --server` judges gold traces on
servers (`calibration`). They are the application layer of those commands: the commands parse
arguments, call one of these and render, and reach nothing deeper. They live apart from the
service's use cases because they speak the wire protocol (protobuf messages, gRPC statuses)
through the SDK, which the use cases the servicer calls never do; tests/unit/test_layering.py
holds both sides to that. This module stays light: the commands import it to register.
"""

from __future__ import annotations

from bsa_judge.env_secrets import read_secret

#: The environment variable holding the bearer token sent to the server when none is given.
TOKEN_ENV = "BSA_JUDGE_TOKEN"  # noqa: S105 - a variable name


def bearer_token(given: str | None) -> str | None:
    """The token to send: `given`, else the one in TOKEN_ENV, else none."""
    return given or read_secret(TOKEN_ENV) or None
