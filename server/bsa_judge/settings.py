"""Settings, the single owner of configuration.

Precedence, highest first: command-line flags, environment variables (`BSA_JUDGE_*`, nested
fields with `__`, lists such as `judges` as JSON), the optional config file (TOML or YAML,
`--config` or `BSA_JUDGE_CONFIG`), then the defaults below.

`bsa-judge serve` gets one `--kebab-case` flag per simple field of `Settings` (see
`bsa_judge.commands.flags`), so a field added here is a flag, an environment variable and a
config-file key at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from bsa_judge.backends.endpoint_settings import EndpointSettings

ENV_PREFIX = "BSA_JUDGE_"
CONFIG_ENV = "BSA_JUDGE_CONFIG"
#: Judges every server has besides its judge backends: the embedded offline judge, and the
#: cascade (offline first, an LLM judge for what it is unsure of) when a backend exists.
BUILTIN_JUDGES = ("offline", "cascade")


class JudgeBackendSettings(EndpointSettings):
    """One OpenAI-compatible judge endpoint: the endpoint, and how a judge asks it."""

    max_concurrency: int = Field(default=64, ge=1)
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=2048, ge=1)
    structured_output: bool = Field(
        default=False, description="Send a JSON-schema response_format (the backend supports it)."
    )


class Settings(BaseSettings):
    """Everything the server can be told."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    # Transport
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=50051, ge=0, le=65535, description="gRPC port; 0 picks a free one.")
    max_message_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="Largest message sent or received."
    )
    keepalive_time_s: float = Field(
        default=30.0, gt=0, description="Seconds between keepalive pings on idle connections."
    )
    keepalive_timeout_s: float = Field(
        default=10.0, gt=0, description="Seconds to wait for a ping ack before closing."
    )
    grace_period_s: float = Field(
        default=30.0, ge=0, description="Seconds in-flight RPCs get to finish on shutdown."
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes sharing the gRPC port (SO_REUSEPORT), each with its own "
        "event loop: about one per core; /metrics sums them. 1: one process, no supervisor.",
    )
    reuse_port: bool = Field(
        default=False,
        description="Let another server bind the gRPC port beside this one (SO_REUSEPORT), "
        "so that a successor started before this one stops takes over without downtime. "
        "Off: a server started on a port another holds exits 1. Workers always share theirs.",
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="The server's event loop: uvloop (libuv; about 8% less CPU per judged "
        "trace) or the standard library's asyncio.",
    )
    max_connection_age_s: float | None = Field(
        default=300.0,
        gt=0,
        description="Seconds before a client connection is asked to reconnect (RPCs in flight "
        "finish first), so round_robin clients re-resolve DNS and reach new pods.",
    )

    # Logging
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON otherwise."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Lowest level logged."
    )

    # Prometheus /metrics endpoint; 0 picks a free port, None disables it.
    metrics_host: str = Field(default="127.0.0.1", description="Address of /metrics.")
    metrics_port: int | None = Field(
        default=9464, ge=0, le=65535, description="Port of /metrics; 0 picks one, none disables."
    )

    # Security
    tls_cert: Path | None = Field(default=None, description="Server certificate (PEM).")
    tls_key: Path | None = Field(default=None, description="Server private key (PEM).")
    tls_client_ca: Path | None = Field(default=None, description="Require client certs (mTLS).")
    auth_tokens_file: Path | None = Field(
        default=None, description="File of accepted bearer tokens, one per line."
    )
    auth_tokens_env: str | None = Field(
        default=None, description="Name of an environment variable holding comma-separated tokens."
    )

    # Judging
    judges: list[JudgeBackendSettings] = Field(
        default_factory=list, description="Judge endpoints (config file, or env JSON)."
    )
    default_judge: str | None = Field(
        default=None,
        description="Judge used when a request names none: a backend's name, offline or "
        "cascade (default: the first judge backend, else offline).",
    )
    cascade_threshold: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="Confidence the offline judge needs to decide a label in the cascade.",
    )
    cascade_judge: str | None = Field(
        default=None,
        description="Judge backend the cascade asks what the offline judge is unsure of "
        "(default: the default judge if it is a backend, else the first backend).",
    )
    judge_prompts: Path | None = Field(
        default=None, description="Folder of official-format judge prompt files."
    )
    judge_reasks: int = Field(default=2, ge=0, description="Re-asks after unparseable output.")
    max_field_bytes: int = Field(
        default=256 * 1024, ge=1, description="Largest text field of a trace."
    )
    stream_max_in_flight: int = Field(
        default=256,
        ge=1,
        description="Traces judged at once per JudgeTraces stream; items worked on at once "
        "per EvaluateItems stream.",
    )
    verdict_cache_size: int = Field(
        default=100_000,
        ge=0,
        description="Judgments kept in memory, in front of the run store's; 0: no cache.",
    )

    # Runs
    database_url: str = Field(
        default_factory=lambda: default_database_url(),
        description="The run store: sqlite:///FILE, or postgresql://USER:PASSWORD@HOST/DATABASE "
        "shared by replicas (default: a SQLite file in $XDG_DATA_HOME/bsa-judge).",
    )

    # Heavy calls
    heavy_request_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1,
        description="A call whose request is larger than this is heavy (ComputeMetrics with "
        "inline samples: about 30 bytes a sample).",
    )
    max_heavy_calls: int = Field(
        default=2,
        ge=1,
        description="Heavy calls run at once (about 0.5 GB each per million samples); more "
        "are refused RESOURCE_EXHAUSTED before their request is decoded.",
    )

    # Generation
    backends: Path | None = Field(default=None, description="Models file (TOML or YAML).")
    max_k: int = Field(default=64, ge=1, description="Most samples one Generate call may ask.")
    safety_rules_file: Path | None = Field(
        default=None,
        description="Safety rules for Generate's safety-rules mode, in the official Markdown "
        "format (default: the built-in rules).",
    )

    @field_validator("judges")
    @classmethod
    def _builtin_judge_names_are_taken(
        cls, judges: list[JudgeBackendSettings]
    ) -> list[JudgeBackendSettings]:
        taken = [judge.name for judge in judges if judge.name in BUILTIN_JUDGES]
        if taken:
            raise ValueError(
                f"judge name {taken[0]!r} is the built-in {taken[0]} judge's: name the "
                "backend otherwise"
            )
        return judges

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init_settings are the flags (load_settings passes them as keyword arguments).
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = config_file_in_use()
        if config_file is not None:
            sources.append(_file_source(settings_cls, config_file))
        return tuple(sources)


def default_database_url() -> str:
    """The embedded run store: $XDG_DATA_HOME/bsa-judge/runs.sqlite3, where XDG_DATA_HOME
    defaults to ~/.local/share (in the container image HOME is /tmp, a writable tmpfs)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(data_home).absolute() / 'bsa-judge' / 'runs.sqlite3'}"


class SettingsError(ValueError):
    """The settings are invalid; the message names every bad setting and where it came from."""


# pydantic-settings builds its sources in a classmethod, so the config file chosen for one
# load travels in a context variable rather than through the process environment.
_config_file: ContextVar[Path | None] = ContextVar("bsa_judge_config_file", default=None)


def config_file_in_use() -> Path | None:
    """The config file of the settings being loaded: `--config`, else BSA_JUDGE_CONFIG."""
    chosen = _config_file.get()
    if chosen is not None:
        return chosen
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else None


@contextmanager
def _reading_config_file(path: Path | None) -> Iterator[None]:
    token = _config_file.set(path)
    try:
        yield
    finally:
        _config_file.reset(token)


def _file_source(settings_cls: type[BaseSettings], path: Path) -> PydanticBaseSettingsSource:
    if not path.is_file():
        raise SettingsError(f"config file not found: {path}")
    if path.suffix in (".yaml", ".yml"):
        return YamlConfigSettingsSource(settings_cls, yaml_file=path)
    if path.suffix == ".toml":
        return TomlConfigSettingsSource(settings_cls, toml_file=path)
    raise SettingsError(f"config file {path}: use .toml, .yaml or .yml")


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Settings from flags (keyword arguments), environment, config file and defaults.

    Raises SettingsError naming each bad setting; unknown keys in the config file are
    rejected.
    """
    with _reading_config_file(config_file):
        try:
            return Settings(**flags)
        except ValidationError as error:
            raise SettingsError(_describe(error, config_file_in_use())) from None


def _describe(error: ValidationError, config_file: Path | None) -> str:
    problems = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"])
        if problem["type"] == "extra_forbidden" and len(problem["loc"]) == 1:
            # Flags are generated from the model and stray env variables are ignored, so an
            # unknown top-level key can only come from the config file.
            problems.append(f"{name}: unknown setting in config file {config_file}")
        elif problem["type"] == "extra_forbidden":
            problems.append(f"{name}: unknown key")
        else:
            problems.append(f"{name}: {problem['msg']} (got {problem.get('input')!r})")
    return "invalid settings: " + "; ".join(problems)
