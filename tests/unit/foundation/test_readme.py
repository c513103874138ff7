"""The README's configuration section matches the Settings model."""

import os
import re
from pathlib import Path

import pytest
from bsa_judge.generation.backends import load_backends
from bsa_judge.settings import Settings, load_settings

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    documented = set(re.findall(r"^\| `(\w+)` \|", README, flags=re.MULTILINE))
    assert sorted(set(Settings.model_fields) - documented) == []


def test_the_example_config_file_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (example,) = [e for e in _toml_examples() if e.startswith("host =")]
    config = tmp_path / "bsa-judge.toml"
    config.write_text(example)
    for name in [name for name in os.environ if name.startswith("BSA_JUDGE_")]:
        monkeypatch.delenv(name)
    settings = load_settings(config)
    assert (settings.host, settings.grace_period_s, settings.log_format) == ("0.0.0.0", 20, "json")
    assert [(j.name, j.api_key_env, j.max_concurrency) for j in settings.judges] == [
        ("qwen-judge", "JUDGE_API_KEY", 64)
    ]


def test_the_example_models_file_loads(tmp_path: Path) -> None:
    (example,) = [e for e in _toml_examples() if e.startswith("# models.toml")]
    models = tmp_path / "models.toml"
    models.write_text(example)
    backend = load_backends(models)["qwen3-8b"]
    assert (backend.model, backend.max_concurrency, backend.supports_n) == (
        "Qwen/Qwen3-8B",
        32,
        True,
    )
    assert (backend.decoding.temperature, backend.decoding.top_k) == (0.6, 20)


def _toml_examples() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)
