"""Planning digests through matcher.operations on real SQLite with the hashing test embedder."""

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from matcher.digest import Schedule, last_slot
from matcher.engine import MatchEngine
from matcher.errors import MatcherError, ProfileError
from matcher.operations import digests
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
    pop_notice,
    save_profile,
    set_digest,
)
from matcher.operations.suggestions import feedback_for, suggestions_for
from matcher.store import Database
from matcher.store.issues import upsert_issues
from matcher.store.learners import LearnerRow
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


def test_a_live_owners_reservation_is_never_taken_over_but_its_own_next_pass_retries_it(engines):
    (db_a, engine_a), (db_b, engine_b) = engines
    first = plan_due_digests(db_a, engine_a, now=SLOT, top_k=3)
    record_delivery(db_a, first.digests[1], "dm", now=SLOT)  # learner 2 confirmed, 1 not
    much_later = SLOT + 10 * STALE_AFTER  # A is alive (its lease renewed): B keeps its hands off
    assert plan_due_digests(db_b, engine_b, now=much_later, top_k=3).digests == []
    soon = SLOT + STALE_AFTER / 2  # A's own pass leaves a fresh reservation alone
    assert plan_due_digests(db_a, engine_a, now=soon, top_k=3).digests == []
    later = SLOT + STALE_AFTER + timedelta(seconds=1)
    retry = plan_due_digests(db_a, engine_a, now=later, top_k=3)
    assert [(p.learner.learner_id, p.retry) for p in retry.digests] == [("1", True)]
    record_delivery(db_a, retry.digests[0], "dm", now=later)
    assert [d.status for d in deliveries(db_b)] == ["dm", "dm"]


def test_a_closed_owners_reservations_are_taken_over_at_once_by_one_process(engines, tmp_path):
    (db_a, engine_a), (db_b, engine_b) = engines
    plan_due_digests(db_a, engine_a, now=SLOT, top_k=3)
    db_a.close()  # a clean stop releases the owner's lease: nothing waits for it to expire
    taken = plan_due_digests(db_b, engine_b, now=SLOT, top_k=3)
    assert [(p.learner.learner_id, p.retry) for p in taken.digests] == [("1", True), ("2", True)]
    db_c = Database(db_b.url)
    try:
        engine_c = MatchEngine(db_c, engine_b.settings, embedder=HashingEmbedder())
        assert plan_due_digests(db_c, engine_c, now=SLOT, top_k=3).digests == []  # B owns them
    finally:
        db_c.close()


def test_a_dead_owners_reservations_are_taken_over_once_its_lease_expires(engines, monkeypatch):
    (db_a, engine_a), (db_b, engine_b) = engines
    monkeypatch.setattr(digests, "OWNER_TTL", timedelta(seconds=0.6))
    plan_due_digests(db_a, engine_a, now=SLOT, top_k=3)
    keeper = digests._owners[id(db_a)]
    time.sleep(1.0)  # A renews every 0.2 s: alive
    assert plan_due_digests(db_b, engine_b, now=SLOT, top_k=3).digests == []
    keeper.stop(release_it=False)  # A dies: nobody renews, nobody releases
    time.sleep(0.8)
    taken = plan_due_digests(db_b, engine_b, now=SLOT, top_k=3)
    assert [(p.learner.learner_id, p.retry) for p in taken.digests] == [("1", True), ("2", True)]


def test_a_learner_with_an_unknown_time_zone_is_skipped_named_once_and_told(engines, caplog):
    (db, engine), _ = engines
    for learner in ("3", "4"):
        save_profile(db, learner, clean_profile_update(skills="python, nlp"), now=SINCE)
        set_digest(db, learner, True, now=SINCE)
    with db.session() as session:  # a zone the host's tzdata no longer knows
        session.execute(
            update(LearnerRow).where(LearnerRow.learner_id == "3").values(timezone="Mars/Olympus")
        )
    with caplog.at_level(logging.WARNING, logger="matcher.operations.digests"):
        plan = plan_due_digests(db, engine, now=SLOT, top_k=3)
        again = plan_due_digests(db, engine, now=SLOT + timedelta(minutes=1), top_k=3)
    assert [p.learner.learner_id for p in plan.digests] == ["1", "2", "4"]
    assert plan.skipped == 1 and again.digests == []
    (line,) = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert "3 (unknown time zone 'Mars/Olympus'" in line
    assert "Mars/Olympus" in pop_notice(db, "3") and pop_notice(db, "4") is None


def test_a_profile_that_cannot_be_ranked_is_skipped_and_the_others_get_their_digests(engines):
    (db, engine), _ = engines
    save_profile(db, "3", clean_profile_update(skills="python"), now=SINCE)
    set_digest(db, "3", True, now=SINCE)
    with db.session() as session:  # stored before the length limit existed
        session.execute(
            update(LearnerRow).where(LearnerRow.learner_id == "3").values(skills="python " * 500)
        )
    plan = plan_due_digests(db, engine, now=SLOT, top_k=3)
    assert [p.learner.learner_id for p in plan.digests] == ["1", "2"]
    assert all(p.matches for p in plan.digests) and plan.skipped == 1
    (skipped,) = deliveries(db, "3")
    assert skipped.status == "failed" and "too long" in skipped.detail
    assert "too long" in pop_notice(db, "3")


def _statements(db, action) -> int:
    count = 0

    def counted(*args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count


def test_planning_reads_the_store_in_a_number_of_queries_that_does_not_grow_with_learners(
    engines,
):
    (db, engine), _ = engines

    def counted_pass(now: datetime) -> int:
        plans = []
        count = _statements(
            db, lambda: plans.append(plan_due_digests(db, engine, now=now, top_k=3))
        )
        for planned in plans[0].digests:
            record_delivery(db, planned, "dm", now=now)
        return count

    counted_pass(SLOT)  # the first pass also loads the index and takes the owner's lease
    two = counted_pass(SLOT + timedelta(days=7))
    for n in range(10, 60):
        save_profile(db, str(n), clean_profile_update(skills="python, pytorch"), now=SINCE)
        set_digest(db, str(n), True, now=SINCE)
    fifty_two = counted_pass(SLOT + timedelta(days=14))
    assert two <= 15 and fifty_two == two, (two, fifty_two)  # the same statements for 2 or 52


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
