"""`sync` against the fake GitHub: the Done-when scenarios of issue 3."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matcher.catalog import Catalog, RepoEntry
from matcher.github import PROBE_PAGE_SIZE
from matcher.store import Database
from matcher.store.issues import load_issues
from matcher.store.sync_state import load_issue_signals, load_repo_meta, load_sync_states
from tests.fakes.github_fixtures import TOKEN, make_env, pool, reference, snapshot

ROOT = Path(__file__).resolve().parents[2]


class Killed(BaseException):
    """Stands for the process being killed: nothing in the sync may catch it."""


def kill_after(n: int):
    sent = [0]

    def hook(method: str, url: str) -> None:
        if sent[0] >= n:
            raise Killed()
        sent[0] += 1

    return hook


def test_first_sync_stores_all_1000_with_signals_second_costs_one_request_per_batch(sync_env):
    first = sync_env.run()
    assert not first.repos_failed and len(first.repos_ok) == 50
    assert first.added == 1000 and first.candidates == 1000 and first.embedded == 1000
    assert (
        first.graphql_requests == 5 and first.graphql_points == sync_env.server.stats.graphql_points
    )
    issues = load_issues(sync_env.db, open_only=False)
    assert len(issues) == 1000 and all(i.is_open and not i.is_taken for i in issues)
    assert all(i.stars and i.topics and i.niches == ("nlp",) for i in issues)
    signals = load_issue_signals(sync_env.db)
    assert len(signals) == 1000 and all(s.beginner_strength > 0 for s in signals.values())
    assert all(s.watermark and not s.cursor for s in load_sync_states(sync_env.db).values())

    second = sync_env.run()
    batches = -(-50 // sync_env.settings.github.repos_per_query)
    assert second.requests <= batches and second.rest_requests == 0
    assert second.added == second.changed == 0 and second.embedded == 0
    assert second.graphql_points < first.graphql_points
    assert sync_env.embedder.encoded == 1000
    assert len(pool(sync_env.db)) == 1000


def test_closed_assigned_linked_claimed_leave_the_pool_exactly(sync_env):
    sync_env.run()
    urls = sorted(pool(sync_env.db))
    gh = sync_env.server
    gone = set()
    for url in urls[0:3]:
        gh.close_issue(url)
    for url in urls[100:103]:
        gh.assign(url, "someone")
    for url, kind in zip(urls[200:203], ["closing", "connected", "cross"], strict=True):
        gh.link_pr(url, kind)
    for url in urls[300:303]:
        gh.add_comment(url, "Hey, can I work on this? /assign")
    gone.update(urls[0:3] + urls[100:103] + urls[200:203] + urls[300:303])
    gh.add_comment(urls[400], "Thanks, this would help me too!")  # not a claim: stays
    gh.link_pr(urls[401], "closing", state="CLOSED")  # an abandoned PR: stays
    gh.edit_issue(urls[500], title="Improve the tokenizer docs (updated)")  # changed text: stays

    report = sync_env.run()
    assert report.left_pool == 12 and not report.repos_failed
    assert pool(sync_env.db) == set(urls) - gone
    assert report.changed == 15 and report.embedded == 1
    assert report.graphql_requests == 5


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


def test_cli_sync_sigkilled_mid_run_resumes_without_refetching_and_loses_nothing(
    fake_github, tmp_path
):
    """A real `python -m matcher sync` process, SIGKILLed while its 4th of 6 batches is in flight.

    30 repositories x 20 issues, 5 repositories per query: batches 1-3 (15 repositories) are stored
    when the fake receives request 4 and holds it back; the test then kills the process. The rerun
    sends the 15 finished repositories only the incremental probe (`since` their watermark, one
    issue back each) and fetches the 15 others once; the final store equals a fault-free run's."""
    names = fake_github.seed(repos=30, issues_per_repo=20)
    finished, unfinished = names[:15], names[15:]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATCHER_", "GITHUB_TOKEN"))}
    env.update(
        GITHUB_TOKEN=TOKEN,
        MATCHER_GITHUB__API_URL=fake_github.url,
        MATCHER_GITHUB__GRAPHQL_URL=fake_github.graphql_url,
        MATCHER_GITHUB__REPOS_PER_QUERY="5",
        MATCHER_GITHUB__TIMEOUT_SECONDS="120",
        MATCHER_GITHUB__WELCOME_REFRESH_DAYS="0",  # counts issue pages only
    )  # the held request must not time out and retry
    command = [
        sys.executable,
        "-m",
        "matcher",
        "sync",
        "--repos",
        ",".join(names),
        "--no-embed",
        "--json",
    ]

    def store(name: str) -> tuple[str, dict]:
        return f"sqlite:///{tmp_path / name}", {
            **env,
            "MATCHER_DATABASE_URL": f"sqlite:///{tmp_path / name}",
        }

    def counts() -> tuple[int, int, int]:
        return fake_github.stats.graphql, fake_github.stats.rest, len(fake_github.stats.pages)

    def run(run_env: dict) -> tuple[dict, tuple[int, int], list]:
        before = counts()
        proc = subprocess.run(
            command, capture_output=True, text=True, env=run_env, cwd=ROOT, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        after = counts()
        requests = (after[0] - before[0], after[1] - before[1])
        return json.loads(proc.stdout), requests, fake_github.stats.pages[before[2] :]

    # The fault-free reference: 6 requests, every repository's 20 issues in one full page.
    ref_url, ref_env = store("reference.sqlite")
    fresh, fresh_requests, fresh_pages = run(ref_env)
    assert fresh_requests == (6, 0) and fresh["graphql_requests"] == 6 and fresh["added"] == 600
    assert sum(p.returned for p in fresh_pages) == 600

    # The killed run: request 4 is held back; when it arrives, SIGKILL.
    url, run_env = store("store.sqlite")
    fake_github.faults.hang_seconds = 120
    fake_github.faults.add("timeout", count=1, target="graphql", after=3)
    before = counts()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env, cwd=ROOT
    )
    try:
        deadline = 90.0
        while not fake_github.faults.holding.wait(0.1):
            deadline -= 0.1
            if proc.poll() is not None or deadline <= 0:
                err = proc.stderr.read() if proc.poll() is not None else ""
                pytest.fail(f"the sync never reached batch 4 (exit {proc.returncode}): {err}")
        os.kill(proc.pid, signal.SIGKILL)
        out, _err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)
        fake_github.faults.release()
    assert (
        proc.returncode == -signal.SIGKILL and out == ""
    )  # killed before it could print a summary
    after = counts()
    assert (after[0] - before[0], after[1] - before[1]) == (
        4,
        0,
    )  # 3 answered batches + the held one
    assert fake_github.faults.served == ["timeout"]

    db, ref = Database(url), Database(ref_url)
    try:
        # What the 3 finished batches fetched is stored, exactly as the reference stored it;
        # nothing else.
        assert len(load_issues(db, open_only=False)) == 300
        assert load_issues(db, open_only=False) == load_issues(ref, open_only=False, repos=finished)
        states = load_sync_states(db)
        assert sorted(states) == sorted(finished)
        assert all(s.watermark and not s.cursor and not s.pass_mode for s in states.values())
        db.close()

        resumed, resumed_requests, resumed_pages = run(run_env)
        assert resumed_requests == (6, 0) and resumed["graphql_requests"] == 6
        assert sorted(resumed["repos_ok"]) == sorted(names) and not resumed["repos_failed"]
        assert resumed["added"] == 300 and resumed["changed"] == 0 and resumed["unchanged"] == 15
        # Each finished repository: one probe page (since its watermark), answering the issue at the
        # watermark and the seed's 2 closed beginner issues changed after it (never stored, so they
        # do not move the watermark). Each unfinished one: one full page of its 20 issues.
        # Nothing twice.
        by_repo = {}
        for page in resumed_pages:
            by_repo.setdefault(page.repo, []).append(page)
        assert sorted(by_repo) == sorted(names) and all(len(p) == 1 for p in by_repo.values())
        for repo in finished:
            (page,) = by_repo[repo]
            assert page.since is not None and page.after is None and page.first == PROBE_PAGE_SIZE
            assert page.returned == 1 + 2 and not page.has_next
        for repo in unfinished:
            (page,) = by_repo[repo]
            assert (
                page.since is None
                and page.after is None
                and page.returned == 20
                and not page.has_next
            )
        assert sum(p.returned for p in resumed_pages) == 15 * 3 + 300  # vs 600 for the fresh run

        db = Database(url)
        assert load_issues(db, open_only=False) == load_issues(ref, open_only=False)
        assert snapshot(db) == snapshot(ref)
    finally:
        db.close()
        ref.close()


def test_unknown_repository_is_reported_and_the_rest_synced(sync_env):
    report = sync_env.run(repos=sync_env.repos[:3] + ["nobody/nothing"])
    assert sorted(report.repos_ok) == sorted(sync_env.repos[:3])
    assert "Could not resolve" in report.repos_failed["nobody/nothing"]


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


def test_cli_sync_json_summary(fake_github, tmp_path, monkeypatch):
    from matcher.cli import app

    names = fake_github.seed(repos=3, issues_per_repo=4)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"github:\n  api_url: {fake_github.url}\n  graphql_url: {fake_github.graphql_url}\n"
    )
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    args = [
        "--config",
        str(config),
        "--db",
        str(tmp_path / "s.sqlite"),
        "sync",
        "--repos",
        ",".join(names),
        "--no-embed",
        "--json",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["added"] == 12 and summary["graphql_points"] > 0
    # one issues query for the 3 repositories, then one welcoming query for all 3 (1 point)
    assert summary["requests"] == 1 + 1 and summary["welcome_queries"] == 3
    assert summary["welcome_requests"] == 1 and summary["welcome_points"] == 1
    assert not summary["welcome_failed"] and summary["welcome_repos_per_query"] == 6
    assert TOKEN not in result.output


def test_cli_missing_or_bad_token_is_one_line(fake_github, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        f"github:\n  api_url: {fake_github.url}\n  graphql_url: {fake_github.graphql_url}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_TOKEN")}
    base = [
        sys.executable,
        "-m",
        "matcher",
        "--config",
        str(config),
        "--db",
        str(tmp_path / "s.sqlite"),
        "sync",
        "--repos",
        "a/b",
        "--no-embed",
    ]
    missing = subprocess.run(base, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    env["GITHUB_TOKEN"] = "ghp_wrong_token_value"
    wrong = subprocess.run(base, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    for result, text in ((missing, "no GitHub token"), (wrong, "Bad credentials")):
        assert result.returncode == 1 and text in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert "ghp_wrong_token_value" not in result.stderr and result.stdout == ""


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


def test_cli_failed_repository_is_reported_once_in_the_log_and_once_in_the_summary(
    fake_github, tmp_path
):
    names = fake_github.seed(repos=1, issues_per_repo=2)
    env = {
        **os.environ,
        "GITHUB_TOKEN": TOKEN,
        "MATCHER_GITHUB__API_URL": fake_github.url,
        "MATCHER_GITHUB__GRAPHQL_URL": fake_github.graphql_url,
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "matcher",
            "--db",
            str(tmp_path / "s.sqlite"),
            "sync",
            "--repos",
            f"{names[0]},nobody/nothing",
            "--no-embed",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Could not resolve to a Repository") == 2, proc.stderr
    assert "failed nobody/nothing" in proc.stderr and TOKEN not in proc.stderr + proc.stdout
