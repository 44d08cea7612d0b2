"""The demo's vectors, shipped beside the demo snapshot: a first `match` or `import` of the demo
stores them instead of encoding its 220 texts (about 8 CPU-seconds with the default model).

`matcher/data/demo_vectors.npz` holds, for one embedding key (model and runtime), the text hashes
of the demo issues as `import` stores them and their vectors, exactly as that embedder encodes
them. Another model, or a demo text that changed since the file was built (a new catalogue names
other niches in it), finds nothing here and is encoded as before. Rebuild after changing the demo
snapshot, the catalogue or the default model: `python scripts/build_demo_vectors.py`
(tests/matcher/test_demo_vectors.py says when it is due).
"""

from __future__ import annotations

import zipfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from matcher.store import Database
from matcher.store.issues import put_embeddings

DEMO_VECTORS = "demo_vectors.npz"


def demo_vectors_path() -> Path:
    return Path(str(resources.files("matcher") / "data" / DEMO_VECTORS))


@lru_cache(maxsize=1)
def shipped_vectors(path: Path | None = None) -> tuple[str, dict[str, np.ndarray]]:
    """(embedding key, text hash -> vector) of the shipped file; ("", {}) when there is none."""
    try:
        with np.load(path or demo_vectors_path(), allow_pickle=False) as data:
            key = str(data["key"])
            return key, dict(zip(data["hashes"].tolist(), data["vectors"], strict=True))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return "", {}


def store_shipped_vectors(db: Database, key: str, texts: dict[str, str]) -> dict[str, np.ndarray]:
    """Store the shipped vectors of `key` for these texts (text hash -> text); return them."""
    shipped_key, vectors = shipped_vectors()
    if key != shipped_key:
        return {}
    found = {h: vectors[h] for h in texts if h in vectors}
    if found:
        put_embeddings(db, key, found)
    return found


def write_demo_vectors(path: Path, key: str, vectors: dict[str, np.ndarray]) -> None:
    hashes = sorted(vectors)
    matrix = np.stack([np.asarray(vectors[h], dtype=np.float32) for h in hashes])
    np.savez_compressed(path, key=np.array(key), hashes=np.array(hashes), vectors=matrix)
