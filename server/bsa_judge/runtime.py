"""The running core: every long-lived component the service needs, built from settings.

Entry points (the gRPC servicer, the CLI, the demo) get a Runtime and call the core through
it; nothing here knows about gRPC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from bsa_judge.generation.generator import Generator
from bsa_judge.judging.panel import JudgePanel
from bsa_judge.settings import Settings

_log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    """Long-lived core components shared by all requests."""

    settings: Settings
    judges: JudgePanel = field(default_factory=JudgePanel)  # the configured judge backends
    # The models under test (backends file) and the safety rules, for Generate.
    generator: Generator = field(default_factory=Generator.without_models)

    @classmethod
    async def build(cls, settings: Settings) -> Runtime:
        """Create every component the settings ask for."""
        generator = Generator.from_files(
            settings.backends, settings.safety_rules_file, max_k=settings.max_k
        )
        return cls(
            settings=settings, judges=JudgePanel.from_settings(settings), generator=generator
        )

    async def reload(self) -> None:
        """Re-read the files the settings point to (SIGHUP); components opt in here."""
        # A bad backends or rules file is logged and leaves the running models untouched.
        await self.generator.reload()
        _log.info("runtime_reloaded")

    async def aclose(self) -> None:
        """Release upstream connections and other resources."""
        await self.judges.aclose()
        await self.generator.aclose()
