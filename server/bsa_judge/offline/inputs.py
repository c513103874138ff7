"""What each fitted classifier reads: its row, built from a trace's features and scenario.

features.py computes THINKING_FEATURES and SAFETY_FEATURES for a trace; the models take
rows shaped here. The safety model reads the answer's cues per scenario too, and the
thinking models of Risk Omission and Cognitive Shortcut do not read the answer at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.offline.answer_form import FORM_FEATURES
from bsa_judge.offline.features import SAFETY_FEATURES, THINKING_FEATURES

#: The answer's cues among THINKING_FEATURES. Only Over Sensitivity's thinking model reads
#: them: its labels say whether the safe part was still served, which the answer shows. In
#: Risk Omission and Cognitive Shortcut the label is whether the reasoning identified the
#: risk; reading it off the answer would credit a safe answer with identification, which is
#: the gap the benchmark exists to measure (a safe answer without the risk identified).
ANSWER_THINKING_CUES = ("answer_refusal", "answer_blanket", "answer_compliance", "answer_list")


def thinking_features(scenario: Scenario) -> tuple[str, ...]:
    """The THINKING_FEATURES that `scenario`'s thinking model reads."""
    if scenario is Scenario.OVER_SENSITIVITY:
        return THINKING_FEATURES
    return tuple(f for f in THINKING_FEATURES if f not in ANSWER_THINKING_CUES)


_THINKING_INDEX = {
    scenario: [THINKING_FEATURES.index(f) for f in thinking_features(scenario)]
    for scenario in Scenario
}


def thinking_inputs(thinking: NDArray[np.floating], scenario: Scenario) -> NDArray[np.floating]:
    """`scenario`'s thinking model's row (thinking_features) from a trace's THINKING_FEATURES
    values."""
    return thinking[_THINKING_INDEX[scenario]]


#: The answer's cues that the safety classifier also reads per scenario: a scenario's Safe
#: answers have a form of their own (Over Sensitivity's serve the benign part, so compliance
#: is normal there; Risk Omission's decline or redirect), so each cue gets a copy in its
#: scenario's slot beside the shared one, and the L2 keeps the copies near zero unless the
#: scenario reads the cue differently.
SCENARIO_CUES = (
    "answer_split",
    "answer_refusal",
    "answer_blanket",
    "answer_redirection",
    "answer_compliance",
    "answer_list",
    "compliance_after_refusal",
)
SCENARIO_CUE_FEATURES = tuple(
    f"{cue}@{scenario.value}" for scenario in Scenario for cue in SCENARIO_CUES
)
_SCENARIO_CUE_INDEX = [SAFETY_FEATURES.index(cue) for cue in SCENARIO_CUES]

#: What the safety classifier reads: SAFETY_FEATURES, SCENARIO_CUE_FEATURES, then the fitted
#: form classifier's values (answer_form.form_values).
SAFETY_MODEL_FEATURES = (*SAFETY_FEATURES, *SCENARIO_CUE_FEATURES, *FORM_FEATURES)


def by_scenario(values: NDArray[np.floating], scenario: Scenario) -> NDArray[np.float64]:
    """`values` in the slot of `scenario`, zeros in the other scenarios' slots."""
    slots = np.zeros((len(Scenario), len(values)))
    slots[list(Scenario).index(scenario)] = values
    return slots.ravel()


def scenario_cues(safety: NDArray[np.floating], scenario: Scenario) -> NDArray[np.float64]:
    """SCENARIO_CUE_FEATURES: the SCENARIO_CUES of `safety` (SAFETY_FEATURES values) in the
    slot of `scenario`."""
    return by_scenario(safety[_SCENARIO_CUE_INDEX], scenario)


def safety_inputs(
    safety: NDArray[np.floating], scenario: Scenario, forms: Sequence[float]
) -> NDArray[np.float64]:
    """The safety classifier's row (SAFETY_MODEL_FEATURES) from a trace's SAFETY_FEATURES
    values, its scenario and its form classifier's values."""
    return np.concatenate([safety, scenario_cues(safety, scenario), forms])
