"""The classifiers' rows: the safety model's (shared answer cues, each scenario's copy, the
form values) and each scenario's thinking model's."""

from __future__ import annotations

import numpy as np
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.offline.answer_form import FORM_FEATURES
from bsa_judge.offline.features import SAFETY_FEATURES, THINKING_FEATURES
from bsa_judge.offline.inputs import (
    SAFETY_MODEL_FEATURES,
    SCENARIO_CUES,
    safety_inputs,
    scenario_cues,
    thinking_features,
    thinking_inputs,
)

SAFETY = np.arange(1, len(SAFETY_FEATURES) + 1, dtype=np.float32)  # 1, 2, ... by position


def _value(name: str) -> float:
    return float(SAFETY[SAFETY_FEATURES.index(name)])


def test_the_cues_go_to_their_scenarios_slot_and_nowhere_else() -> None:
    row = safety_inputs(SAFETY, Scenario.OVER_SENSITIVITY, [0.25, 0.5, 0.75])
    named = dict(zip(SAFETY_MODEL_FEATURES, row.tolist(), strict=True))
    assert named["answer_refusal@Over Sensitivity"] == _value("answer_refusal")
    assert named["compliance_after_refusal@Over Sensitivity"] == _value("compliance_after_refusal")
    assert named["answer_refusal@Risk Omission"] == 0.0
    assert named["answer_compliance@Cognitive Shortcut"] == 0.0
    assert [named[f] for f in FORM_FEATURES] == [0.25, 0.5, 0.75]
    assert [named[f] for f in SAFETY_FEATURES] == SAFETY.tolist()


def test_each_scenario_has_one_slot_of_every_cue() -> None:
    rows = {s: scenario_cues(SAFETY, s) for s in Scenario}
    for scenario, row in rows.items():
        assert row.shape == (len(Scenario) * len(SCENARIO_CUES),)
        assert sorted(row[row != 0].tolist()) == sorted(_value(c) for c in SCENARIO_CUES)
        assert (
            scenario.value
            in SAFETY_MODEL_FEATURES[len(SAFETY_FEATURES) + int(np.flatnonzero(row)[0])]
        )
    assert np.all(sum(rows.values()) == np.tile([_value(c) for c in SCENARIO_CUES], 3))


THINKING = np.arange(1, len(THINKING_FEATURES) + 1, dtype=np.float32)


def test_over_sensitivity_thinking_reads_every_feature() -> None:
    row = thinking_inputs(THINKING, Scenario.OVER_SENSITIVITY)
    assert row.tolist() == THINKING.tolist()
    assert thinking_features(Scenario.OVER_SENSITIVITY) == THINKING_FEATURES


def test_risk_omission_and_cognitive_shortcut_thinking_do_not_read_the_answer() -> None:
    answer = [THINKING_FEATURES.index(f) for f in THINKING_FEATURES if f.startswith("answer_")]
    assert len(answer) == 4
    for scenario in (Scenario.RISK_OMISSION, Scenario.COGNITIVE_SHORTCUT):
        row = thinking_inputs(THINKING, scenario)
        assert row.tolist() == np.delete(THINKING, answer).tolist()
        assert not any(f.startswith("answer_") for f in thinking_features(scenario))
