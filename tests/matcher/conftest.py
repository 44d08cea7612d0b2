"""Fixtures the matcher's tests share."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine import MatchEngine
from matcher.models import text_hash
from matcher.ranking import candidates
from matcher.ranking.vectors import compacted, widened
from matcher.store.issues import put_embeddings, upsert_issues
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.test_index import pool


@pytest.fixture
def staged_and_exact(db, settings, monkeypatch):
    """An engine above a lowered candidate threshold (vectors compact; every cluster
    probed, so its lists are the exact ones) and one at the default (exact, float32), on the same
    store of 70 issues. The stored vectors are on the int8 grid (matcher.ranking.vectors), so
    both engines hold the same values and any difference between their lists is the stage's."""
    monkeypatch.setattr(candidates, "CLUSTER_SIZE", 10)
    monkeypatch.setattr(candidates, "PROBED", 10_000)
    upsert_with_grid_vectors(db, pool(70, seed=9))
    lowered = settings.model_copy(
        update={"ranking": settings.ranking.model_copy(update={"candidates_above": 30})}
    )
    return (
        MatchEngine(db, lowered, embedder=HashingEmbedder()),
        MatchEngine(db, settings, embedder=HashingEmbedder()),
    )


def upsert_with_grid_vectors(db, issues) -> dict[str, np.ndarray]:
    """Store `issues` with HashingEmbedder's vectors moved onto the int8 grid (compact rows widen
    to exactly these values); the vectors by text hash."""
    upsert_issues(db, issues)
    vectors = grid_vectors(issues)
    put_embeddings(db, HashingEmbedder().name, vectors)
    return vectors


def grid_vectors(issues) -> dict[str, np.ndarray]:
    """HashingEmbedder's vectors of `issues` moved onto the int8 grid, by text hash."""
    texts = {text_hash(i.embedding_text()): i.embedding_text() for i in issues}
    encoded = widened(compacted(HashingEmbedder().encode(list(texts.values()))))
    return dict(zip(texts, encoded, strict=True))
