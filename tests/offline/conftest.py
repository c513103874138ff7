"""One loaded model per test session: the encoders read ~90 MB of weights."""

from __future__ import annotations

import pytest
from bsa_judge.offline import OfflineJudge, bundled_parameters, load_parameters
from bsa_judge.offline.encoder import SentenceEncoder, StaticSentenceEncoder


@pytest.fixture(scope="session")
def contextual_encoder() -> SentenceEncoder:
    return SentenceEncoder()


@pytest.fixture(scope="session")
def static_encoder() -> StaticSentenceEncoder:
    return StaticSentenceEncoder()


@pytest.fixture(scope="session")
def contextual_judge(contextual_encoder: SentenceEncoder) -> OfflineJudge:
    return OfflineJudge(contextual_encoder, load_parameters(bundled_parameters("contextual")))


@pytest.fixture(scope="session")
def static_judge(static_encoder: StaticSentenceEncoder) -> OfflineJudge:
    return OfflineJudge(static_encoder, load_parameters(bundled_parameters("static")))
