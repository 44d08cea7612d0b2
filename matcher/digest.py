"""Weekly digest scheduling as pure functions: when is a learner's digest due, who is due now.

A learner chooses a weekday (0 = Monday) and an hour in their own time zone. The *slot* of a week
is that local instant; a digest is due when the most recent slot has passed and nothing was
delivered for that slot's ISO week yet. Because only the most recent slot counts, a digest missed
while the bot was down is sent once when it comes back, and several missed weeks collapse into
one digest, never a burst.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from matcher.errors import ProfileError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Schedule:
    """When a learner wants their digest: weekday 0-6 (Monday first), hour 0-23, IANA time zone."""

    weekday: int
    hour: int
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        validate_weekday(self.weekday)
        validate_hour(self.hour)
        parse_timezone(self.timezone)

    def describe(self) -> str:
        return f"{WEEKDAYS[self.weekday]}s at {self.hour:02d}:00 ({self.timezone})"


def validate_weekday(weekday: int) -> int:
    """The weekday (0 = Monday ... 6 = Sunday), or a one-line ProfileError."""
    if not 0 <= weekday <= 6:
        raise ProfileError(f"digest weekday must be 0-6 (Monday-Sunday), got {weekday}")
    return weekday


def validate_hour(hour: int) -> int:
    """The hour of the day (0-23), or a one-line ProfileError."""
    if not 0 <= hour <= 23:
        raise ProfileError(f"digest hour must be 0-23, got {hour}")
    return hour


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """lower-case name -> IANA name, so 'europe/berlin' is Europe/Berlin on every platform."""
    return {zone.lower(): zone for zone in available_timezones()}


def parse_timezone(name: str) -> ZoneInfo:
    """The zone for an IANA name such as Europe/Berlin; a one-line ProfileError otherwise."""
    cleaned = (name or "").strip()
    if not cleaned or len(cleaned) > 64 or ".." in cleaned or cleaned.startswith("/"):
        raise ProfileError(
            f"unknown time zone '{cleaned}': "
            "use an IANA name such as Europe/Berlin or America/New_York"
        )
    try:
        return ZoneInfo(_zone_names().get(cleaned.lower(), cleaned))
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError(
            f"unknown time zone '{cleaned}': "
            "use an IANA name such as Europe/Berlin or America/New_York"
        ) from None


def parse_weekday(value: str | int) -> int:
    """0-6 from a weekday number or a (prefix of an) English weekday name."""
    if isinstance(value, int):
        day = value
    else:
        text = value.strip().lower()
        if text.isdigit():
            day = int(text)
        else:
            found = [
                i
                for i, name in enumerate(WEEKDAYS)
                if len(text) >= 2 and name.lower().startswith(text)
            ]
            if len(found) != 1:
                raise ProfileError(f"unknown weekday '{value}': use Monday ... Sunday")
            day = found[0]
    if not 0 <= day <= 6:
        raise ProfileError(f"unknown weekday '{value}': use Monday ... Sunday")
    return day


def week_key(day: date) -> str:
    """The ISO week of a (local) date, e.g. '2026-W02'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _slot_on(day: date, schedule: Schedule) -> datetime:
    """The local slot instant on a given local date, as an aware local datetime.

    A slot inside a DST gap (02:00 on spring-forward day) resolves to the instant after the gap.
    """
    zone = parse_timezone(schedule.timezone)
    local = datetime.combine(day, time(schedule.hour), tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone)


def last_slot(schedule: Schedule, now: datetime) -> datetime:
    """The most recent slot at or before `now`, as an aware UTC datetime."""
    zone = parse_timezone(schedule.timezone)
    local_now = _utc(now).astimezone(zone)
    day = local_now.date() - timedelta(days=(local_now.weekday() - schedule.weekday) % 7)
    slot = _slot_on(day, schedule)
    if slot > local_now:
        slot = _slot_on(day - timedelta(days=7), schedule)
    return slot.astimezone(UTC)


def next_slot(schedule: Schedule, now: datetime) -> datetime:
    """The first slot strictly after `now`, as an aware UTC datetime."""
    zone = parse_timezone(schedule.timezone)
    previous = last_slot(schedule, now).astimezone(zone)
    return _slot_on(previous.date() + timedelta(days=7), schedule).astimezone(UTC)


def next_slot_after_week(schedule: Schedule, now: datetime, delivered_week: str | None) -> datetime:
    """The first slot after `now` whose ISO week has no digest yet (`delivered_week` has one)."""
    slot = next_slot(schedule, now)
    if slot_week(schedule, slot) == delivered_week:
        slot = next_slot(schedule, slot)
    return slot


def current_week(schedule: Schedule, now: datetime) -> str:
    """The ISO week of `now` in the learner's time zone: the key a first digest is recorded under,
    so a later slot in the same week sends nothing more."""
    return week_key(_utc(now).astimezone(parse_timezone(schedule.timezone)).date())


def slot_week(schedule: Schedule, now: datetime) -> str:
    """The week key of the most recent slot: the key a delivery made now is recorded under."""
    zone = parse_timezone(schedule.timezone)
    return week_key(last_slot(schedule, now).astimezone(zone).date())


def is_due(
    schedule: Schedule, now: datetime, last_week: str | None, *, since: datetime | None = None
) -> bool:
    """Whether a digest should go out now.

    last_week: the week key of the learner's latest delivery (None if never).
    since: when digests were switched on; a slot before it does not count, so turning digests on
    on a Wednesday does not fire Monday's digest immediately.
    """
    slot = last_slot(schedule, now)
    if since is not None and slot < _utc(since):
        return False
    return slot_week(schedule, now) != last_week


@dataclass(frozen=True)
class DueLearner:
    """A learner whose digest is due, with the week key the delivery must be recorded under."""

    learner_id: str
    week: str


def due_learners(
    schedules: Iterable[tuple[str, Schedule, datetime | None]],
    now: datetime,
    last_weeks: Mapping[str, str | None],
) -> list[DueLearner]:
    """Which learners are due at `now`: (learner_id, schedule, digests-enabled-since) triples in,
    learners with their week key out, in input order."""
    due = []
    for learner_id, schedule, since in schedules:
        if is_due(schedule, now, last_weeks.get(learner_id), since=since):
            due.append(DueLearner(learner_id, slot_week(schedule, now)))
    return due
