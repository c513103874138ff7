"""Swapping models under test at run time, on fake models: kept, retired, drained, closed."""

from __future__ import annotations

from bsa_judge.generation.backends import ModelBackend
from bsa_judge.generation.registry import ModelRegistry

from tests.support.fake_model import FakeModels


def backend(name: str, base_url: str = "fake://one") -> ModelBackend:
    return ModelBackend(name=name, base_url=base_url, model=name)


async def test_a_retired_model_closes_when_its_last_lease_ends() -> None:
    models = FakeModels({"kept": lambda call: "a", "moved": lambda call: "b"})
    registry = ModelRegistry(models, {"kept": backend("kept"), "moved": backend("moved")})
    kept, moved = models.latest("kept"), models.latest("moved")
    async with registry.lease("moved") as in_flight:
        await registry.replace({"kept": backend("kept"), "moved": backend("moved", "fake://two")})
        assert in_flight.chat_model is moved
        assert not moved.closed  # still serving the lease taken before the reload
        async with registry.lease("moved") as after:
            assert after.chat_model is models.latest("moved") is not moved
    assert moved.closed
    assert not kept.closed
    assert len(models.built["kept"]) == 1  # unchanged: kept as it was
    await registry.aclose()
    assert kept.closed
    assert models.latest("moved").closed


async def test_a_removed_model_without_leases_closes_at_once() -> None:
    models = FakeModels({"gone": lambda call: "a"})
    registry = ModelRegistry(models, {"gone": backend("gone")})
    await registry.replace({})
    assert models.latest("gone").closed
    assert registry.names == ()
