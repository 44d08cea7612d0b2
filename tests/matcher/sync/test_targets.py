"""`sync` against the fake GitHub: which repositories it walks (by topic, in any case)."""

from __future__ import annotations

from matcher.catalog import Catalog, RepoEntry
from matcher.store.issues import load_issues
from matcher.store.repo_meta import load_repo_meta
from tests.fakes.github_fixtures import make_env, pool


def test_discovery_by_topic_adds_repositories_and_is_304_the_second_time(fake_github, tmp_path):
    env = make_env(
        fake_github,
        tmp_path / "store.sqlite",
        repos=12,
        issues=2,
        discover_topics=["nlp"],
        discover_min_stars=500,
    )
    env.catalog = Catalog(env.catalog.labels, (RepoEntry(env.repos[0], ("docs",)),))
    report = env.run(discover=True)
    nlp = [
        r.full_name
        for r in fake_github.state.repos.values()
        if "nlp" in r.topics and r.stars >= 500
    ]
    assert sorted(report.repos_ok) == sorted([env.repos[0]] + nlp)
    meta = load_repo_meta(env.db)
    assert {meta[r].source for r in nlp} == {"discovered"} and meta[nlp[0]].niches == ("nlp",)
    again = env.run(discover=True)
    assert (
        again.not_modified == 1
        and again.rest_requests == 1
        and sorted(again.repos_ok) == sorted(report.repos_ok)
    )
    env.db.close()


def test_a_repository_named_in_another_case_still_takes_closed_issues_out(fake_github, tmp_path):
    """GitHub names are case-insensitive; issues are stored under GitHub's spelling."""
    env = make_env(fake_github, tmp_path / "store.sqlite", repos=2, issues=3)
    shouted = [r.upper() for r in env.repos]
    env.catalog = Catalog(
        env.catalog.labels, tuple(RepoEntry(r, ("vision",), "Python") for r in shouted)
    )
    first = env.run()
    assert first.added == 6 and first.candidates == 6
    assert {i.niches for i in load_issues(env.db)} == {("vision",)}
    closed = sorted(pool(env.db))[0]
    fake_github.close_issue(closed)
    second = env.run(
        repos=[r.lower() for r in env.repos] + [env.repos[0].upper()]
    )  # typed in any case
    assert second.left_pool == 1 and second.candidates == 5 and not second.repos_failed
    assert pool(env.db) == {i.url for i in load_issues(env.db, open_only=False)} - {closed}
    assert len(load_issues(env.db, open_only=False, repos=[env.repos[0].title()])) == 3
    env.db.close()
