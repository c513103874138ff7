"""The numpy forward pass of all-MiniLM-L6-v2, pinned.

The reference figure is sentence-transformers' own documented example: cosine 0.7553 between
"A man is eating food." and "A man is eating a piece of bread." with this model. The golden
vector below was computed once by this code (tests/offline) as a regression pin.
"""

from __future__ import annotations

import numpy as np
import pytest
from bsa_judge.offline.encoder import SentenceEncoder, StaticSentenceEncoder

FOOD = "A man is eating food."
BREAD = "A man is eating a piece of bread."
HORSE = "A man is riding a horse."
BABY = "The girl is carrying a baby."
#: First eight dimensions of the contextual embedding of FOOD (regression pin).
GOLDEN_FOOD = [0.033242, 0.004406, -0.006277, 0.048379, -0.138702, -0.033617, 0.101128, -0.054385]


def test_matches_the_published_reference_similarity(contextual_encoder: SentenceEncoder) -> None:
    food, bread = contextual_encoder.encode([FOOD, BREAD])
    assert float(food @ bread) == pytest.approx(0.7553, abs=5e-4)


def test_golden_vector(contextual_encoder: SentenceEncoder) -> None:
    vector = contextual_encoder.encode([FOOD])[0]
    assert vector[:8].tolist() == pytest.approx(GOLDEN_FOOD, abs=1e-5)


def test_vectors_are_unit_length_and_384_wide(contextual_encoder: SentenceEncoder) -> None:
    vectors = contextual_encoder.encode([FOOD, "x", HORSE * 20])
    assert vectors.shape == (3, 384)
    assert np.linalg.norm(vectors, axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)


def test_batching_keeps_the_callers_order(contextual_encoder: SentenceEncoder) -> None:
    # Sentences of different lengths are regrouped by length inside encode.
    texts = [HORSE * 3, FOOD, BABY, BREAD]
    together = contextual_encoder.encode(texts)
    alone = np.stack([contextual_encoder.encode([t])[0] for t in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_no_sentences_give_an_empty_matrix(contextual_encoder: SentenceEncoder) -> None:
    assert contextual_encoder.encode([]).shape == (0, 384)


def test_static_vectors_rank_related_sentences_higher(
    static_encoder: StaticSentenceEncoder,
) -> None:
    food, bread, baby = static_encoder.encode([FOOD, BREAD, BABY])
    assert float(food @ bread) > float(food @ baby)
    assert float(np.linalg.norm(food)) == pytest.approx(1.0, abs=1e-5)
