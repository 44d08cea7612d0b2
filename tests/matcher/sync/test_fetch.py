"""`sync` against the fake GitHub: faults, failed repositories, killed runs resumed (issue 3)."""

from __future__ import annotations

import pytest

from matcher.catalog import Catalog, RepoEntry
from matcher.store.issues import load_issues
from matcher.store.sync_state import load_sync_states
from tests.fakes.github_fixtures import make_env, reference, snapshot


class Killed(BaseException):
    """Stands for the process being killed: nothing in the sync may catch it."""


def kill_after(n: int):
    sent = [0]

    def hook(method: str, url: str) -> None:
        if sent[0] >= n:
            raise Killed()
        sent[0] += 1

    return hook


@pytest.mark.parametrize("kind", ["secondary", "429", "primary", "502", "timeout", "truncated"])
def test_each_fault_is_survived_and_the_store_matches_a_fault_free_run(small_env, tmp_path, kind):
    expected = reference(small_env, tmp_path)
    small_env.server.faults.add(kind, count=2, after=1)  # in the middle of the run
    report = small_env.run()
    # a 502 or a timeout may mean "too heavy": the query is asked smaller instead of resent
    assert not report.repos_failed and report.retries + report.shrinks == 2
    assert small_env.server.faults.served == [kind, kind]
    assert snapshot(small_env.db) == expected


def test_retries_exhausted_fail_one_batch_and_the_next_run_completes(small_env, tmp_path):
    expected = reference(small_env, tmp_path)
    small_env.server.faults.add("500", count=5, after=1)  # max_retries=4: the 2nd batch gives up
    report = small_env.run()
    assert len(report.repos_failed) == 10 and len(report.repos_ok) == 10
    assert all("500" in reason and "\n" not in reason for reason in report.repos_failed.values())
    again = small_env.run()
    assert not again.repos_failed and again.added == 100
    assert snapshot(small_env.db) == expected


def test_malformed_answer_fails_that_repository_only(small_env, tmp_path):
    expected = reference(small_env, tmp_path)
    bad = small_env.repos[7]
    small_env.server.corrupt_repos.add(bad)
    report = small_env.run()
    assert list(report.repos_failed) == [bad] and len(report.repos_ok) == 19
    assert bad in report.repos_failed[bad] and "malformed" in report.repos_failed[bad]
    small_env.server.corrupt_repos.clear()
    again = small_env.run()
    assert bad in again.repos_ok and again.added == 10
    assert snapshot(small_env.db) == expected


def test_killed_run_resumes_without_refetching_and_loses_nothing(small_env, tmp_path):
    expected = reference(small_env, tmp_path)
    before = small_env.server.stats.graphql
    with pytest.raises(Killed):
        small_env.run(client_options={"before_request": kill_after(1)})
    assert (
        len(load_issues(small_env.db, open_only=False)) == 100
    )  # the first batch of 10 x 10 stored
    resumed = small_env.run()
    # The 10 finished repositories only get the cheap "changed since?" probe (one shared request,
    # which returns just the issue at each watermark); the 10 others are fetched once.
    assert resumed.graphql_requests == 2 and resumed.added == 100
    assert resumed.changed == 0 and resumed.unchanged == 10
    assert small_env.server.stats.graphql - before == 3
    assert snapshot(small_env.db) == expected


def test_kill_inside_a_multi_page_repository_resumes_from_its_cursor(fake_github, tmp_path):
    env = make_env(
        fake_github, tmp_path / "store.sqlite", repos=0, repos_per_query=2, issues_per_repo=1000
    )
    fake_github.seed(repos=2, issues_per_repo=0, noise=0)
    names = sorted(r.full_name for r in fake_github.state.repos.values())
    for k in range(250):
        fake_github.add_issue(names[0], f"big task {k}", labels=["good first issue"])
    fake_github.add_issue(names[1], "small task", labels=["easy"])
    env.catalog = Catalog(env.catalog.labels, tuple(RepoEntry(n) for n in names))
    expected = reference(env, tmp_path)
    reference_requests = fake_github.stats.graphql
    with pytest.raises(Killed):
        env.run(client_options={"before_request": kill_after(1)})
    state = load_sync_states(env.db)[names[0]]
    assert state.cursor and state.pass_mode == "full" and state.pass_fetched == 100
    resumed = env.run()
    assert resumed.added == 150 and resumed.unchanged == 1 and not resumed.repos_failed
    assert fake_github.stats.graphql - reference_requests == reference_requests
    assert snapshot(env.db) == expected
    env.db.close()
