"""Settings: flag > environment > config file > default, and one flag per simple setting."""

import argparse
import os
from pathlib import Path

import pytest
from bsa_judge.commands.flags import add_flags, flag_values
from bsa_judge.settings import SettingsError, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No BSA_JUDGE_* variable from the outside world leaks into a test."""
    for name in list(os.environ):
        if name.startswith("BSA_JUDGE_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--config", type=Path)
    add_flags(parser)
    return parser.parse_args(argv)


def test_each_source_wins_over_the_ones_below_it(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bsa-judge.toml"
    config.write_text('port = 7001\nhost = "0.0.0.0"\ngrace_period_s = 12.5\nmax_k = 8\n')
    clean_env.setenv("BSA_JUDGE_PORT", "7002")
    clean_env.setenv("BSA_JUDGE_HOST", "10.0.0.1")
    args = _parse("--config", str(config), "--port", "7003")

    settings = load_settings(args.config, **flag_values(args))

    assert (settings.port, settings.host, settings.grace_period_s, settings.max_k) == (
        7003,  # flag over env and file
        "10.0.0.1",  # env over file
        12.5,  # file over default
        8,  # file over default
    )
    assert settings.log_level == "info"  # default


def test_the_config_file_can_come_from_the_environment_and_be_yaml(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bsa-judge.yaml"
    config.write_text(
        "port: 7100\n"
        "judges:\n"
        "  - {name: local, base_url: 'http://127.0.0.1:8000/v1', model: qwen3-32b}\n"
    )
    clean_env.setenv("BSA_JUDGE_CONFIG", str(config))

    settings = load_settings()

    assert settings.port == 7100
    assert [(j.name, j.base_url, j.model) for j in settings.judges] == [
        ("local", "http://127.0.0.1:8000/v1", "qwen3-32b")
    ]


def test_lists_come_from_environment_json(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv(
        "BSA_JUDGE_JUDGES",
        '[{"name": "a", "base_url": "http://a/v1", "model": "m", "max_concurrency": 4}]',
    )
    settings = load_settings()
    assert [(j.name, j.max_concurrency) for j in settings.judges] == [("a", 4)]


def test_unknown_keys_in_the_config_file_are_rejected_by_name(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bsa-judge.toml"
    config.write_text(
        'port = 7001\ngrase_period_s = 3\n[[judges]]\nname = "a"\nbase_url = "u"\nmodel = "m"\n'
        'modle = "x"\n'
    )
    with pytest.raises(SettingsError) as raised:
        load_settings(config)
    assert str(raised.value) == (
        "invalid settings: "
        "judges.0.modle: unknown key; "
        f"grase_period_s: unknown setting in config file {config}"
    )


def test_a_bad_value_names_the_setting(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("BSA_JUDGE_MAX_K", "0")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == (
        "invalid settings: max_k: Input should be greater than or equal to 1 (got '0')"
    )


def test_a_missing_config_file_is_an_error(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path / "absent.toml")
    assert str(raised.value) == f"config file not found: {tmp_path / 'absent.toml'}"


def test_flags_are_generated_for_every_simple_setting_in_kebab_case() -> None:
    args = _parse(
        "--judge-prompts", "prompts/",
        "--backends", "models.toml",
        "--log-format", "json",
        "--metrics-port", "none",
        "--keepalive-time-s", "2.5",
        "--default-judge", "local",
    )  # fmt: skip
    assert flag_values(args) == {
        "judge_prompts": Path("prompts/"),
        "backends": Path("models.toml"),
        "log_format": "json",
        "metrics_port": None,
        "keepalive_time_s": 2.5,
        "default_judge": "local",
    }


def test_absent_flags_leave_the_setting_to_the_other_sources() -> None:
    assert flag_values(_parse()) == {}


def test_complex_settings_have_no_flag() -> None:
    parser = argparse.ArgumentParser()
    add_flags(parser)
    _, unknown = parser.parse_known_args(["--judges", "[]"])
    assert unknown == ["--judges", "[]"]


def test_choices_are_enforced() -> None:
    with pytest.raises(argparse.ArgumentError):
        _parse("--log-format", "xml")
