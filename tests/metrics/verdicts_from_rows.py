"""Official CSV rows as ScoredSamples (sample index by order of appearance)."""

from __future__ import annotations

from collections import Counter

from bsa_judge.benchmark.scenario import Scenario, parse_safety_label, parse_thinking_label

from tests.metrics.runs import Row
from tests.support.scored_samples import ScoredSample


def scored_verdicts(rows: list[Row]) -> list[ScoredSample]:
    """One ScoredSample per row, numbered 0.. within its (model, item) in row order."""
    seen: Counter[tuple[str, str]] = Counter()
    verdicts = []
    for model, item_id, scenario_name, safety, thought in rows:
        scenario = Scenario.parse(scenario_name)
        verdicts.append(
            ScoredSample(
                model=model,
                item_id=item_id,
                scenario=scenario,
                sample_index=seen[model, item_id],
                safety_label=parse_safety_label(safety),
                thinking_label=parse_thinking_label(scenario, thought),
            )
        )
        seen[model, item_id] += 1
    return verdicts
