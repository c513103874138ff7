"""The model backends file: TOML or YAML, validated, errors naming the model and the key."""

from pathlib import Path

import pytest
from bsa_judge.backends.endpoint import EndpointConfig
from bsa_judge.generation.backends import BackendsFileError, load_backends, parse_backends
from bsa_judge.generation.decoding import Decoding

TOML = """
[models.qwen3-8b]
base_url = "http://vllm:8000/v1"
model = "Qwen/Qwen3-8B"
api_key_env = "VLLM_API_KEY"
max_concurrency = 32
request_timeout_s = 600
max_retries = 2
supports_n = true
supports_top_k = true
stream = true
reasoning_tags = ["think", "<thinking>"]
reasoning_opened_by_template = true

[models.qwen3-8b.decoding]
temperature = 0.6
top_p = 0.95
top_k = 20
max_tokens = 8192
stop = ["<|im_end|>"]

[models.hosted]
base_url = "https://api.example.com/v1"
model = "deepseek-reasoner"
"""

YAML = """
models:
  ollama:
    base_url: http://localhost:11434/v1
    model: qwen3:4b
    reasoning_tags: [thinking, reasoning]
    decoding:
      seed: 7
"""


def test_a_toml_file_names_each_model_with_its_settings(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(TOML)
    backends = load_backends(path)
    assert sorted(backends) == ["hosted", "qwen3-8b"]
    qwen = backends["qwen3-8b"]
    assert qwen.endpoint_config() == EndpointConfig(
        name="qwen3-8b",
        base_url="http://vllm:8000/v1",
        model="Qwen/Qwen3-8B",
        api_key_env="VLLM_API_KEY",
        max_concurrency=32,
        request_timeout_s=600.0,
        max_retries=2,
    )
    assert (qwen.supports_n, qwen.supports_top_k, qwen.stream) == (True, True, True)
    assert qwen.reasoning_tags == ("think", "thinking")  # angle brackets are forgiven
    assert qwen.reasoning_opened_by_template is True
    assert qwen.decoding.as_decoding() == Decoding(
        temperature=0.6, top_p=0.95, top_k=20, max_tokens=8192, stop=("<|im_end|>",)
    )


def test_unset_keys_take_the_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(TOML)
    hosted = load_backends(path)["hosted"]
    assert hosted.endpoint_config() == EndpointConfig(
        name="hosted",
        base_url="https://api.example.com/v1",
        model="deepseek-reasoner",
        api_key_env=None,
        max_concurrency=16,
        request_timeout_s=600.0,
        max_retries=3,
    )
    assert (hosted.supports_n, hosted.supports_top_k, hosted.stream) == (False, False, False)
    assert hosted.reasoning_tags == ("think",)
    assert hosted.reasoning_opened_by_template is False
    assert hosted.decoding.as_decoding() == Decoding()


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_a_yaml_file_has_the_same_shape(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"models{suffix}"
    path.write_text(YAML)
    ollama = load_backends(path)["ollama"]
    assert ollama.model == "qwen3:4b"
    assert ollama.reasoning_tags == ("thinking", "reasoning")
    assert ollama.decoding.as_decoding() == Decoding(seed=7)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param(
            {"base_url": "http://x/v1", "model": "m", "max_concurrency": 0},
            "max_concurrency: Input should be greater than or equal to 1",
            id="concurrency",
        ),
        pytest.param(
            {"base_url": "http://x/v1", "model": "m", "decoding": {"temperature": 3}},
            "decoding.temperature: Input should be less than or equal to 2",
            id="default-temperature",
        ),
        pytest.param(
            {"base_url": "http://x/v1", "model": "m", "decoding": {"top_p": 0}},
            "decoding.top_p: Input should be greater than 0",
            id="default-top-p",
        ),
        pytest.param({"base_url": "http://x/v1"}, "model: Field required", id="missing-model"),
        pytest.param(
            {"base_url": "http://x/v1", "model": "m", "temprature": 1},
            "temprature: Extra inputs are not permitted",
            id="misspelt-key",
        ),
        pytest.param(
            {"base_url": "http://x/v1", "model": "m", "decoding": {"top_k": 5}},
            "decoding.top_k is set but supports_top_k is false",
            id="top-k-without-support",
        ),
        pytest.param(
            {"base_url": "http://x/v1", "model": "m", "reasoning_tags": []},
            "reasoning_tags: Tuple should have at least 1 item",
            id="no-tags",
        ),
        pytest.param(
            {"base_url": "http://x/v1", "model": "m", "reasoning_opened_by_template": "yes"},
            "reasoning_opened_by_template: Input should be a valid boolean",
            id="template-setting-not-a-boolean",
        ),
    ],
)
def test_an_invalid_entry_names_the_model_and_the_key(
    entry: dict[str, object], message: str
) -> None:
    with pytest.raises(BackendsFileError) as raised:
        parse_backends({"models": {"judged": entry}}, source="models.toml")
    assert str(raised.value).startswith("models.toml: model 'judged': ")
    assert message in str(raised.value)


def test_unknown_top_level_keys_are_refused() -> None:
    with pytest.raises(BackendsFileError, match=r"unknown key\(s\) model; expected models"):
        parse_backends({"model": {}}, source="f")


def test_an_empty_file_has_no_models(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_backends(path) == {}


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(BackendsFileError, match=f"backends file {path}: No such file"):
        load_backends(path)


def test_a_syntax_error_names_the_format(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[models.x\n")
    with pytest.raises(BackendsFileError, match=f"backends file {path}: not valid TOML"):
        load_backends(path)
