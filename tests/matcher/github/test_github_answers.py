"""GitHub as it really answers (issue 11): each case through the fake and the production clients.

Every sync under a fault must end with the store a fault-free run leaves (`reference`).
"""

from __future__ import annotations

import socket
import time

import pytest
from typer.testing import CliRunner

from matcher.errors import RateLimitError
from matcher.store.issues import load_issues
from tests.fakes.github_fixtures import TOKEN, make_env, pool, reference, snapshot
from tests.fakes.github_server import FakeGitHub


def _sync_under(env, tmp_path, arrange) -> tuple[dict, object]:
    """The reference store, then a run of `env` after `arrange(server)` set the fault up."""
    expected = reference(env, tmp_path)
    arrange(env.server)
    return expected, env.run()


# -- 1. primary GraphQL rate limit answered as HTTP 200 ---------------------------------------


def test_graphql_rate_limit_in_a_200_waits_for_the_reset_and_loses_nothing(small_env, tmp_path):
    def arrange(gh: FakeGitHub) -> None:
        gh.faults.retry_after = 30
        gh.faults.add("graphql_rate_limit", after=1, target="graphql")

    expected, report = _sync_under(small_env, tmp_path, arrange)
    assert not report.repos_failed and len(report.repos_ok) == 20
    waits = small_env.last_sleep.waits
    # one wait, until the reset the answer's headers named (30 s ahead), not a blind retry
    assert len(waits) == 1 and 28 <= waits[0] <= 32
    assert snapshot(small_env.db) == expected


# -- 2. secondary limits answered as HTTP 200 -------------------------------------------------


def test_secondary_limit_in_a_200_waits_and_repeats_wait_longer(small_env, tmp_path):
    def arrange(gh: FakeGitHub) -> None:
        gh.faults.add("secondary200", count=3, after=1, target="graphql")

    expected, report = _sync_under(small_env, tmp_path, arrange)
    assert not report.repos_failed
    assert small_env.last_sleep.waits == [60.0, 120.0, 240.0]  # a minute, then doubling
    assert snapshot(small_env.db) == expected


# -- 3. heavy queries: 502/504 after 10 s, timeouts, RESOURCE_LIMITS_EXCEEDED ----------------


@pytest.mark.parametrize("answer", ["502", "504", "timeout", "resource_limits"])
def test_heavy_query_shrinks_learns_the_size_and_stores_every_issue(fake_github, tmp_path, answer):
    env = make_env(fake_github, tmp_path / "store.sqlite", repos=20, issues=60)
    try:
        expected = reference(env, tmp_path)
        fake_github.heavy_nodes = 12_000  # 10 repositories x 100 issues is ~47,000 nodes
        fake_github.heavy_answer = answer
        fake_github.faults.hang_seconds = 2.0
        report = env.run()
        assert not report.repos_failed and len(report.repos_ok) == 20
        assert report.shrinks >= 1 and report.retries == 0
        assert report.repos_per_query * report.issues_per_page < 10 * 100
        refused = fake_github.heavy_seen
        assert refused == sorted(refused, reverse=True) and len(set(refused)) == len(refused)
        assert snapshot(env.db) == expected
        # the size that worked is kept: every query after the last refusal went through
        assert len(refused) == report.shrinks
    finally:
        env.db.close()


# -- 4. partial errors inside one issue --------------------------------------------------------


def test_error_inside_one_issue_keeps_the_page_and_refetches_that_issue(small_env, tmp_path):
    first_repo = small_env.repos[0]
    newest = max(small_env.server.state.repo_issues(first_repo), key=lambda i: i.updated_at)
    small_env.server.link_pr(newest.url, "connected")  # its timeline is what makes it taken
    second = sorted(
        (i for i in small_env.server.state.repo_issues(first_repo) if i.state == "OPEN"),
        key=lambda i: i.updated_at,
        reverse=True,
    )[1]
    small_env.server.link_pr(second.url, "connected")

    def arrange(gh: FakeGitHub) -> None:
        gh.faults.add("partial", target="graphql")

    expected, report = _sync_under(small_env, tmp_path, arrange)
    assert not report.repos_failed and first_repo in report.repos_ok
    assert second.url not in pool(small_env.db)  # refetched: its connected PR was seen
    assert snapshot(small_env.db) == expected


# -- 8. GitHub unreachable ---------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_sync_stops_at_once_with_one_line_and_loads_no_model(tmp_path, monkeypatch):
    from matcher.cli import app

    port = _closed_port()
    monkeypatch.setenv("MATCHER_GITHUB__API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MATCHER_GITHUB__GRAPHQL_URL", f"http://127.0.0.1:{port}/graphql")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    loaded = []
    monkeypatch.setattr("matcher.embedding.load_embedder", lambda *a, **k: loaded.append(a))
    started = time.monotonic()
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "s.sqlite"), "sync"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 1 and elapsed < 60
    assert isinstance(result.exception, Exception)
    line = str(result.exception)
    assert line == f"cannot reach GitHub at http://127.0.0.1:{port}: check the network"
    assert not loaded


def test_offline_portfolio_refresh_stops_at_once_with_one_line(tmp_path, monkeypatch):
    from matcher.errors import UnreachableError
    from matcher.github.pulls import PullsClient, make_github

    port = _closed_port()
    client = PullsClient(make_github(f"http://127.0.0.1:{port}", TOKEN, retries=5, timeout=5))
    started = time.monotonic()
    with pytest.raises(UnreachableError) as err:
        client.merged_pulls("ada")
    assert time.monotonic() - started < 5
    assert str(err.value) == f"cannot reach GitHub at http://127.0.0.1:{port}: check the network"


# -- 9. smaller: 429 through PyGithub, renamed repositories, disconnected PRs, reactions ----------


def test_429_through_pygithub_is_a_rate_limit_error(fake_github):
    from matcher.github.pulls import PullsClient, make_github

    fake_github.state.users["ada"] = {}
    fake_github.faults.add("429", target="rest")
    client = PullsClient(make_github(fake_github.url, TOKEN, retries=2, timeout=5))
    with pytest.raises(RateLimitError):
        client.user("ada")


def test_renamed_repository_keeps_its_configured_name(small_env):
    small_env.run()
    old = small_env.repos[3]
    small_env.server.rename_repo(old, old + "-renamed")
    small_env.server.add_issue(old + "-renamed", "A new docs task", labels=["good first issue"])
    report = small_env.run()
    assert old in report.repos_ok and not report.repos_failed
    titles = {i.title for i in load_issues(small_env.db, open_only=False, repos=[old])}
    assert "A new docs task" in titles


def test_disconnected_pull_request_no_longer_takes_the_issue(small_env):
    url = small_env.server.state.repo_issues(small_env.repos[0])[0].url
    pr = small_env.server.link_pr(url, "connected")
    small_env.run()
    assert url not in pool(small_env.db)
    small_env.server.disconnect_pr(url, pr)
    small_env.run()
    assert url in pool(small_env.db)


def test_reactions_connection_without_first_is_refused_like_the_docs_say(fake_github):
    from tests.fakes.github_fixtures import fake_client

    fake_github.seed(1, 1)
    query = '{ repository(owner: "ml-org0", name: "project-000") { issues(first: 1) { nodes { '
    with fake_client(fake_github) as client:
        bare = client.graphql.query(query + "reactions { totalCount } } } } }")
        paged = client.graphql.query(query + "reactions(first: 1) { totalCount } } } } }")
    assert "data" not in bare and "first" in bare["errors"][0]["message"]
    assert paged["data"]["repository"]["issues"]["nodes"][0]["reactions"]["totalCount"] == 0


def test_closing_refs_travel_as_variables():
    from matcher.github.graphql import build_closing_refs_query

    urls = ["https://github.com/acme/lib/pull/1", 'https://github.com/a/b/pull/2"){x}']
    query, variables = build_closing_refs_query(urls)
    assert all(url not in query for url in urls) and list(variables.values()) == urls
