"""Decoding settings: ranges, backend defaults, and what is sent upstream."""

import math

import pytest
from bsa_judge.errors import FieldViolation
from bsa_judge.generation.decoding import Decoding


def test_settings_in_range_have_no_violations() -> None:
    edges = Decoding(temperature=0, top_p=1, top_k=1, max_tokens=1, seed=-3, stop=("a",) * 4)
    assert edges.violations() == []
    assert Decoding(temperature=2, top_p=1e-9).violations() == []


@pytest.mark.parametrize(
    ("decoding", "violation"),
    [
        (Decoding(temperature=-0.1), ("decoding.temperature", "must be between 0 and 2, got -0.1")),
        (Decoding(temperature=2.5), ("decoding.temperature", "must be between 0 and 2, got 2.5")),
        (
            Decoding(temperature=math.nan),
            ("decoding.temperature", "must be between 0 and 2, got nan"),
        ),
        (Decoding(top_p=0), ("decoding.top_p", "must be greater than 0 and at most 1, got 0")),
        (Decoding(top_p=1.5), ("decoding.top_p", "must be greater than 0 and at most 1, got 1.5")),
        (Decoding(top_k=0), ("decoding.top_k", "must be at least 1, got 0")),
        (Decoding(max_tokens=0), ("decoding.max_tokens", "must be at least 1, got 0")),
        (Decoding(stop=("a",) * 5), ("decoding.stop", "at most 4 stop sequences, got 5")),
        (Decoding(stop=("a", "")), ("decoding.stop", "stop sequences must not be empty")),
    ],
)
def test_an_out_of_range_setting_is_named(decoding: Decoding, violation: tuple[str, str]) -> None:
    assert decoding.violations() == [FieldViolation(*violation)]


def test_every_bad_setting_is_reported_at_once() -> None:
    fields = [v.field for v in Decoding(temperature=9, top_p=9, top_k=0).violations()]
    assert fields == ["decoding.temperature", "decoding.top_p", "decoding.top_k"]


def test_unset_settings_take_the_backend_defaults() -> None:
    defaults = Decoding(temperature=0.6, top_p=0.95, top_k=20, max_tokens=100, stop=("x",))
    request = Decoding(temperature=0.0, max_tokens=50)
    assert request.over(defaults) == Decoding(
        temperature=0.0, top_p=0.95, top_k=20, max_tokens=50, stop=("x",)
    )
    assert Decoding(stop=("y",)).over(defaults).stop == ("y",)


def test_request_parameters_leave_unset_settings_out_and_top_k_in_the_extra_body() -> None:
    decoding = Decoding(temperature=0.7, top_k=40, seed=10, stop=("END",))
    assert decoding.request_parameters() == {"temperature": 0.7, "seed": 10, "stop": ["END"]}
    assert decoding.request_parameters(seed_offset=3)["seed"] == 13
    assert decoding.extra_body() == {"top_k": 40}
    assert Decoding().request_parameters() == {}
    assert Decoding().extra_body() == {}
