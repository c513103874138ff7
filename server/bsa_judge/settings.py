"""Settings, the single owner of configuration.

Precedence, highest first: command-line flags, environment variables (`BSA_JUDGE_*`, nested
fields with `__`), the optional config file (TOML or YAML, `--config` or `BSA_JUDGE_CONFIG`),
then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

CONFIG_ENV = "BSA_JUDGE_CONFIG"


class JudgeBackendSettings(BaseModel):
    """One OpenAI-compatible judge endpoint."""

    name: str
    base_url: str
    model: str
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable that holds the API key."
    )
    max_concurrency: int = Field(default=64, ge=1)
    request_timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=2048, ge=1)
    structured_output: bool = Field(
        default=False, description="Send a JSON-schema response_format (the backend supports it)."
    )


class Settings(BaseSettings):
    """Everything the server can be told."""

    model_config = SettingsConfigDict(
        env_prefix="BSA_JUDGE_", env_nested_delimiter="__", extra="forbid"
    )

    # Transport
    host: str = "127.0.0.1"
    port: int = Field(default=50051, ge=0, le=65535)
    max_message_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    keepalive_time_s: float = Field(default=30.0, gt=0)
    keepalive_timeout_s: float = Field(default=10.0, gt=0)
    grace_period_s: float = Field(default=30.0, ge=0)

    # Logging
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # Prometheus /metrics endpoint; 0 picks a free port, None disables it.
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=9464, ge=0, le=65535)

    # Security
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = Field(default=None, description="Require client certs (mTLS).")
    auth_tokens_file: Path | None = None
    auth_tokens_env: str | None = Field(
        default=None, description="Name of an environment variable holding comma-separated tokens."
    )

    # Judging
    judges: list[JudgeBackendSettings] = Field(default_factory=list)
    default_judge: str | None = None
    judge_prompts: Path | None = Field(
        default=None, description="Folder of official-format judge prompt files."
    )
    judge_reasks: int = Field(default=2, ge=0, description="Re-asks after unparseable output.")
    max_field_bytes: int = Field(default=256 * 1024, ge=1)
    stream_max_in_flight: int = Field(default=256, ge=1)
    verdict_cache_size: int = Field(default=100_000, ge=0)

    # Generation
    backends: Path | None = Field(default=None, description="Models file (TOML or YAML).")
    max_k: int = Field(default=64, ge=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_ENV)
        if config_file:
            sources.append(_file_source(settings_cls, Path(config_file)))
        return tuple(sources)


def _file_source(settings_cls: type[BaseSettings], path: Path) -> PydanticBaseSettingsSource:
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    if path.suffix in (".yaml", ".yml"):
        return YamlConfigSettingsSource(settings_cls, yaml_file=path)
    return TomlConfigSettingsSource(settings_cls, toml_file=path)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from flags (`overrides`, None values ignored), environment and config file."""
    if config_file is not None:
        os.environ[CONFIG_ENV] = str(config_file)
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
