"""Decoding settings of the model under test: validation, defaults, and request parameters."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bsa_judge.errors import FieldViolation

#: At most this many stop sequences (the OpenAI API's limit).
MAX_STOP_SEQUENCES = 4

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Decoding:
    """Sampling parameters; None (or no stop sequences) means "the backend's default"."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)

    def violations(self, prefix: str = "decoding") -> list[FieldViolation]:
        """Every out-of-range setting, each named `<prefix>.<field>`."""
        found: list[FieldViolation] = []

        def bad(name: str, description: str) -> None:
            found.append(FieldViolation(f"{prefix}.{name}", description))

        if self.temperature is not None and not (
            math.isfinite(self.temperature) and 0 <= self.temperature <= 2
        ):
            bad("temperature", f"must be between 0 and 2, got {self.temperature}")
        if self.top_p is not None and not (math.isfinite(self.top_p) and 0 < self.top_p <= 1):
            bad("top_p", f"must be greater than 0 and at most 1, got {self.top_p}")
        if self.top_k is not None and self.top_k < 1:
            bad("top_k", f"must be at least 1, got {self.top_k}")
        if self.max_tokens is not None and self.max_tokens < 1:
            bad("max_tokens", f"must be at least 1, got {self.max_tokens}")
        if len(self.stop) > MAX_STOP_SEQUENCES:
            bad("stop", f"at most {MAX_STOP_SEQUENCES} stop sequences, got {len(self.stop)}")
        elif any(not sequence for sequence in self.stop):
            bad("stop", "stop sequences must not be empty")
        return found

    def over(self, defaults: Decoding) -> Decoding:
        """These settings, with every unset one taken from `defaults`."""
        return Decoding(
            temperature=_first(self.temperature, defaults.temperature),
            top_p=_first(self.top_p, defaults.top_p),
            top_k=_first(self.top_k, defaults.top_k),
            max_tokens=_first(self.max_tokens, defaults.max_tokens),
            seed=_first(self.seed, defaults.seed),
            stop=self.stop or defaults.stop,
        )

    def request_parameters(self, *, seed_offset: int = 0) -> dict[str, Any]:
        """Keyword arguments of a chat completion call (top_k excluded: see `extra_body`)."""
        params: dict[str, Any] = {}
        for name in ("temperature", "top_p", "max_tokens"):
            if (value := getattr(self, name)) is not None:
                params[name] = value
        if self.seed is not None:
            params["seed"] = self.seed + seed_offset
        if self.stop:
            params["stop"] = list(self.stop)
        return params

    def extra_body(self) -> dict[str, Any]:
        """Request body fields outside the OpenAI schema (top_k, for vLLM, SGLang, Ollama)."""
        return {"top_k": self.top_k} if self.top_k is not None else {}


def _first(value: _T | None, default: _T | None) -> _T | None:
    return value if value is not None else default
