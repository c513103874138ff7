"""Which judges the composition root configures: the offline judge always, the cascade over
the LLM judge the settings name, and the default judge."""

from __future__ import annotations

from typing import Any

import pytest
from bsa_judge.app import bootstrap
from bsa_judge.judging.cascade import Cascade
from bsa_judge.settings import Settings

from tests.support.fake_model import FakeModels
from tools.judge_script import AGREEABLE, judge_call, verdict_text


def agreeable(call: Any) -> str:
    return verdict_text(AGREEABLE[judge_call({"messages": call.messages}).kind])


def panel(*names: str, **settings: Any) -> Any:
    judges = [{"name": name, "base_url": "fake://j", "model": name} for name in names]
    models = FakeModels(dict.fromkeys(names, agreeable))
    return bootstrap.build_judges(Settings(judges=judges, **settings), connect=models)


def test_without_backends_the_offline_judge_is_alone_and_the_default() -> None:
    judges = panel()
    assert judges.default == "offline"
    assert judges.choose().name == "offline"


def test_with_backends_the_first_is_the_default_and_the_cascade_asks_it() -> None:
    judges = panel("a", "b", cascade_threshold=0.75)
    cascade = judges.choose("cascade")
    assert judges.default == "a"
    assert isinstance(cascade, Cascade)
    assert (cascade.fallback.name, cascade.threshold) == ("a", 0.75)


def test_the_cascade_asks_the_default_judge_or_the_one_named() -> None:
    by_default = panel("a", "b", default_judge="b").choose("cascade")
    named = panel("a", "b", default_judge="offline", cascade_judge="b").choose("cascade")
    assert isinstance(by_default, Cascade)
    assert isinstance(named, Cascade)
    assert (by_default.fallback.name, named.fallback.name) == ("b", "b")


def test_a_cascade_judge_that_is_no_backend_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"^cascade_judge 'c' is not a judge backend; configured: a$"
    ):
        panel("a", cascade_judge="c")
