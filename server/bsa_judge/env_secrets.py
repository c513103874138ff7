"""Secrets: the one place that reads them from the process environment.

Settings hold only the NAME of an environment variable (`api_key_env`, `auth_tokens_env`),
never a secret; the value is read here when a component is built, and never logged.
"""

from __future__ import annotations

import os


def read_secret(variable: str) -> str:
    """The value of the environment variable `variable`, stripped; empty when unset."""
    return os.environ.get(variable, "").strip()
