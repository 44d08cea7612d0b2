"""A deterministic test embedder: hashed bag of words, L2-normalised, counts what it encodes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Same `.name` / `.encode` protocol as the real embedder; `encoded` counts texts encoded."""

    def __init__(self, dim: int = 64, name: str = "fake-hashing-bow"):
        self.dim = dim
        self.name = name
        self.encoded = 0
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % self.dim] += 1.0  # texts sharing words share directions
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out
