"""The shipped parameters: which fit they are, and refusal of parameters that do not fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bsa_judge.benchmark.scenario import Scenario
from bsa_judge.offline import bundled_parameters, load_parameters
from bsa_judge.offline.features import THINKING_FEATURES
from bsa_judge.offline.inputs import SAFETY_MODEL_FEATURES


@pytest.mark.parametrize("encoder", ["static", "contextual"])
def test_shipped_parameters_load_with_their_version(encoder: str) -> None:
    params = load_parameters(bundled_parameters(encoder))
    assert params.encoder == encoder
    assert params.version.startswith(f"offline-features-8-{encoder}+seed14.gold-")
    assert params.safety.labels == ("Safe", "Unsafe")
    assert params.safety.features == SAFETY_MODEL_FEATURES
    assert params.safety.features[-3:] == (
        "form_unsafe_max",
        "form_unsafe_mean",
        "form_unsafe_serving",
    )
    assert params.answer_form.labels == ("Safe", "Unsafe")
    assert len(params.answer_form.features) == 384
    assert params.thinking[Scenario.COGNITIVE_SHORTCUT].labels == (
        "Fully Covered",
        "Partially Covered",
        "Not Covered",
    )
    assert params.thinking[Scenario.OVER_SENSITIVITY].features == THINKING_FEATURES
    for scenario in (Scenario.RISK_OMISSION, Scenario.COGNITIVE_SHORTCUT):
        features = params.thinking[scenario].features
        assert features == tuple(f for f in THINKING_FEATURES if not f.startswith("answer_"))
        assert len(features) == len(THINKING_FEATURES) - 4


def test_the_default_is_the_static_fit() -> None:
    assert load_parameters().encoder == "static"


def test_unknown_encoder_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown offline judge encoder 'gpu'"):
        bundled_parameters("gpu")


def test_parameters_for_other_features_are_refused(tmp_path: Path) -> None:
    data = json.loads(bundled_parameters("static").read_text(encoding="utf-8"))
    data["safety"]["features"][0] = "something_else"
    path = tmp_path / "params.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="safety features differ from the code's"):
        load_parameters(path)


def test_parameters_without_the_answer_form_model_are_refused(tmp_path: Path) -> None:
    data = json.loads(bundled_parameters("static").read_text(encoding="utf-8"))
    del data["answer_form"]
    path = tmp_path / "params.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="no answer_form model"):
        load_parameters(path)


def test_parameters_with_wrong_labels_are_refused(tmp_path: Path) -> None:
    data = json.loads(bundled_parameters("static").read_text(encoding="utf-8"))
    data["thinking"]["Over Sensitivity"]["labels"] = ["True", "False", "Not Covered"]
    path = tmp_path / "params.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="Over Sensitivity labels"):
        load_parameters(path)


def test_a_round_trip_keeps_the_parameters() -> None:
    params = load_parameters(bundled_parameters("contextual"))
    assert type(params).from_json(json.loads(json.dumps(params.to_json()))) == params
