"""`sync` against the fake GitHub: a whole pass and what it leaves in the store (issue 3)."""

from __future__ import annotations

from matcher.store.issue_signals import load_issue_signals
from matcher.store.issues import load_issues
from matcher.store.sync_state import load_sync_states
from tests.fakes.github_fixtures import pool


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


def test_unknown_repository_is_reported_and_the_rest_synced(sync_env):
    report = sync_env.run(repos=sync_env.repos[:3] + ["nobody/nothing"])
    assert sorted(report.repos_ok) == sorted(sync_env.repos[:3])
    assert "Could not resolve" in report.repos_failed["nobody/nothing"]
