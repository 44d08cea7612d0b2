"""Digest scheduling under a moved clock: due once per week, missed slots sent once on return."""

from datetime import UTC, datetime, timedelta

import pytest

from matcher.digest import (
    Schedule,
    current_week,
    due_learners,
    is_due,
    last_slot,
    next_slot,
    next_slot_after_week,
    parse_timezone,
    parse_weekday,
    slot_week,
    week_key,
)
from matcher.errors import ProfileError

BERLIN_MON_9 = Schedule(weekday=0, hour=9, timezone="Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_last_slot_is_local_hour_in_utc():
    # Monday 2026-01-05 09:00 Berlin (CET, UTC+1) is 08:00 UTC.
    assert last_slot(BERLIN_MON_9, utc(2026, 1, 5, 8, 0)) == utc(2026, 1, 5, 8, 0)
    assert last_slot(BERLIN_MON_9, utc(2026, 1, 5, 7, 59)) == utc(2025, 12, 29, 8, 0)
    assert next_slot(BERLIN_MON_9, utc(2026, 1, 5, 8, 0)) == utc(2026, 1, 12, 8, 0)


def test_summer_time_moves_the_utc_instant():
    # In July Berlin is UTC+2: 09:00 local is 07:00 UTC.
    assert last_slot(BERLIN_MON_9, utc(2026, 7, 6, 7, 30)) == utc(2026, 7, 6, 7, 0)


def test_due_exactly_once_per_week_as_the_clock_moves():
    now = utc(2026, 1, 1, 0, 0)  # Thursday
    last = None
    sent = []
    while now < utc(2026, 1, 29):
        if is_due(BERLIN_MON_9, now, last, since=utc(2026, 1, 1)):
            last = slot_week(BERLIN_MON_9, now)
            sent.append((now, last))
        now += timedelta(minutes=10)
    assert [w for _, w in sent] == ["2026-W02", "2026-W03", "2026-W04", "2026-W05"]
    assert all(t.weekday() == 0 and t.hour == 8 for t, _ in sent)


def test_missed_while_down_is_sent_once_on_return():
    # Delivered in W02; the bot is down from Sunday to Wednesday of W03, over the Monday slot.
    back = utc(2026, 1, 14, 12, 0)
    assert is_due(BERLIN_MON_9, back, "2026-W02")
    assert slot_week(BERLIN_MON_9, back) == "2026-W03"
    assert not is_due(BERLIN_MON_9, back + timedelta(hours=1), "2026-W03")


def test_several_missed_weeks_collapse_into_one():
    back = utc(2026, 2, 20, 12, 0)  # down since early January
    due = due_learners([("a", BERLIN_MON_9, None)], back, {"a": "2026-W02"})
    assert [d.week for d in due] == ["2026-W08"]


def test_turning_digests_on_mid_week_waits_for_the_next_slot():
    wednesday = utc(2026, 1, 7, 12, 0)
    assert not is_due(BERLIN_MON_9, wednesday, None, since=wednesday - timedelta(minutes=5))
    assert is_due(BERLIN_MON_9, utc(2026, 1, 12, 8, 0), None, since=wednesday)


def test_changing_the_weekday_mid_week_does_not_send_twice():
    after_monday = utc(2026, 1, 9, 18, 0)  # Friday; Monday's digest went out
    friday_17 = Schedule(4, 17, "Europe/Berlin")
    assert not is_due(friday_17, after_monday, "2026-W02")


def test_week_key_follows_the_learners_local_date():
    # Sunday 23:30 in Auckland is Sunday 10:30 UTC; the week is Auckland's.
    auckland_sun_23 = Schedule(6, 23, "Pacific/Auckland")
    now = utc(2026, 1, 11, 10, 30)  # Sunday 23:30 NZDT (UTC+13)
    assert last_slot(auckland_sun_23, now) == utc(2026, 1, 11, 10, 0)
    assert slot_week(auckland_sun_23, now) == week_key(datetime(2026, 1, 11).date()) == "2026-W02"


def test_due_learners_in_input_order():
    now = utc(2026, 1, 5, 9, 30)
    schedules = [
        ("a", Schedule(0, 9, "UTC"), None),
        ("b", Schedule(0, 10, "UTC"), utc(2026, 1, 4)),  # switched on after last week's slot
        ("c", Schedule(0, 9, "UTC"), None),
    ]
    due = due_learners(schedules, now, {"c": "2026-W02"})
    assert [d.learner_id for d in due] == ["a"]


def test_validation_messages():
    with pytest.raises(ProfileError, match="unknown time zone 'Mars/Olympus'"):
        parse_timezone("Mars/Olympus")
    with pytest.raises(ProfileError, match="weekday"):
        Schedule(7, 9)
    with pytest.raises(ProfileError, match="hour"):
        Schedule(0, 24)
    assert parse_weekday("tue") == 1 and parse_weekday("Sunday") == 6 and parse_weekday("3") == 3
    with pytest.raises(ProfileError):
        parse_weekday("t")  # ambiguous: Tuesday or Thursday


def test_time_zone_names_are_case_insensitive():
    # Regression: 'europe/berlin' was refused on Linux (zone files are case-sensitive there).
    assert parse_timezone("europe/berlin").key == "Europe/Berlin"
    assert parse_timezone(" AMERICA/NEW_YORK ").key == "America/New_York"
    assert parse_timezone("utc").key == "UTC"


def test_naive_now_is_rejected():
    with pytest.raises(ValueError):
        last_slot(BERLIN_MON_9, datetime(2026, 1, 5, 9))


def test_a_first_digest_counts_for_the_learners_local_week():
    tokyo = Schedule(0, 9, "Asia/Tokyo")  # Mondays 09:00 in Tokyo
    sunday_utc = datetime(2026, 1, 4, 16, tzinfo=UTC)  # already Monday 01:00 in Tokyo
    assert current_week(tokyo, sunday_utc) == "2026-W02"
    assert current_week(Schedule(0, 9, "UTC"), sunday_utc) == "2026-W01"


def test_the_next_digest_skips_a_week_that_already_had_one():
    saturdays = Schedule(5, 9, "UTC")
    thursday = datetime(2026, 1, 1, 12, tzinfo=UTC)  # ISO week 2026-W01
    this_saturday = datetime(2026, 1, 3, 9, tzinfo=UTC)
    assert next_slot_after_week(saturdays, thursday, None) == this_saturday
    assert next_slot_after_week(saturdays, thursday, "2025-W52") == this_saturday
    skipped = next_slot_after_week(saturdays, thursday, "2026-W01")
    assert skipped == this_saturday + timedelta(days=7)
