"""Fixtures the matcher's tests share."""

from __future__ import annotations

import pytest

from matcher.engine import MatchEngine
from matcher.ranking import candidates
from matcher.store.issues import upsert_issues
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.test_index import pool


@pytest.fixture
def staged_and_exact(db, settings, monkeypatch):
    """An engine above a lowered candidate threshold (vectors in half precision; every cluster
    probed, so its lists are the exact ones) and one at the default (exact, float32), on the same
    store of 70 issues."""
    monkeypatch.setattr(candidates, "CLUSTER_SIZE", 10)
    monkeypatch.setattr(candidates, "PROBED", 10_000)
    upsert_issues(db, pool(70, seed=9))
    lowered = settings.model_copy(
        update={"ranking": settings.ranking.model_copy(update={"candidates_above": 30})}
    )
    return (
        MatchEngine(db, lowered, embedder=HashingEmbedder()),
        MatchEngine(db, settings, embedder=HashingEmbedder()),
    )
