"""Embeds the sentences of many traces in one pass and builds their features."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bsa_judge.offline.features import TraceFeatures, Vector, sentences_to_embed, trace_features
from bsa_judge.offline.segmentation import split_risk_points

# Risk points repeat across the k samples of an item: keep their vectors between batches.
_CACHE_SIZE = 8192


class SentenceEmbedder(Protocol):
    """What the featurizer needs from an embedding model (SentenceEncoder is one)."""

    def encode(self, sentences: Sequence[str]) -> NDArray[np.float32]:
        """One unit vector per sentence, as rows, in order."""
        ...


class Featurizer:
    """Features for batches of (risk_summary, reasoning, answer), one forward pass per batch."""

    def __init__(self, embedder: SentenceEmbedder) -> None:
        self._embedder = embedder
        self._cache: OrderedDict[str, Vector] = OrderedDict()

    def features(self, traces: Sequence[tuple[str, str, str]]) -> list[TraceFeatures]:
        """Features of each (risk_summary, reasoning, answer), in order."""
        texts = [
            text
            for summary, reasoning, answer in traces
            for text in sentences_to_embed(summary, reasoning, answer)
        ]
        points = {p for summary, _, _ in traces for p in split_risk_points(summary)}
        vectors = self._embed_all(texts, points)
        return [
            trace_features(summary, reasoning, answer, vectors.__getitem__)
            for summary, reasoning, answer in traces
        ]

    def _embed_all(self, texts: Sequence[str], keep: set[str]) -> dict[str, Vector]:
        # Only risk points (`keep`) are cached: reasoning and answers do not come back.
        wanted = list(dict.fromkeys(texts))
        found = {t: self._cache[t] for t in wanted if t in self._cache}
        missing = [t for t in wanted if t not in found]
        for text, vector in zip(missing, self._embedder.encode(missing), strict=True):
            found[text] = vector
            if text in keep:
                self._cache[text] = vector
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return found
