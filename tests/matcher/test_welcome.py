"""The welcoming signal (issue 13, part 1): query answer, storage, sync cadence, ranking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from matcher.engine import MatchEngine
from matcher.errors import MalformedResponseError
from matcher.github.welcome import parse_welcome
from matcher.models import Profile, Welcome
from matcher.signals import welcoming, welcoming_reason
from matcher.snapshot import import_snapshot, issue_to_record, read_snapshot, write_snapshot
from matcher.store.issues import load_issues, load_welcome, save_welcome, upsert_issues
from tests.conftest import NOW, make_issue
from tests.fakes.embedder import HashingEmbedder
from tests.fakes.github_fixtures import make_env
from tests.fakes.github_server import Comment, FakePull

FETCHED = datetime(2026, 11, 30, tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _pr(association: str, opened_days_ago: float, merged_after: float | None = None) -> dict:
    created = FETCHED - timedelta(days=opened_days_ago)
    merged = None if merged_after is None else _iso(created + timedelta(days=merged_after))
    return {"authorAssociation": association, "createdAt": _iso(created), "mergedAt": merged}


def _issue(association: str, opened_days_ago: float, comments: list[tuple[str, float]]) -> dict:
    created = FETCHED - timedelta(days=opened_days_ago)
    return {
        "authorAssociation": association,
        "createdAt": _iso(created),
        "comments": {
            "nodes": [
                {"authorAssociation": who, "createdAt": _iso(created + timedelta(days=after))}
                for who, after in comments
            ]
        },
    }


def test_the_answer_counts_newcomers_prs_in_the_window_and_how_fast_they_merged():
    repository = {
        "recent": {
            "nodes": [
                _pr("FIRST_TIME_CONTRIBUTOR", 10, merged_after=2),
                _pr("FIRST_TIMER", 30, merged_after=4),
                _pr("NONE", 40, merged_after=9),
                _pr("NONE", 50),  # never merged
                _pr("MEMBER", 5, merged_after=1),  # not a newcomer
                _pr("CONTRIBUTOR", 6),  # contributed before
                _pr("FIRST_TIME_CONTRIBUTOR", 400, merged_after=1),  # outside the 6 months
            ]
        },
        "lastMerged": {"nodes": [{"mergedAt": _iso(FETCHED - timedelta(days=3))}]},
        "newIssues": {
            "nodes": [
                _issue("NONE", 10, [("NONE", 0.5), ("MEMBER", 1.0)]),
                _issue("CONTRIBUTOR", 20, [("OWNER", 3.0), ("MEMBER", 4.0)]),
                _issue("NONE", 30, [("CONTRIBUTOR", 1.0)]),  # no maintainer answered
                _issue("MEMBER", 5, [("OWNER", 0.1)]),  # a maintainer's own issue
                _issue("NONE", 300, [("OWNER", 0.1)]),  # outside the window
            ]
        },
    }
    welcome = parse_welcome(repository, FETCHED)
    assert (welcome.newcomer_prs, welcome.newcomer_merged) == (4, 3)
    assert welcome.median_merge_days == 4.0
    assert welcome.days_since_merge == pytest.approx(3.0)
    assert welcome.fetched_at == FETCHED
    assert welcome.median_reply_days == 2.0  # median of 1 and 3 days


def test_a_repository_without_merges_or_pull_requests_parses_to_empty_figures():
    welcome = parse_welcome({"recent": {"nodes": []}, "lastMerged": {"nodes": []}}, FETCHED)
    assert (welcome.newcomer_prs, welcome.median_merge_days, welcome.days_since_merge) == (
        0,
        None,
        None,
    )
    assert welcoming(make_issue(1, "x", welcome=welcome)) == 0.0


@pytest.mark.parametrize(
    "repository",
    [
        None,
        {"recent": None, "lastMerged": {"nodes": []}},
        {"recent": {"nodes": [{"authorAssociation": "NONE", "createdAt": 5}]}, "lastMerged": {}},
        {"recent": {"nodes": [{"authorAssociation": "NONE", "createdAt": "yesterday"}]}},
    ],
)
def test_a_malformed_answer_is_refused_with_what_is_wrong(repository):
    with pytest.raises(MalformedResponseError, match="GitHub GraphQL"):
        parse_welcome(repository, FETCHED)


SHUNNING = Welcome(6, 0, last_merged_at=NOW - timedelta(days=20), fetched_at=NOW)
DORMANT = Welcome(0, 0, last_merged_at=NOW - timedelta(days=400), fetched_at=NOW)


def test_the_signal_rewards_merged_newcomers_and_sinks_unanswered_or_dormant_repositories():
    welcoming_9 = Welcome(
        9, 7, median_merge_days=2.0, last_merged_at=NOW, fetched_at=NOW, median_reply_days=1.2
    )
    assert welcoming(make_issue(1, "x", welcome=welcoming_9)) == pytest.approx(5 / 9)
    assert welcoming(make_issue(1, "x", welcome=SHUNNING)) == -1.0
    assert welcoming(make_issue(1, "x", welcome=DORMANT)) == -1.0
    assert welcoming(make_issue(1, "x")) == 0.0  # unmeasured: neutral
    two = Welcome(2, 2, last_merged_at=NOW, fetched_at=NOW)  # two PRs say little
    assert welcoming(make_issue(1, "x", welcome=two)) == pytest.approx(0.4)
    assert welcoming_reason(make_issue(1, "x", welcome=welcoming_9)) == (
        "merged 7 of 9 first-time contributors' PRs in the last 6 months (median 2 days to merge)"
        ", first reply to a new issue in about 1 day"
    )
    assert welcoming_reason(make_issue(1, "x", repo="a/b", welcome=DORMANT)) == (
        "nothing merged in a/b for 400 days"
    )
    assert welcoming_reason(make_issue(1, "x")) is None


@pytest.fixture
def engine(db, settings):
    return MatchEngine(db, settings, embedder=HashingEmbedder())


def _twins() -> list:
    """The same issue in three repositories: a welcoming one, one that ignores newcomers, one
    never measured."""
    title, body = "Tokenizer docs typo", "Fix a typo in the PyTorch tokenizer docs."
    return [
        make_issue(1, title, body, repo="kind/lib"),
        make_issue(1, title, body, repo="cold/lib"),
        make_issue(1, title, body, repo="unknown/lib"),
    ]


def test_alone_and_in_a_batch_the_welcoming_repository_comes_first_and_says_why(engine):
    upsert_issues(engine.db, _twins())
    save_welcome(engine.db, "kind/lib", Welcome(9, 7, 2.0, NOW, NOW), cost=1)
    save_welcome(engine.db, "Cold/Lib", SHUNNING, cost=1)
    profile = Profile(skills="PyTorch tokenizer docs")
    fast = engine.match(profile, now=NOW)
    other = Profile(id="other", skills="CUDA kernels")
    reference = engine.match_many([other, profile], now=NOW)[profile.id]
    for matches in (fast, reference):
        assert [m.issue.repo for m in matches] == ["kind/lib", "unknown/lib", "cold/lib"]
        assert [m.components["welcome"] for m in matches] == [0.5556, 0.0, -1.0]
        assert "merged 7 of 9 first-time contributors' PRs in the last 6 months" in " ".join(
            matches[0].reasons
        )
        assert "first-time" in " ".join(matches[2].reasons)  # "merged 0 of 6 ..."
        assert not any("first-time" in r for r in matches[1].reasons)
    assert [(m.issue.url, m.reasons) for m in fast] == [(m.issue.url, m.reasons) for m in reference]
    assert [m.score for m in fast] == pytest.approx([m.score for m in reference], abs=1e-6)


def test_new_figures_reach_a_warm_index_without_a_rebuild(engine):
    upsert_issues(engine.db, _twins())
    profile = Profile(skills="PyTorch tokenizer docs")
    before = engine.match(profile, now=NOW)
    assert {m.components["welcome"] for m in before} == {0.0}
    save_welcome(engine.db, "unknown/lib", DORMANT, cost=1)
    after = engine.match(profile, now=NOW)
    assert after[-1].issue.repo == "unknown/lib"
    assert after[-1].components["welcome"] == -1.0


def test_sync_stores_the_figures_and_asks_again_only_after_a_week(fake_github, tmp_path):
    env = make_env(
        fake_github, tmp_path / "store.sqlite", repos=3, issues=2, welcome_refresh_days=7
    )
    busy, quiet, _ = env.repos
    opened = NOW - timedelta(days=30)
    fake_github.state.repos[busy.lower()].pulls = [
        *[
            FakePull(
                n,
                opened + timedelta(hours=n),
                "FIRST_TIME_CONTRIBUTOR",
                opened + timedelta(days=2, hours=n),
                "MERGED",
            )
            for n in range(1, 8)
        ],
        FakePull(8, opened, "NONE"),
        FakePull(9, opened, "FIRST_TIMER", state="CLOSED"),
        FakePull(10, NOW - timedelta(days=2), "MEMBER", NOW - timedelta(days=1), "MERGED"),
    ]
    fake_github.state.repos[quiet.lower()].pulls = [FakePull(1, opened, "NONE")]
    for issue in fake_github.state.repo_issues(busy):
        issue.author_association = "NONE"
        issue.comments = [Comment("Thanks! Go ahead.", "lead", NOW - timedelta(days=1), "MEMBER")]
    try:
        first = env.run(now=NOW)
        assert first.welcome_queries == 3 and not first.welcome_failed
        assert first.welcome_requests == 1  # the 3 repositories share one query
        stored = load_welcome(env.db)
        figures, cost = stored[busy.lower()]
        assert (figures.newcomer_prs, figures.newcomer_merged) == (9, 7)
        assert figures.days_since_merge == pytest.approx(1.0)
        assert figures.median_reply_days is not None and figures.median_reply_days >= 0
        assert stored[quiet.lower()][0].median_reply_days is None
        # the query's 1 point is shared out: the stored costs add up to what it cost
        assert first.welcome_points == 1 == sum(c for _, c in stored.values()) and cost == 1
        assert stored[quiet.lower()][0].newcomer_merged == 0
        issue = load_issues(env.db, repos=[busy])[0]
        assert issue.welcome == figures

        again = env.run(now=NOW + timedelta(days=6))
        assert again.welcome_queries == 0 and again.welcome_points == 0
        assert load_welcome(env.db)[busy.lower()][0].fetched_at == NOW

        week = env.run(now=NOW + timedelta(days=8))
        assert week.welcome_queries == 3 and week.welcome_requests == 1
    finally:
        env.db.close()


def _record(**welcome) -> str:
    issue = issue_to_record(make_issue(3, "Docs typo", repo="kind/lib"))
    return json.dumps({**issue, "welcome": welcome})


def test_a_snapshot_carries_the_figures_both_ways_and_the_store_keeps_them(db, tmp_path):
    figures = Welcome(9, 7, 2.5, NOW - timedelta(days=3), NOW, median_reply_days=0.5)
    path = tmp_path / "snap.jsonl"
    write_snapshot(path, [make_issue(3, "Docs typo", repo="kind/lib", welcome=figures)])
    assert read_snapshot(path).issues[0].welcome == figures
    import_snapshot(db, path)
    assert load_welcome(db)["kind/lib"] == (figures, 0)
    assert load_issues(db)[0].welcome == figures
    plain = tmp_path / "plain.jsonl"
    write_snapshot(plain, [make_issue(4, "Docs typo")])
    assert "welcome" not in plain.read_text() and read_snapshot(plain).issues[0].welcome is None


@pytest.mark.parametrize(
    ("welcome", "said"),
    [
        ({"newcomer_prs": 2, "newcomer_merged": 3, "fetched_at": "2026-11-01"}, "exceed"),
        ({"newcomer_prs": -1, "fetched_at": "2026-11-01"}, "welcome.newcomer_prs"),
        ({"newcomer_prs": 2}, "welcome.fetched_at' is required"),
        ({"newcomer_prs": 2, "fetched_at": "soon"}, "bad time in 'welcome'"),
        ({"newcomer_prs": 2, "fetched_at": "2026-11-01", "median_merge_days": "2"}, "median"),
        ({"newcomer_prs": 2, "fetched_at": "2026-11-01", "merged": 1}, "unknown key 'merged'"),
    ],
)
def test_bad_figures_in_a_snapshot_are_reported_by_line_and_the_rest_loads(tmp_path, welcome, said):
    path = tmp_path / "bad.jsonl"
    good = issue_to_record(make_issue(5, "Fine"))
    path.write_text(json.dumps(good) + "\n" + _record(**welcome) + "\n")
    result = read_snapshot(path)
    assert [i.number for i in result.issues] == [5]
    assert len(result.errors) == 1 and "line 2:" in result.errors[0] and said in result.errors[0]
