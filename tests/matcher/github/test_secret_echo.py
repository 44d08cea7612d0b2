"""A GitHub front that echoes the Authorization header in its errors: the token reaches neither
CLI stderr (`portfolio link|refresh`, `sync -v`) nor repo_sync_state.last_error."""

from __future__ import annotations

import pytest

from matcher import redact as redaction
from matcher.store import Database
from matcher.store.sync_state import load_sync_states
from tests.databases import fresh_store_url
from tests.fakes.github_echo import GRAPHQL_SHAPES, REST_SHAPES, echo_authorization
from tests.fakes.github_server import FakeGitHub
from tests.matcher.cli.helpers import run_main


@pytest.fixture(autouse=True)
def forget_remembered(monkeypatch):
    """Secrets remembered by earlier tests must not make this one pass."""
    monkeypatch.setattr(redaction, "_remembered", set())


@pytest.fixture
def cli_env(monkeypatch, echo_gh, echo_token, tmp_path):
    for name in ("MATCHER_CONFIG", "MATCHER_DATABASE_URL", "GITHUB_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    url = fresh_store_url(tmp_path / "store.sqlite")
    Database(url, migrate=True).close()  # a PostgreSQL store is migrated by its operator
    monkeypatch.setenv("GITHUB_TOKEN", echo_token)
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)
    monkeypatch.setenv("MATCHER_GITHUB__API_URL", echo_gh.url)
    monkeypatch.setenv("MATCHER_GITHUB__GRAPHQL_URL", echo_gh.graphql_url)
    monkeypatch.setenv("MATCHER_GITHUB__TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("MATCHER_GITHUB__MAX_RETRIES", "1")
    monkeypatch.setenv("MATCHER_GITHUB__WELCOME_REFRESH_DAYS", "0")
    return url


def _clean(outcome, token: str, gh: FakeGitHub) -> None:
    assert gh.stats.rest + gh.stats.graphql >= 1  # the error came from GitHub's (echoed) answer
    everything = outcome.stdout + outcome.stderr
    assert token not in everything, everything
    assert token[:12] not in everything  # not even a cut-off piece of it


@pytest.mark.parametrize("shape", REST_SHAPES)
def test_portfolio_link_never_prints_the_token(
    cli_env, echo_gh, echo_token, shape, capsys, monkeypatch
):
    echo_authorization(echo_gh, shape)
    outcome = run_main(capsys, monkeypatch, "-v", "portfolio", "link", "ada", "--learner", "42")
    assert outcome.returncode == 1 and "error: " in outcome.stderr
    _clean(outcome, echo_token, echo_gh)


@pytest.mark.parametrize("shape", REST_SHAPES)
def test_portfolio_refresh_never_prints_the_token(
    cli_env, echo_gh, echo_token, shape, capsys, monkeypatch
):
    echo_authorization(echo_gh, shape, rest=r"^/search/")  # the user is found; the search fails
    outcome = run_main(capsys, monkeypatch, "-v", "portfolio", "refresh", "ada")
    assert outcome.returncode == 1 and "error: " in outcome.stderr
    _clean(outcome, echo_token, echo_gh)


@pytest.mark.parametrize("shape", GRAPHQL_SHAPES)
def test_sync_never_prints_or_stores_the_token(
    cli_env, echo_gh, echo_token, shape, capsys, monkeypatch
):
    echo_authorization(echo_gh, shape)
    outcome = run_main(
        capsys, monkeypatch, "-v", "sync", "--repos", "acme/lib,acme/vision", "--no-embed"
    )
    assert outcome.returncode == 1
    _clean(outcome, echo_token, echo_gh)
    db = Database(cli_env)
    try:
        errors = [s.last_error or "" for s in load_sync_states(db).values()]
    finally:
        db.close()
    assert all(echo_token not in e and echo_token[:12] not in e for e in errors)
    assert errors or shape == "401"  # a rejected echo_token stops the sync before any repository
    if shape.startswith("graphql"):  # the server's words are kept, the echo_token is not
        assert any("[redacted]" in e for e in errors), errors
