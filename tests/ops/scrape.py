"""Reading a /metrics endpoint over HTTP, as Prometheus does."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """One scrape: the metric families announced and every sample's value."""

    families: frozenset[str]
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sample's value, 0 when it is not exported (yet)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(port: int) -> Scrape:
    """GET http://127.0.0.1:port/metrics and parse the text exposition format."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        text = await response.text()
    families = list(text_string_to_metric_families(text))
    return Scrape(
        families=frozenset(family.name for family in families),
        samples={
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in families
            for sample in family.samples
        },
    )
