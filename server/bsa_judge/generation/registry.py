"""The configured models under test, swappable at run time without dropping work in flight.

Each request leases a model: it gets the backend settings and the endpoint current at that
moment and keeps them until it finishes. `replace` installs a new set of backends: new
leases see it at once; endpoints whose settings are unchanged are kept (with their
concurrency limit and connections); the others are retired and closed only once their
last lease is returned, so streams in flight finish on the endpoint they started on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bsa_judge.backends.endpoint import EndpointConfig
from bsa_judge.backends.endpoint_settings import Connect
from bsa_judge.chat.model import ChatModel
from bsa_judge.errors import NotFound, quoted
from bsa_judge.generation.backends import ModelBackend


@dataclass(eq=False)
class _Slot:
    """One model's endpoint, the settings it was built from, and how many requests use it."""

    chat_model: ChatModel
    config: EndpointConfig
    leases: int = 0
    retired: bool = False


@dataclass(frozen=True, slots=True)
class LeasedModel:
    """A model's backend settings and chat model, as they were when the request started."""

    backend: ModelBackend
    chat_model: ChatModel


class ModelRegistry:
    """Model name -> backend and chat model, with reload that drains retired endpoints."""

    def __init__(
        self, connect: Connect, backends: Mapping[str, ModelBackend] | None = None
    ) -> None:
        self._connect = connect
        self._backends: dict[str, ModelBackend] = {}
        self._slots: dict[str, _Slot] = {}
        self._retired: set[_Slot] = set()  # replaced endpoints still serving leases
        self._install(backends or {})

    @property
    def names(self) -> tuple[str, ...]:
        """The configured model names, sorted."""
        return tuple(sorted(self._backends))

    def backend(self, name: str) -> ModelBackend:
        """The current settings of a model; NotFound lists the configured ones."""
        try:
            return self._backends[name]
        except KeyError:
            configured = (
                f"configured models: {', '.join(self.names)}"
                if self._backends
                else "no models are configured (backends file: --backends, BSA_JUDGE_BACKENDS)"
            )
            raise NotFound(f"unknown model {quoted(name)}; {configured}") from None

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[LeasedModel]:
        """Use a model for one request; its endpoint stays open until the request ends."""
        backend = self.backend(name)
        slot = self._slots[name]
        slot.leases += 1
        try:
            yield LeasedModel(backend, slot.chat_model)
        finally:
            slot.leases -= 1
            if slot.retired and slot.leases == 0:
                self._retired.discard(slot)
                await slot.chat_model.aclose()

    async def replace(self, backends: Mapping[str, ModelBackend]) -> None:
        """Serve `backends` from now on; retired endpoints close once drained.

        Raises MissingApiKeyError, changing nothing, when a backend names an API key
        variable that is unset or empty.
        """
        previous = self._slots
        self._install(backends, previous)
        kept = {id(slot) for slot in self._slots.values()}
        for slot in previous.values():
            if id(slot) in kept:
                continue
            slot.retired = True
            if slot.leases:
                self._retired.add(slot)
            else:
                await slot.chat_model.aclose()

    async def aclose(self) -> None:
        """Close every endpoint, current and draining."""
        slots = [*self._slots.values(), *self._retired]
        self._backends, self._slots, self._retired = {}, {}, set()
        for slot in slots:
            slot.retired = True
            await slot.chat_model.aclose()

    def _install(
        self, backends: Mapping[str, ModelBackend], previous: Mapping[str, _Slot] | None = None
    ) -> None:
        # A named API key variable that is unset raises MissingApiKeyError here, before any
        # endpoint is built, so that a refused set of backends leaves nothing half-installed.
        for backend in backends.values():
            backend.endpoint_config().api_key()
        slots: dict[str, _Slot] = {}
        for name, backend in backends.items():
            old = (previous or {}).get(name)
            config = backend.endpoint_config()
            if old is not None and old.config == config:
                slots[name] = old
            else:
                slots[name] = _Slot(self._connect(backend), config)
        self._backends, self._slots = dict(backends), slots
