"""Fixtures around the fake GitHub server, registered for every test by tests/conftest.py
(`pytest_plugins`): `fake_github`, `sync_env` (50 x 20), `small_env` (20 x 10); and the
helpers that compare stores (`snapshot`, `reference`, `pool`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from matcher.catalog import Catalog, RepoEntry, load_catalog
from matcher.github import GitHubClient
from matcher.settings import Settings, load_settings
from matcher.store import Database
from matcher.store.issue_signals import load_issue_signals
from matcher.store.issues import load_issues
from matcher.store.repo_meta import load_repo_meta
from matcher.store.sync_state import load_sync_states
from matcher.sync import SyncReport, sync
from tests.databases import fresh_store_url
from tests.fakes.embedder import HashingEmbedder
from tests.fakes.github_server import FakeGitHub

TOKEN = "ghp_fake_token_for_tests"


@pytest.fixture
def fake_github():
    """A running fake GitHub (random port on 127.0.0.1), stopped after the test."""
    with FakeGitHub(token=TOKEN) as server:
        yield server


def fake_settings(server: FakeGitHub, **github) -> Settings:
    """Settings pointing at the fake, with a short timeout (1.5 s): a hang costs little, but a
    busy machine is not a hang."""
    options = {
        "api_url": server.url,
        "graphql_url": server.graphql_url,
        "timeout_seconds": 1.5,
        "max_retries": 4,
        "repos_per_query": 10,
        "issues_per_repo": 100,
        "welcome_refresh_days": 0,  # tests of the welcoming signal turn it on (request counts)
    }
    options.update(github)
    return load_settings(github=options)


@dataclass
class SleepRecorder:
    """Injected instead of time.sleep: remembers the waits, never waits."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fake_client(
    server: FakeGitHub, settings: Settings | None = None, token: str = TOKEN, **options
) -> GitHubClient:
    settings = settings or fake_settings(server)
    options.setdefault("sleep", SleepRecorder())
    options.setdefault("backoff_base", 0.01)
    return GitHubClient(token, settings.github, **options)


@dataclass
class SyncEnv:
    """A store, settings, catalogue and embedder wired to one fake server."""

    server: FakeGitHub
    db: Database
    settings: Settings
    catalog: Catalog
    embedder: HashingEmbedder
    repos: list[str]
    reports: list[SyncReport] = field(default_factory=list)
    last_sleep: SleepRecorder = field(default_factory=SleepRecorder)  # the waits of the last run

    def run(self, **kwargs) -> SyncReport:
        client_options = dict(kwargs.pop("client_options", {}))
        self.last_sleep = client_options.setdefault("sleep", SleepRecorder())
        with fake_client(self.server, self.settings, **client_options) as client:
            report = sync(
                self.db,
                self.settings,
                client,
                self.embedder,
                catalog=self.catalog,
                label_names=LABELS,
                **kwargs,
            )
        self.reports.append(report)
        return report


LABELS = [
    "good first issue",
    "good-first-issue",
    "help wanted",
    "documentation",
    "easy",
    "Good First Issue",
]


def make_env(server: FakeGitHub, db_path, repos: int = 50, issues: int = 20, **github) -> SyncEnv:
    names = server.seed(repos, issues) if repos else []
    base = load_catalog()
    catalog = Catalog(base.labels, tuple(RepoEntry(n, ("nlp",), "Python") for n in names))
    db = Database(fresh_store_url(db_path), migrate=True)
    return SyncEnv(server, db, fake_settings(server, **github), catalog, HashingEmbedder(), names)


@pytest.fixture
def sync_env(fake_github, tmp_path):
    """50 repositories x 20 beginner issues on the fake, an empty store, a counting embedder."""
    env = make_env(fake_github, tmp_path / "store.sqlite")
    yield env
    env.db.close()


@pytest.fixture
def small_env(fake_github, tmp_path):
    """20 repositories x 10 issues: two GraphQL batches, fast enough to sync twice per test."""
    env = make_env(fake_github, tmp_path / "store.sqlite", repos=20, issues=10)
    yield env
    env.db.close()


def snapshot(db: Database) -> dict:
    """Everything a sync stores that matters, comparable between two stores."""
    issues = load_issues(db, open_only=False)
    signals = load_issue_signals(db)
    states = {r: (s.watermark, s.cursor, s.pass_mode) for r, s in load_sync_states(db).items()}
    return {"issues": issues, "signals": signals, "states": states, "meta": load_repo_meta(db)}


def pool(db: Database) -> set[str]:
    """URLs of the open, untaken issues: the candidates a learner can be shown."""
    return {i.url for i in load_issues(db, open_only=True) if not i.is_taken}


def reference(env: SyncEnv, tmp_path) -> dict:
    """A fault-free sync of the same fake into a separate store."""
    ref = make_env(env.server, tmp_path / "reference.sqlite", repos=0)
    ref.catalog, ref.settings = env.catalog, env.settings
    ref.run()
    return snapshot(ref.db)
