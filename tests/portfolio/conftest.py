"""The fake GitHub with portfolio routes, and a PullsClient pointed at it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from matcher.github.pulls import PullsClient, make_github
from tests.fakes.github_portfolio import PortfolioFake
from tests.fakes.github_server import FakeGitHub

TOKEN = "ghp_portfolio_test_token"
ADA_ID = 5150


def when(day: int, month: int = 2, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def gh():
    with FakeGitHub(token=TOKEN) as server:
        yield server


@pytest.fixture
def fake(gh) -> PortfolioFake:
    """Ada with two merged pull requests in two repositories, and one still open."""
    f = PortfolioFake(gh)
    f.add_user("ada", ADA_ID, bio="Learning ML in public")
    gh.add_repo("acme/tokenizers", stars=2400, language="Rust", topics=["nlp", "tokenization"])
    gh.add_repo("acme/vision", stars=800, language="Python", topics=["computer-vision"])
    f.add_pull(
        "acme/tokenizers",
        "ada",
        "Fix padding for empty batches",
        merged_at=when(3),
        body="Fixes #7",
        additions=40,
        deletions=3,
        labels=["bug"],
        number=11,
    )
    f.add_pull(
        "acme/vision",
        "ada",
        "Docs: augmentation example",
        merged_at=when(10),
        body="Add an example.",
        additions=25,
        deletions=0,
        labels=["documentation"],
        number=21,
        closes=["https://github.com/acme/vision/issues/5"],
    )
    f.add_pull("acme/vision", "ada", "WIP: new transform", merged_at=None, number=22)
    f.add_pull("acme/vision", "bob", "Someone else's work", merged_at=when(4), number=23)
    return f


def make_client(gh, **kw) -> PullsClient:
    return PullsClient(make_github(gh.url, TOKEN, retries=2, timeout=5), **kw)


@pytest.fixture
def client(gh, fake) -> PullsClient:
    return make_client(gh)
