"""Planning digests through matcher.operations on real SQLite with the hashing test embedder."""

from datetime import UTC, datetime, timedelta

import pytest

from matcher.digest import Schedule, last_slot
from matcher.engine import MatchEngine
from matcher.errors import MatcherError, ProfileError
from matcher.operations.digests import (
    STALE_AFTER,
    deliveries,
    next_digest_at,
    plan_due_digests,
    preview_digest,
    record_delivery,
    start_digest,
)
from matcher.operations.profiles import (
    clean_profile_update,
    get_learner,
    save_profile,
    set_digest,
)
from matcher.operations.suggestions import feedback_for, suggestions_for
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot.fakes import ISSUES, HashingEmbedder

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
SLOT = last_slot(Schedule(0, 9, "UTC"), datetime(2026, 1, 6, tzinfo=UTC))  # Monday 5 Jan, 09:00


@pytest.fixture
def engines(tmp_path, settings):
    """Two processes: two store handles and two engines on one database file."""
    url = f"sqlite:///{tmp_path / 'digest.sqlite'}"
    handles = [Database(url), Database(url)]
    upsert_issues(handles[0], ISSUES)
    for learner in ("1", "2"):
        update = clean_profile_update(skills="python, pytorch, tokenizer", niche="nlp")
        save_profile(handles[0], learner, update, now=SINCE)
        set_digest(handles[0], learner, True, now=SINCE)
    yield [(db, MatchEngine(db, settings, embedder=HashingEmbedder())) for db in handles]
    for db in handles:
        db.close()


def test_two_processes_plan_each_digest_once(engines):
    (db_a, engine_a), (db_b, engine_b) = engines
    plan = plan_due_digests(db_a, engine_a, now=SLOT, top_k=3)
    assert plan.due == 2 and [p.learner.learner_id for p in plan.digests] == ["1", "2"]
    assert all(len(p.matches) == 3 and set(p.keys) == {m.issue.url for m in p.matches}
               for p in plan.digests)  # fmt: skip
    assert plan_due_digests(db_b, engine_b, now=SLOT, top_k=3).digests == []


def test_an_unconfirmed_reservation_is_taken_over_once_after_a_while(engines):
    (db_a, engine_a), (db_b, engine_b) = engines
    first = plan_due_digests(db_a, engine_a, now=SLOT, top_k=3)
    record_delivery(db_a, first.digests[1], "dm", now=SLOT)  # learner 2 confirmed, 1 not
    soon = SLOT + STALE_AFTER / 2
    assert plan_due_digests(db_b, engine_b, now=soon, top_k=3).digests == []
    later = SLOT + STALE_AFTER + timedelta(seconds=1)
    retry = plan_due_digests(db_b, engine_b, now=later, top_k=3)
    assert [(p.learner.learner_id, p.retry) for p in retry.digests] == [("1", True)]
    assert plan_due_digests(db_a, engine_a, now=later, top_k=3).digests == []  # taken once
    record_delivery(db_b, retry.digests[0], "dm", now=later)
    assert [d.status for d in deliveries(db_a)] == ["dm", "dm"]


def test_a_failed_ranking_gives_the_weeks_back(engines, monkeypatch):
    (db, engine), _ = engines

    def broken(*args, **kwargs):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(engine, "match_many", broken)
    plan = plan_due_digests(db, engine, now=SLOT, top_k=3)
    assert plan.released == 2 and plan.digests == [] and deliveries(db) == []


def test_preview_ranks_like_the_digest_and_records_nothing(engines):
    (db, engine), _ = engines
    preview = preview_digest(db, engine, "1", now=SLOT, top_k=3)
    plan = plan_due_digests(db, engine, now=SLOT, top_k=3)
    assert [m.issue.url for m in preview.matches] == [m.issue.url for m in plan.digests[0].matches]
    assert preview.week == "2026-W03" and preview.next_at == SLOT + timedelta(days=7)
    assert suggestions_for(db, "1") == []
    record_delivery(db, plan.digests[0], "dm", now=SLOT)
    shown = {m.issue.url for m in plan.digests[0].matches}
    assert shown <= feedback_for(db, "1", None, for_digest=True, now=SLOT).hidden
    again = preview_digest(db, engine, "1", now=SLOT, top_k=3)
    assert not shown & {m.issue.url for m in again.matches}
    assert preview_digest(db, engine, "nobody", now=SLOT, top_k=3) is None


# Thursday 1 January 2026 is in ISO week 2026-W01; the learners' slot is Mondays 09:00 UTC.
THURSDAY_NOON = SINCE + timedelta(hours=12)


def _saturday_slot(db, learner):
    update = clean_profile_update(
        skills="python, pytorch, tokenizer", niche="nlp", digest_weekday=5
    )
    save_profile(db, learner, update, now=SINCE)


def test_digest_on_reserves_and_ranks_this_weeks_digest_once(engines):
    (db_a, engine_a), (db_b, engine_b) = engines
    set_digest(db_a, "1", False, now=SINCE)
    first = start_digest(db_a, engine_a, "1", now=THURSDAY_NOON, top_k=3)
    assert first.status == "now" and first.planned.week == "2026-W01"
    assert len(first.planned.matches) == 3 and set(first.planned.keys) == {
        m.issue.url for m in first.planned.matches
    }
    assert first.next_at == SLOT  # Monday 5 January, the first slot of the next week
    # Another process (or a second click) gets the same week: nothing more to send.
    again = start_digest(db_b, engine_b, "1", now=THURSDAY_NOON, top_k=3)
    assert again.status == "already" and again.planned is None and again.next_at == SLOT
    record_delivery(db_a, first.planned, "dm", now=THURSDAY_NOON)
    assert [(d.week, d.status) for d in deliveries(db_a, "1")] == [("2026-W01", "dm")]


def test_the_weekly_pass_skips_the_week_of_a_first_digest_and_sends_the_next(engines):
    (db, engine), _ = engines
    _saturday_slot(db, "1")
    first = start_digest(db, engine, "1", now=THURSDAY_NOON, top_k=3)
    record_delivery(db, first.planned, "dm", now=THURSDAY_NOON)
    saturday = datetime(2026, 1, 3, 10, tzinfo=UTC)  # this week's slot has passed
    assert "1" not in [
        p.learner.learner_id for p in plan_due_digests(db, engine, now=saturday, top_k=3).digests
    ]
    next_saturday = datetime(2026, 1, 10, 9, tzinfo=UTC)
    assert first.next_at == next_digest_at(db, get_learner(db, "1"), now=saturday) == next_saturday
    plan = plan_due_digests(db, engine, now=next_saturday, top_k=3)
    (second,) = [p for p in plan.digests if p.learner.learner_id == "1"]
    assert second.week == "2026-W02"
    assert not {m.issue.url for m in second.matches} & {m.issue.url for m in first.planned.matches}


def test_a_slot_within_a_day_brings_the_first_digest(engines):
    (db, engine), _ = engines
    sunday = datetime(2026, 1, 4, 12, tzinfo=UTC)  # Monday 09:00 is 21 hours away
    start = start_digest(db, engine, "1", now=sunday, top_k=3)
    assert start.status == "soon" and start.planned is None and start.next_at == SLOT
    assert deliveries(db, "1") == []
    assert [
        p.learner.learner_id for p in plan_due_digests(db, engine, now=SLOT, top_k=3).digests
    ] == ["1", "2"]


def test_nothing_new_gives_the_week_back(engines):
    (db, engine), _ = engines
    from matcher.operations.suggestions import record_suggestions

    record_suggestions(db, "1", [i.url for i in ISSUES], via="suggest", now=SINCE)
    start = start_digest(db, engine, "1", now=THURSDAY_NOON, top_k=3)
    assert start.status == "empty" and start.planned is None and start.next_at == SLOT
    assert deliveries(db, "1") == []  # the schedule stays: the Monday pass may find new issues


def test_a_failed_first_ranking_gives_the_week_back(engines, monkeypatch):
    (db, engine), _ = engines

    def broken(*args, **kwargs):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(engine, "match_many", broken)
    with pytest.raises(MatcherError, match="could not be ranked"):
        start_digest(db, engine, "1", now=THURSDAY_NOON, top_k=3)
    assert deliveries(db, "1") == []


def test_digest_on_needs_a_profile(engines):
    (db, engine), _ = engines
    with pytest.raises(ProfileError, match="profile first"):
        start_digest(db, engine, "nobody", now=THURSDAY_NOON, top_k=3)
