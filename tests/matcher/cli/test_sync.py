"""`matcher sync` as a command and as a real process against the fake GitHub (issue 3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matcher.github import PROBE_PAGE_SIZE
from matcher.store import Database
from matcher.store.issues import load_issues
from matcher.store.sync_state import load_sync_states
from tests.fakes.github_fixtures import TOKEN, snapshot

ROOT = Path(__file__).resolve().parents[3]


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
