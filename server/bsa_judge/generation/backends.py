"""The model backends file: which models under test the service can run, and how.

A TOML or YAML file with one table per model name under `models`:

    [models.qwen3-8b]
    base_url = "http://vllm:8000/v1"
    model = "Qwen/Qwen3-8B"
    api_key_env = "VLLM_API_KEY"      # the NAME of the variable, never the key
    max_concurrency = 32
    request_timeout_s = 600
    max_retries = 3
    supports_n = true                 # k samples in one request with n=k
    supports_top_k = true             # top_k is sent in the request's extra body
    stream = false
    reasoning_tags = ["think"]
    reasoning_opened_by_template = false  # see below

    [models.qwen3-8b.decoding]        # defaults for requests that leave a setting unset
    temperature = 0.6
    top_p = 0.95

`reasoning_opened_by_template = true` declares that the chat template emits the opening
reasoning tag itself (Qwen3, DeepSeek-R1 served without a reasoning parser): a completion
cut off before `</think>` then has no tag at all, and its whole content is reasoning (the
answer empty; TRUNCATED when it stopped on length) instead of being taken for an answer
without reasoning. Leave it false when the template can also close the block itself
(thinking switched off), since a plain answer would then be read as reasoning. It changes
nothing when the endpoint sends a reasoning field or the content has tags.

Errors name the file, the model and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bsa_judge.backends.endpoint_settings import EndpointSettings
from bsa_judge.generation.decoding import MAX_STOP_SEQUENCES, Decoding
from bsa_judge.generation.reasoning import DEFAULT_TAGS


class BackendsFileError(ValueError):
    """The backends file cannot be read or is invalid; the message names model and key."""


class DecodingDefaults(BaseModel):
    """A backend's default decoding settings (same ranges as a request's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: tuple[str, ...] = Field(default=(), max_length=MAX_STOP_SEQUENCES)

    def as_decoding(self) -> Decoding:
        """The defaults as a Decoding."""
        return Decoding(
            self.temperature, self.top_p, self.top_k, self.max_tokens, self.seed, self.stop
        )


class ModelBackend(EndpointSettings):
    """One model under test: its endpoint, and how it is asked and read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_timeout_s: float = Field(default=600.0, gt=0)
    supports_n: bool = False
    supports_top_k: bool = False
    stream: bool = False
    reasoning_tags: tuple[str, ...] = Field(default=DEFAULT_TAGS, min_length=1)
    reasoning_opened_by_template: bool = Field(
        default=False,
        strict=True,
        description="The chat template emits the opening tag: tagless content is reasoning.",
    )
    decoding: DecodingDefaults = Field(default_factory=DecodingDefaults)

    @field_validator("reasoning_tags")
    @classmethod
    def _plain_tag_names(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(tag.strip().strip("<>/").strip() for tag in tags)
        if not all(cleaned):
            raise ValueError("tag names must not be empty")
        return cleaned

    @model_validator(mode="after")
    def _top_k_needs_support(self) -> ModelBackend:
        if self.decoding.top_k is not None and not self.supports_top_k:
            raise ValueError("decoding.top_k is set but supports_top_k is false")
        return self


def load_backends(path: Path) -> dict[str, ModelBackend]:
    """Read and validate a backends file (`.toml`, `.yaml` or `.yml`); model name -> backend."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BackendsFileError(f"backends file {path}: {error.strerror or error}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            document = yaml.safe_load(text) or {}
        else:
            document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise BackendsFileError(f"backends file {path}: not valid {_kind(path)}: {error}") from None
    return parse_backends(document, source=f"backends file {path}")


def parse_backends(document: Any, *, source: str = "backends file") -> dict[str, ModelBackend]:
    """Validate a parsed backends document: `{"models": {name: {...}}}`."""
    if not isinstance(document, Mapping):
        raise BackendsFileError(f"{source}: expected a table with a `models` key")
    unknown = sorted(str(key) for key in document if key != "models")
    if unknown:
        raise BackendsFileError(f"{source}: unknown key(s) {', '.join(unknown)}; expected models")
    models = document.get("models") or {}
    if not isinstance(models, Mapping):
        raise BackendsFileError(f"{source}: `models` must be a table of model names")
    backends: dict[str, ModelBackend] = {}
    for name, entry in models.items():
        if not isinstance(entry, Mapping):
            raise BackendsFileError(f"{source}: model {name!r}: expected a table of settings")
        try:
            backends[str(name)] = ModelBackend.model_validate({**entry, "name": str(name)})
        except ValidationError as error:
            raise BackendsFileError(_describe(source, str(name), error)) from None
    return backends


def _describe(source: str, name: str, error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
        for issue in error.errors()
    ]
    return f"{source}: model {name!r}: {'; '.join(problems)}"


def _kind(path: Path) -> str:
    return "YAML" if path.suffix.lower() in (".yaml", ".yml") else "TOML"
