"""Generate: k samples of a model under test on one benchmark item.

Called by the application layer (bsa_judge.app), whose composition root builds it: it checks
the request, builds the chat messages (the query alone, or after a safety-rules system
prompt), leases the model for the whole request and streams its samples.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from bsa_judge.backends.endpoint import MissingApiKeyError
from bsa_judge.errors import FieldViolation, InvalidInput
from bsa_judge.generation.backends import BackendsFileError, load_backends
from bsa_judge.generation.decoding import Decoding
from bsa_judge.generation.registry import ModelRegistry
from bsa_judge.generation.safety_rules import (
    SafetyRule,
    SafetyRulesError,
    load_safety_rules,
    system_prompt,
)
from bsa_judge.generation.sampler import Sample, draw_samples

_log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What to generate: k samples of `model` on an item's query."""

    query: str
    model: str
    k: int
    decoding: Decoding = field(default_factory=Decoding)
    safety_rules: bool = False
    label: str = ""  # the item's risk categories, which choose the safety rules
    indices: tuple[int, ...] = ()  # only these sample indices (below k); empty: all k


class Generator:
    """Runs generation requests against the configured models under test."""

    def __init__(
        self,
        models: ModelRegistry,
        safety_rules: tuple[SafetyRule, ...],
        *,
        max_k: int,
        backends_file: Path | None = None,
        safety_rules_file: Path | None = None,
    ) -> None:
        self.models = models
        self.safety_rules = safety_rules  # replaced on reload
        self.max_k = max_k
        self.backends_file = backends_file
        self.safety_rules_file = safety_rules_file

    async def reload(self) -> bool:
        """Re-read the backends and safety-rules files (SIGHUP).

        New requests use the new settings; requests in flight finish on the endpoints they
        started with. An unreadable or invalid file, or a model whose named API key variable
        is unset, changes nothing: the error is logged and False returned, so a typo never
        takes the running models away.
        """
        try:
            backends = load_backends(self.backends_file) if self.backends_file else {}
            rules = load_safety_rules(self.safety_rules_file)
            await self.models.replace(backends)
        except (BackendsFileError, SafetyRulesError, MissingApiKeyError) as error:
            _log.error("generation_reload_failed", error=str(error))
            return False
        self.safety_rules = rules
        _log.info("generation_reloaded", models=list(self.models.names))
        return True

    async def aclose(self) -> None:
        """Close every model endpoint."""
        await self.models.aclose()

    def check(self, request: GenerationRequest) -> None:
        """Raise InvalidInput naming every bad field, or NotFound for an unknown model."""
        violations: list[FieldViolation] = []
        if not request.model.strip():
            violations.append(FieldViolation("model", "required: the name of a configured model"))
        if not 1 <= request.k <= self.max_k:
            violations.append(
                FieldViolation("k", f"must be between 1 and {self.max_k}, got {request.k}")
            )
        if not request.query.strip():
            violations.append(FieldViolation("item.query", "required: the prompt to answer"))
        violations.extend(request.decoding.violations())
        if violations:
            raise InvalidInput(violations)
        backend = self.models.backend(request.model)
        if request.decoding.top_k is not None and not backend.supports_top_k:
            raise InvalidInput(
                [
                    FieldViolation(
                        "decoding.top_k",
                        f"model {request.model!r} does not accept top_k "
                        "(supports_top_k is off in the backends file)",
                    )
                ]
            )

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[Sample, None]:
        """Check the request, then yield its k samples as each completes."""
        self.check(request)
        messages = self.messages(request)
        async with self.models.lease(request.model) as model:
            decoding = request.decoding.over(model.backend.decoding.as_decoding())
            draw = draw_samples(model, messages, request.k, decoding, request.indices or None)
            async with aclosing(draw) as samples:
                async for sample in samples:
                    yield sample

    def messages(self, request: GenerationRequest) -> list[dict[str, Any]]:
        """The chat messages: the query alone, or after the safety-rules system prompt."""
        user = {"role": "user", "content": request.query}
        if not request.safety_rules:
            return [user]
        return [
            {"role": "system", "content": system_prompt(self.safety_rules, request.label)},
            user,
        ]
