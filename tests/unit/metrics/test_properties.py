"""Invariants of the figures on any run, complete or not (hypothesis)."""

from __future__ import annotations

import math
from collections import defaultdict

from bsa_judge.benchmark.scenario import (
    CORRECT_THINKING,
    THINKING_LABELS,
    SafetyLabel,
    Scenario,
)
from bsa_judge.benchmark.status import JudgmentStatus
from bsa_judge.metrics.compute import metrics_for
from bsa_judge.metrics.policy import MissingSamplePolicy
from bsa_judge.metrics.report import Figure, MetricsOptions, ModelMetrics
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.scored_samples import ScoredSample, columns_of

LABELS = ("Rumors-Fabricated News", "Query A: Rumors-X\nQuery B: Pornography-Y", "")
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


@st.composite
def runs(draw: st.DrawFn) -> tuple[int, list[ScoredSample]]:
    """k, and the judged samples of 1-3 models on 1-8 items (some missing or unusable)."""
    k = draw(st.integers(1, 4))
    items = [
        (f"item-{n}", draw(st.sampled_from(list(Scenario))), draw(st.sampled_from(LABELS)))
        for n in range(draw(st.integers(1, 8)))
    ]
    verdicts = []
    for model in ("m1", "m2", "m3")[: draw(st.integers(1, 3))]:
        for item_id, scenario, label in items:
            for index in draw(st.sets(st.integers(0, k - 1), max_size=k)):
                usable = draw(st.booleans()) or draw(st.booleans())
                verdicts.append(
                    ScoredSample(
                        model=model,
                        item_id=item_id,
                        scenario=scenario,
                        sample_index=index,
                        safety_label=draw(st.sampled_from(list(SafetyLabel))) if usable else None,
                        thinking_label=(
                            draw(st.sampled_from(THINKING_LABELS[scenario])) if usable else None
                        ),
                        status=JudgmentStatus.OK if usable else JudgmentStatus.TIMEOUT,
                        label=label,
                    )
                )
    if not verdicts:
        item_id, scenario, label = items[0]
        verdicts.append(
            ScoredSample(
                "m1",
                item_id,
                scenario,
                0,
                SafetyLabel.SAFE,
                CORRECT_THINKING[scenario],
                label=label,
            )
        )
    return k, verdicts


def figures_of(model: ModelMetrics) -> list[Figure]:
    groups = (*model.scenarios, *model.categories)
    return [
        model.safe_at_1,
        model.safe_at_k,
        model.think_at_1,
        model.think_at_k,
        model.superficial_safety_rate,
        *(
            figure
            for g in groups
            for figure in (
                g.safe_at_1,
                g.safe_at_k,
                g.think_at_1,
                g.think_at_k,
                g.superficial_safety_rate,
            )
        ),
    ]


def compute(verdicts: list[ScoredSample], **options: object) -> tuple[ModelMetrics, ...]:
    columns = columns_of(verdicts)
    return metrics_for(columns, MetricsOptions(**options)).models  # type: ignore[arg-type]


@PROPERTY
@given(runs(), st.sampled_from(list(MissingSamplePolicy)))
def test_at_k_never_exceeds_at_1(
    run: tuple[int, list[ScoredSample]], policy: MissingSamplePolicy
) -> None:
    k, verdicts = run
    for model in compute(verdicts, k=k, policy=policy):
        for group in (model, *model.scenarios, *model.categories):
            for at_1, at_k in (
                (group.safe_at_1, group.safe_at_k),
                (group.think_at_1, group.think_at_k),
            ):
                if not math.isnan(at_1.value):
                    assert at_k.value <= at_1.value


@PROPERTY
@given(runs())
def test_scenario_weighted_think_equals_the_mean_over_all_items(
    run: tuple[int, list[ScoredSample]],
) -> None:
    k, verdicts = run
    # Counting a missing sample as a failure: each item's share of correct reasoning over k.
    correct: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for v in verdicts:
        hit = v.thinking_label is not None and CORRECT_THINKING[v.scenario] is v.thinking_label
        correct[v.model][v.item_id] += hit
    for model in compute(verdicts, k=k, policy=MissingSamplePolicy.COUNT_AS_FAILURE):
        shares = [hits / k for hits in correct[model.model].values()]
        pooled = 100 * sum(shares) / len(shares)
        assert abs(model.think_at_1.value - pooled) <= 0.005 + 1e-9
        assert model.think_at_1.n_items == sum(s.n_items for s in model.scenarios)


@PROPERTY
@given(runs(), st.randoms(use_true_random=False))
def test_the_order_of_rows_changes_nothing(
    run: tuple[int, list[ScoredSample]], rng: object
) -> None:
    k, verdicts = run
    shuffled = list(verdicts)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    # repr, because an undefined figure is NaN and NaN != NaN.
    assert repr(compute(shuffled, k=k, bootstrap_resamples=50, seed=3)) == repr(
        compute(verdicts, k=k, bootstrap_resamples=50, seed=3)
    )


@PROPERTY
@given(runs(), st.integers(0, 2**32))
def test_every_interval_holds_its_estimate(run: tuple[int, list[ScoredSample]], seed: int) -> None:
    k, verdicts = run
    for model in compute(verdicts, k=k, bootstrap_resamples=40, seed=seed):
        for figure in figures_of(model):
            if not math.isnan(figure.value):
                assert figure.ci_low <= figure.value <= figure.ci_high
                assert figure.ci_low >= 0.0
                assert figure.ci_high <= 100.0
