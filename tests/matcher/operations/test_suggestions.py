"""Feedback and issue claims through matcher.operations on real SQLite."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from matcher.operations.answers import set_status
from matcher.operations.suggestions import (
    CLAIM_TTL,
    feedback_for,
    record_suggestions,
    suggestions_for,
)

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
A = "https://github.com/o/r/issues/1"
B = "https://github.com/o/r/issues/2"
C = "https://github.com/o/r/issues/3"


def test_feedback_from_statuses(db):
    record_suggestions(db, "1", [A, B, C], via="suggest", guild_id="g", now=NOW)
    set_status(db, "1", A, "dismissed", guild_id="g", now=NOW)
    set_status(db, "1", B, "interested", guild_id="g", now=NOW)
    fb = feedback_for(db, "1", "g", now=NOW)
    assert fb.dismissed == {A} and fb.liked == {B} and fb.hidden == frozenset()
    # For a digest, everything already shown is hidden (dismissed stays dismissed).
    digest_fb = feedback_for(db, "1", "g", for_digest=True, now=NOW)
    assert digest_fb.hidden == {B, C}
    # Suggestions keep their first showing; the portfolio reads these fields.
    rows = {s.issue_url: s for s in suggestions_for(db, "1")}
    assert (
        rows[A].status == "dismissed" and rows[C].via == "suggest" and rows[C].suggested_at == NOW
    )


def test_seen_in_digest_is_hidden_from_suggest(db):
    record_suggestions(db, "1", [A], via="digest", now=NOW)
    record_suggestions(db, "1", [A, B], via="suggest", now=NOW)
    assert feedback_for(db, "1", None).hidden == {A}


def test_a_claim_hides_the_issue_from_the_rest_of_the_community(db):
    assert set_status(db, "alice", A, "working", guild_id="g", now=NOW) is None
    assert A in feedback_for(db, "bob", "g", now=NOW).hidden
    assert A not in feedback_for(db, "bob", "other-guild", now=NOW).hidden
    # Alice is not hidden from herself by her own claim, but her working issue is liked and hidden.
    alice = feedback_for(db, "alice", "g", now=NOW)
    assert A in alice.liked
    # Bob cannot double-book it.
    assert set_status(db, "bob", A, "working", guild_id="g", now=NOW) == "alice"
    # Releasing (alice says not for me) frees it; an expired claim frees it too.
    set_status(db, "alice", A, "dismissed", guild_id="g", now=NOW)
    assert A not in feedback_for(db, "bob", "g", now=NOW).hidden
    set_status(db, "alice", B, "working", guild_id="g", now=NOW)
    later = NOW + CLAIM_TTL + timedelta(days=1)
    assert B not in feedback_for(db, "bob", "g", now=later).hidden
    assert set_status(db, "bob", B, "working", guild_id="g", now=later) is None


def _transactions(db, action) -> int:
    count = 0

    def begun(_connection):
        nonlocal count
        count += 1

    event.listen(db.engine, "begin", begun)
    try:
        action()
    finally:
        event.remove(db.engine, "begin", begun)
    return count


def test_suggest_reads_in_one_transaction_and_writes_in_one(db, settings):
    from matcher.engine import MatchEngine
    from matcher.operations.profiles import clean_profile_update, save_profile
    from matcher.operations.suggestions import suggest
    from matcher.store.issues import upsert_issues
    from tests.bot.fakes import ISSUES, HashingEmbedder

    upsert_issues(db, ISSUES)
    save_profile(db, "1", clean_profile_update(skills="python, pytorch"), guild_id="g", now=NOW)
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    suggest(db, engine, "1", guild_id="g", count=3, now=NOW)  # warms the index
    opened = _transactions(db, lambda: suggest(db, engine, "1", guild_id="g", count=3, now=NOW))
    # before issue 19: 10 (learner, home guild, config, suggestions, claims, suggestions again,
    # identity, working issues, keys, suggestions written, and the index's change mark)
    assert opened == 3, opened  # now: the reads, the index's change mark, the writes
