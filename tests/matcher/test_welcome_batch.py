"""The welcoming query batched across repositories (issue 13, part 1): requests, points, errors
kept per repository, shrinking when GitHub gives up, the weekly refresh, the sync summary."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from matcher.github.welcome import build_welcome_query
from matcher.models import Welcome
from matcher.settings import Settings
from matcher.store.issues import load_welcome, save_welcome
from matcher.sync import SyncReport, refresh_welcome
from tests.conftest import NOW
from tests.fakes import graphql_engine as gql
from tests.fakes.github_fixtures import TOKEN, fake_client, fake_settings, make_env
from tests.fakes.github_server import FakePull

GITHUB_NODE_LIMIT = 500_000  # GitHub refuses a query that could return more nodes than this


def _measure(repos: int) -> tuple[int, int]:
    """GitHub's points and nodes for a welcoming query of `repos` repositories (the fake
    implements GitHub's published formula)."""
    query, variables = build_welcome_query([f"org-{k}/lib-{k}" for k in range(repos)])
    doc = gql.parse(query)
    points, nodes, errors = gql.measure(doc, doc.operations[0], variables)
    assert errors == []
    return points, nodes


def test_the_default_batch_is_the_most_repositories_one_point_holds():
    size = Settings().github.welcome_repos_per_query
    assert _measure(1) == (1, 271)
    assert _measure(size) == (1, 271 * size)
    assert _measure(size + 1)[0] == 2  # one more repository and the query costs 2 points
    assert _measure(50)[1] < GITHUB_NODE_LIMIT  # even the largest allowed batch fits


@pytest.mark.parametrize("size", [1, 6, 14])
def test_sync_asks_n_repositories_in_n_over_size_queries(fake_github, tmp_path, size):
    env = make_env(
        fake_github,
        tmp_path / "store.sqlite",
        repos=14,
        issues=2,
        welcome_refresh_days=7,
        welcome_repos_per_query=size,
    )
    try:
        report = env.run(now=NOW)
        batches = -(-14 // size)
        assert report.welcome_requests == batches and report.welcome_queries == 14
        # the issue pass is 2 queries (10 repositories each); every other request is welcoming
        assert fake_github.stats.graphql == 2 + batches == report.graphql_requests
        points = {1: 14, 6: 3, 14: 3}[size]  # 1 point each; 1+1+1; round(14 x 23 / 100)
        assert report.welcome_points == points
        stored = load_welcome(env.db)
        assert len(stored) == 14 and sum(cost for _, cost in stored.values()) == points
        assert not report.welcome_failed and report.welcome_shrinks == 0
    finally:
        env.db.close()


def _refresh(server, db, repos, **github) -> SyncReport:
    settings = fake_settings(server, welcome_refresh_days=7, **github)
    report = SyncReport()
    with fake_client(server, settings) as client:
        refresh_welcome(db, settings, client, repos, report, NOW)
        report.graphql_requests = client.stats()["graphql_requests"]
    return report


def test_a_repository_github_cannot_find_fails_alone_in_its_batch(fake_github, db):
    names = fake_github.seed(4, 1)
    asked = [names[0], "ghost/missing", *names[1:]]
    report = _refresh(fake_github, db, asked)
    assert report.welcome_requests == report.graphql_requests == 1
    assert set(load_welcome(db)) == {n.lower() for n in names}
    assert list(report.welcome_failed) == ["ghost/missing"]
    assert "Could not resolve to a Repository" in report.welcome_failed["ghost/missing"]


def test_a_malformed_block_fails_that_repository_and_keeps_the_others(fake_github, db):
    names = fake_github.seed(3, 1)
    fake_github.state.repos[names[1].lower()].pulls = [FakePull(1, NOW - timedelta(days=3))]
    fake_github.corrupt_repos.add(names[1])  # its pull requests' createdAt: "yesterday"
    report = _refresh(fake_github, db, names)
    assert set(load_welcome(db)) == {names[0].lower(), names[2].lower()}
    assert list(report.welcome_failed) == [names[1]] and report.welcome_requests == 1
    assert "createdAt is not a timestamp" in report.welcome_failed[names[1]]


@pytest.mark.parametrize("answer", ["resource_limits", "502", "timeout"])
def test_a_heavy_welcoming_query_is_asked_again_smaller_and_loses_no_repository(
    fake_github, db, answer
):
    names = fake_github.seed(14, 1)
    fake_github.heavy_nodes = 1_000  # 3 repositories (813 nodes) pass, 6 (1,626) do not
    fake_github.heavy_answer = answer
    fake_github.faults.hang_seconds = 2.0
    report = _refresh(fake_github, db, names, welcome_repos_per_query=6)
    assert set(load_welcome(db)) == {n.lower() for n in names} and not report.welcome_failed
    assert report.welcome_shrinks == 1 and report.welcome_repos_per_query == 3
    assert fake_github.heavy_seen == [1_626]  # refused once; the size that worked was kept
    if answer == "resource_limits":
        # GitHub answered the first 3 of the 6; the other 3 go in the next, smaller query
        assert report.graphql_requests == 1 + 4 and report.welcome_requests == 5
    else:
        assert report.graphql_requests == 1 + 5 and report.welcome_requests == 5


def test_the_smallest_query_refused_fails_that_repository_without_looping(fake_github, db):
    names = fake_github.seed(2, 1)
    fake_github.heavy_nodes = 100  # not even one repository (271 nodes) passes
    fake_github.heavy_answer = "resource_limits"
    report = _refresh(fake_github, db, names, welcome_repos_per_query=2)
    assert load_welcome(db) == {}
    assert set(report.welcome_failed) == set(names)
    assert "RESOURCE_LIMITS_EXCEEDED" in report.welcome_failed[names[0]]
    assert report.welcome_repos_per_query == 1 and report.graphql_requests <= 4


def test_the_weekly_refresh_asks_only_repositories_whose_figures_are_a_week_old(fake_github, db):
    names = fake_github.seed(8, 1)
    fresh, stale = names[:3], names[3:6]  # names[6:] were never asked
    for repo in fresh:
        save_welcome(db, repo, Welcome(1, 1, fetched_at=NOW - timedelta(days=6)), cost=1)
    for repo in stale:
        save_welcome(db, repo, Welcome(1, 1, fetched_at=NOW - timedelta(days=7)), cost=1)
    report = _refresh(fake_github, db, names, welcome_repos_per_query=6)
    assert report.welcome_queries == 5 and report.welcome_requests == report.graphql_requests == 1
    stored = load_welcome(db)
    assert {r for r, (w, _) in stored.items() if w.fetched_at == NOW} == {
        r.lower() for r in names[3:]
    }
    assert all(stored[r.lower()][0].fetched_at == NOW - timedelta(days=6) for r in fresh)
    again = _refresh(fake_github, db, names)
    assert again.welcome_queries == again.graphql_requests == 0


def test_the_sync_summary_gives_the_welcoming_figures(fake_github, tmp_path, monkeypatch):
    from matcher.cli import app

    names = fake_github.seed(repos=8, issues_per_repo=1)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"github:\n  api_url: {fake_github.url}\n  graphql_url: {fake_github.graphql_url}\n"
    )
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    base = ["--config", str(config), "--db", str(tmp_path / "s.sqlite"), "sync"]
    args = [*base, "--repos", ",".join(names), "--no-embed"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    # 8 repositories, 6 a query: 2 queries of 1 point each
    assert "welcoming figures: 8 repositories in 2 requests, 2 GraphQL points" in result.stderr
    again = CliRunner().invoke(app, [*args, "--json"])
    summary = json.loads(again.stdout)
    assert summary["welcome_queries"] == summary["welcome_requests"] == 0  # within the week
    assert "welcoming figures" not in again.stderr
