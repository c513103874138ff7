"""The safety classifier's row: the shared answer cues, each scenario's copy, the form values."""

from __future__ import annotations

import numpy as np
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.offline.answer_form import FORM_FEATURES
from bsa_judge.offline.features import (
    SAFETY_FEATURES,
    SAFETY_MODEL_FEATURES,
    SCENARIO_CUES,
    safety_inputs,
    scenario_cues,
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
