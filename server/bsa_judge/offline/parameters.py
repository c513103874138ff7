"""The offline judge's fitted parameters: one safety model, one thinking model per scenario."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bsa_judge.benchmark.scenario import THINKING_LABELS, Scenario
from bsa_judge.offline.answer_form import SAFETY_LABELS
from bsa_judge.offline.classifier import LogisticModel
from bsa_judge.offline.inputs import SAFETY_MODEL_FEATURES, thinking_features

#: The embedding each fit was made with (see encoder.py): the fast bag of token vectors,
#: or the full MiniLM forward pass.
ENCODERS = ("static", "contextual")
#: The default: the only one fast enough for a whole benchmark run on a small CPU.
DEFAULT_ENCODER = "static"


def bundled_parameters(encoder: str = DEFAULT_ENCODER) -> Path:
    """The parameters tools/fit_offline_judge.py fitted for `encoder`, shipped in the package."""
    if encoder not in ENCODERS:
        raise ValueError(f"unknown offline judge encoder {encoder!r}; expected one of {ENCODERS}")
    return Path(__file__).with_name(f"parameters-{encoder}.json")


@dataclass(frozen=True)
class OfflineParameters:
    """Everything the offline judge learned from the gold set, and which fit it was.

    `answer_form` reads one answer sentence's function-word embedding (answer_form.py); its
    values feed `safety`.
    """

    version: str
    encoder: str
    safety: LogisticModel
    thinking: dict[Scenario, LogisticModel]
    answer_form: LogisticModel

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values; read back with from_json."""
        return {
            "version": self.version,
            "encoder": self.encoder,
            "safety": self.safety.to_json(),
            "thinking": {s.value: m.to_json() for s, m in self.thinking.items()},
            "answer_form": self.answer_form.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OfflineParameters:
        """Read and check parameters: labels must be the scenario's, features the code's.

        Raises ValueError naming what does not fit, e.g. parameters fitted on other features.
        """
        safety = LogisticModel.from_json(data["safety"])
        thinking = {
            Scenario.parse(k): LogisticModel.from_json(v) for k, v in data["thinking"].items()
        }
        if safety.features != SAFETY_MODEL_FEATURES:
            raise ValueError("offline judge parameters: safety features differ from the code's")
        if "answer_form" not in data:
            raise ValueError("offline judge parameters: no answer_form model (features-3 or older)")
        answer_form = LogisticModel.from_json(data["answer_form"])
        if answer_form.labels != SAFETY_LABELS:
            raise ValueError(
                f"offline judge parameters: answer_form labels {answer_form.labels}, "
                f"expected {SAFETY_LABELS}"
            )
        for scenario in Scenario:
            model = thinking.get(scenario)
            if model is None:
                raise ValueError(
                    f"offline judge parameters: no thinking model for {scenario.value}"
                )
            if model.features != thinking_features(scenario):
                raise ValueError(
                    f"offline judge parameters: {scenario.value} features differ from the code's"
                )
            expected = tuple(label.value for label in THINKING_LABELS[scenario])
            if set(model.labels) != set(expected):
                raise ValueError(
                    f"offline judge parameters: {scenario.value} labels {model.labels}, "
                    f"expected {expected}"
                )
        encoder = str(data["encoder"])
        if encoder not in ENCODERS:
            raise ValueError(f"offline judge parameters: unknown encoder {encoder!r}")
        return cls(
            version=str(data["version"]),
            encoder=encoder,
            safety=safety,
            thinking=thinking,
            answer_form=answer_form,
        )


def load_parameters(path: Path | None = None) -> OfflineParameters:
    """Read parameters from a JSON file (by default the shipped ones of the default encoder)."""
    path = path if path is not None else bundled_parameters()
    return OfflineParameters.from_json(json.loads(path.read_text(encoding="utf-8")))
