"""Learners, community (guild) settings, suggestions, claims and digest deliveries.

Plain library functions over the store; nothing here knows about Discord beyond storing its ids
as strings. Tables other modules may read:

- ``suggestions``: one row per (learner_id, issue_url): ``suggested_at`` is the first time the
  issue was shown to the learner, ``via`` how ('suggest' or 'digest'), ``status`` the learner's
  latest answer: 'suggested' | 'interested' | 'dismissed' | 'working', ``status_at`` when.
  The portfolio attributes merged pull requests to suggestions by (learner_id, issue_url).
- ``digest_deliveries``: one row per (learner_id, week); the unique constraint is what makes
  "exactly once per learner per week" hold across restarts and several processes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from matcher.digest import Schedule, parse_timezone
from matcher.errors import ProfileError
from matcher.models import Feedback, Profile
from matcher.store.db import Base, Database, UTCDateTime

STATUSES = ("suggested", "interested", "dismissed", "working")
VIAS = ("suggest", "digest")
DELIVERY_OUTCOMES = ("sending", "dm", "channel", "empty", "failed")
CLAIM_TTL = timedelta(days=30)
MAX_TEXT = 300
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


class LearnerRow(Base):
    __tablename__ = "learners"

    learner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    skills: Mapped[str] = mapped_column(Text, default="")
    niche: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[str] = mapped_column(Text, default="")
    github_login: Mapped[str | None] = mapped_column(String(39), nullable=True, index=True)
    home_guild_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0)
    digest_hour: Mapped[int] = mapped_column(Integer, default=9)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    pending_notice: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GuildSettingsRow(Base):
    __tablename__ = "guild_settings"

    guild_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest_channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    focus_repos: Mapped[list] = mapped_column(JSON, default=list)
    focus_niches: Mapped[list] = mapped_column(JSON, default=list)


class IssueKeyRow(Base):
    """Short stable keys for issue URLs, so a button's custom_id stays under 100 characters."""

    __tablename__ = "issue_keys"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    issue_url: Mapped[str] = mapped_column(String, unique=True)


class SuggestionRow(Base):
    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("learner_id", "issue_url", name="uq_suggestion_learner_issue"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner_id: Mapped[str] = mapped_column(String(32), index=True)
    issue_url: Mapped[str] = mapped_column(String, index=True)
    guild_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    suggested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(16), default="suggest")
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="suggested")
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ClaimRow(Base):
    """Someone in a community works on an issue: nobody else there is offered it while it lasts."""

    __tablename__ = "claims"

    guild_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_url: Mapped[str] = mapped_column(String, primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestDeliveryRow(Base):
    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("learner_id", "week", name="uq_digest_learner_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner_id: Mapped[str] = mapped_column(String(32), index=True)
    week: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), default="sending")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class MetaRow(Base):
    """Small key-value facts a process remembers across restarts (e.g. the synced command set)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Learner:
    """A learner as stored; `profile` is what the engine ranks for."""

    learner_id: str
    skills: str = ""
    niche: str = ""
    languages: str = ""
    github_login: str | None = None
    home_guild_id: str | None = None
    digest_enabled: bool = False
    digest_since: datetime | None = None
    digest_weekday: int = 0
    digest_hour: int = 9
    timezone: str = "UTC"
    pending_notice: str | None = None

    @property
    def profile(self) -> Profile:
        return Profile(
            skills=self.skills, niche=self.niche, languages=self.languages, id=self.learner_id
        )

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.digest_weekday, self.digest_hour, self.timezone)


@dataclass(frozen=True)
class GuildConfig:
    guild_id: str
    digest_channel_id: str | None = None
    focus_repos: tuple[str, ...] = ()
    focus_niches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    learner_id: str
    issue_url: str
    suggested_at: datetime
    via: str
    status: str
    status_at: datetime | None = None
    guild_id: str | None = None
    digested_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    learner_id: str
    week: str
    status: str
    sent_at: datetime
    detail: str | None = None


@dataclass
class ProfileUpdate:
    """Validated profile fields; None means "leave as it is"."""

    skills: str | None = None
    niche: str | None = None
    languages: str | None = None
    github_login: str | None = None
    digest_weekday: int | None = None
    digest_hour: int | None = None
    timezone: str | None = None
    changed: list[str] = field(default_factory=list)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _learner(row: LearnerRow) -> Learner:
    return Learner(
        learner_id=row.learner_id,
        skills=row.skills or "",
        niche=row.niche or "",
        languages=row.languages or "",
        github_login=row.github_login,
        home_guild_id=row.home_guild_id,
        digest_enabled=bool(row.digest_enabled),
        digest_since=row.digest_since,
        digest_weekday=row.digest_weekday,
        digest_hour=row.digest_hour,
        timezone=row.timezone,
        pending_notice=row.pending_notice,
    )


# ---------------------------------------------------------------- validation


def _clean_text(name: str, value: str | None, *, required: bool = False) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    if required and not text:
        raise ProfileError(
            f"{name} cannot be empty: list a few things you know, e.g. 'python, pytorch, pandas'"
        )
    if required and not any(ch.isalnum() for ch in text):
        # Emoji or punctuation alone give the ranking nothing to match, only noise.
        raise ProfileError(
            f"{name} needs words, not only symbols or emoji: e.g. 'python, pytorch, pandas'"
        )
    if len(text) > MAX_TEXT:
        raise ProfileError(f"{name} is too long ({len(text)} characters; at most {MAX_TEXT})")
    return text


def validate_github_login(login: str) -> str:
    """A GitHub login without '@' or URL; ProfileError with the rule otherwise."""
    text = login.strip().removeprefix("@").removeprefix("https://github.com/").strip("/")
    if not _GITHUB_LOGIN.match(text):
        raise ProfileError(
            f"'{login.strip()[:40]}' is not a GitHub login: "
            "1-39 letters, digits or single hyphens, "
            "not starting or ending with a hyphen"
        )
    return text


def clean_profile_update(
    *,
    skills: str | None = None,
    niche: str | None = None,
    languages: str | None = None,
    github_login: str | None = None,
    digest_weekday: int | None = None,
    digest_hour: int | None = None,
    timezone: str | None = None,
) -> ProfileUpdate:
    """Validate what a learner typed; each problem is a one-line ProfileError saying what to fix."""
    update = ProfileUpdate(
        skills=_clean_text("skills", skills, required=True),
        niche=_clean_text("niche", niche),
        languages=_clean_text("languages", languages),
    )
    if github_login is not None:
        update.github_login = validate_github_login(github_login) if github_login.strip() else ""
    if digest_weekday is not None:
        if not 0 <= digest_weekday <= 6:
            raise ProfileError(f"digest weekday must be 0-6 (Monday-Sunday), got {digest_weekday}")
        update.digest_weekday = digest_weekday
    if digest_hour is not None:
        if not 0 <= digest_hour <= 23:
            raise ProfileError(f"digest hour must be 0-23, got {digest_hour}")
        update.digest_hour = digest_hour
    if timezone is not None:
        update.timezone = parse_timezone(timezone).key
    update.changed = [
        k
        for k in ProfileUpdate.__dataclass_fields__
        if k != "changed" and getattr(update, k) is not None
    ]
    return update


# ---------------------------------------------------------------- learners


def get_learner(db: Database, learner_id: str) -> Learner | None:
    """The stored learner, or None if they never set a profile."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        return _learner(row) if row else None


def save_profile(
    db: Database,
    learner_id: str,
    update: ProfileUpdate,
    *,
    guild_id: str | None = None,
    now: datetime | None = None,
) -> Learner:
    """Create or update a learner from validated fields; a new learner needs skills."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is None:
            if not update.skills:
                raise ProfileError(
                    "a new profile needs skills, e.g. skills: 'python, pytorch, pandas'"
                )
            row = LearnerRow(
                learner_id=str(learner_id),
                skills="",
                niche="",
                languages="",
                digest_enabled=False,
                digest_weekday=0,
                digest_hour=9,
                timezone="UTC",
            )
            session.add(row)
        for name in update.changed:
            value = getattr(update, name)
            if name == "github_login":
                value = value or None
            setattr(row, name, value)
        if guild_id is not None:
            row.home_guild_id = str(guild_id)
        row.updated_at = _now(now)
        session.flush()
        return _learner(row)


def set_home_guild(db: Database, learner_id: str, guild_id: str | None) -> None:
    """Remember the community a learner last used the bot in (claims and digest fallback use it)."""
    if guild_id is None:
        return
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is not None and row.home_guild_id != str(guild_id):
            row.home_guild_id = str(guild_id)


def set_digest(
    db: Database, learner_id: str, enabled: bool, *, now: datetime | None = None
) -> Learner:
    """Switch a learner's weekly digest on or off; needs a profile."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is None:
            raise ProfileError("set up your profile first with /profile set")
        if enabled and not row.digest_enabled:
            row.digest_since = _now(now)
        row.digest_enabled = enabled
        row.updated_at = _now(now)
        session.flush()
        return _learner(row)


def digest_learners(db: Database) -> list[Learner]:
    """Every learner with the weekly digest switched on."""
    with db.session() as session:
        rows = session.scalars(
            select(LearnerRow)
            .where(LearnerRow.digest_enabled.is_(True))
            .order_by(LearnerRow.learner_id)
        )
        return [_learner(row) for row in rows]


def set_pending_notice(db: Database, learner_id: str, notice: str) -> None:
    """Keep a message for the learner, shown the next time they use a command."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is not None:
            row.pending_notice = notice


def pop_pending_notice(db: Database, learner_id: str) -> str | None:
    """The learner's pending message, removed from the store."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is None or not row.pending_notice:
            return None
        notice, row.pending_notice = row.pending_notice, None
        return notice


# ---------------------------------------------------------------- guild settings


def get_guild_config(db: Database, guild_id: str | None) -> GuildConfig | None:
    """A community's settings, or None if its admins never set any."""
    if guild_id is None:
        return None
    with db.session() as session:
        row = session.get(GuildSettingsRow, str(guild_id))
        if row is None:
            return None
        return GuildConfig(
            str(guild_id),
            row.digest_channel_id,
            tuple(row.focus_repos or ()),
            tuple(row.focus_niches or ()),
        )


_UNSET = object()


def update_guild_config(
    db: Database,
    guild_id: str,
    *,
    digest_channel_id=_UNSET,
    focus_repos=_UNSET,
    focus_niches=_UNSET,
) -> GuildConfig:
    """Change some of a community's settings; pass None for the channel to clear it."""
    with db.session() as session:
        row = session.get(GuildSettingsRow, str(guild_id))
        if row is None:
            row = GuildSettingsRow(
                guild_id=str(guild_id), digest_channel_id=None, focus_repos=[], focus_niches=[]
            )
            session.add(row)
        if digest_channel_id is not _UNSET:
            row.digest_channel_id = (
                str(digest_channel_id) if digest_channel_id is not None else None
            )
        if focus_repos is not _UNSET:
            row.focus_repos = list(focus_repos)
        if focus_niches is not _UNSET:
            row.focus_niches = list(focus_niches)
        session.flush()
        return GuildConfig(
            str(guild_id), row.digest_channel_id, tuple(row.focus_repos), tuple(row.focus_niches)
        )


_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")


def parse_focus_list(text: str, *, repos: bool) -> list[str]:
    """Comma- or space-separated repos ('owner/name') or niches; ProfileError for a bad repo."""
    items = [part.strip() for part in re.split(r"[,\s]+", text or "") if part.strip()]
    if repos:
        for item in items:
            if not _REPO.match(item):
                raise ProfileError(
                    f"'{item[:60]}' is not a repository: "
                    "use owner/name, e.g. huggingface/transformers"
                )
    else:
        items = [item.lower() for item in items]
    if len(items) > 50:
        raise ProfileError(f"at most 50 entries, got {len(items)}")
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------- issue keys


def issue_key(url: str) -> str:
    """A short stable key for an issue URL: the first 16 hex digits of its SHA-1."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


def register_issue_keys(db: Database, urls: Iterable[str]) -> dict[str, str]:
    """Store keys for the URLs (idempotent) and return url -> key."""
    keys = {url: issue_key(url) for url in urls}
    if not keys:
        return keys
    with db.session() as session:
        known = set(
            session.scalars(select(IssueKeyRow.key).where(IssueKeyRow.key.in_(list(keys.values()))))
        )
        for url, key in keys.items():
            if key not in known:
                session.add(IssueKeyRow(key=key, issue_url=url))
                known.add(key)
    return keys


def url_for_key(db: Database, key: str) -> str | None:
    """The issue URL a button key stands for, or None if unknown."""
    with db.session() as session:
        row = session.get(IssueKeyRow, key)
        return row.issue_url if row else None


# ---------------------------------------------------------------- suggestions


def _suggestion(row: SuggestionRow) -> Suggestion:
    return Suggestion(
        learner_id=row.learner_id,
        issue_url=row.issue_url,
        suggested_at=row.suggested_at,
        via=row.via,
        status=row.status,
        status_at=row.status_at,
        guild_id=row.guild_id,
        digested_at=row.digested_at,
    )


def record_suggestions(
    db: Database,
    learner_id: str,
    urls: Iterable[str],
    *,
    via: str,
    guild_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Remember that these issues were shown to the learner; the first showing is kept."""
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}")
    now = _now(now)
    urls = list(dict.fromkeys(urls))
    register_issue_keys(db, urls)
    with db.session() as session:
        existing = {
            row.issue_url: row
            for row in session.scalars(
                select(SuggestionRow).where(
                    SuggestionRow.learner_id == str(learner_id), SuggestionRow.issue_url.in_(urls)
                )
            )
        }
        for url in urls:
            row = existing.get(url)
            if row is None:
                row = SuggestionRow(
                    learner_id=str(learner_id),
                    issue_url=url,
                    guild_id=str(guild_id) if guild_id else None,
                    suggested_at=now,
                    via=via,
                    status="suggested",
                )
                session.add(row)
            if via == "digest" and row.digested_at is None:
                row.digested_at = now


def set_status(
    db: Database,
    learner_id: str,
    issue_url: str,
    status: str,
    *,
    guild_id: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """Store a learner's answer to a suggestion and keep the community's claims in step.

    'working' claims the issue in `guild_id`; if someone else there holds a live claim, nothing is
    stored and their learner id is returned. 'dismissed' or 'interested' releases the learner's own
    claim. Returns None when the status was stored.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    now = _now(now)
    learner_id = str(learner_id)
    with db.session() as session:
        if guild_id is not None:
            claim = session.get(ClaimRow, (str(guild_id), issue_url))
            live = claim is not None and claim.claimed_at > now - CLAIM_TTL
            if status == "working":
                if live and claim.learner_id != learner_id:
                    return claim.learner_id
                if claim is None:
                    session.add(
                        ClaimRow(
                            guild_id=str(guild_id),
                            issue_url=issue_url,
                            learner_id=learner_id,
                            claimed_at=now,
                        )
                    )
                else:
                    claim.learner_id, claim.claimed_at = learner_id, now
            elif claim is not None and claim.learner_id == learner_id:
                session.delete(claim)
        row = session.scalar(
            select(SuggestionRow).where(
                SuggestionRow.learner_id == learner_id, SuggestionRow.issue_url == issue_url
            )
        )
        if row is None:
            row = SuggestionRow(
                learner_id=learner_id,
                issue_url=issue_url,
                guild_id=str(guild_id) if guild_id else None,
                suggested_at=now,
                via="suggest",
            )
            session.add(row)
        row.status, row.status_at = status, now
    return None


def suggestions_for(db: Database, learner_id: str | None = None) -> list[Suggestion]:
    """Stored suggestions (of one learner, or all), oldest first."""
    query = select(SuggestionRow).order_by(SuggestionRow.suggested_at, SuggestionRow.id)
    if learner_id is not None:
        query = query.where(SuggestionRow.learner_id == str(learner_id))
    with db.session() as session:
        return [_suggestion(row) for row in session.scalars(query)]


def claimed_by_others(
    db: Database, guild_id: str | None, learner_id: str, *, now: datetime | None = None
) -> set[str]:
    """Issue URLs someone else in the community is working on (claims expire after CLAIM_TTL)."""
    if guild_id is None:
        return set()
    cutoff = _now(now) - CLAIM_TTL
    with db.session() as session:
        rows = session.scalars(
            select(ClaimRow).where(
                ClaimRow.guild_id == str(guild_id), ClaimRow.learner_id != str(learner_id)
            )
        )
        return {row.issue_url for row in rows if row.claimed_at > cutoff}


def feedback_for(
    db: Database,
    learner_id: str,
    guild_id: str | None,
    *,
    for_digest: bool = False,
    now: datetime | None = None,
) -> Feedback:
    """The Feedback the engine honours for this learner in this community.

    dismissed: 'Not for me'. liked: 'Interested' and 'I'm working on it'. hidden: issues already
    sent in a digest, the learner's own 'working' issues, and issues claimed by someone else in the
    community; for a digest, every issue the learner has already been shown.
    """
    dismissed, liked, hidden = set(), set(), set()
    for s in suggestions_for(db, learner_id):
        if s.status == "dismissed":
            dismissed.add(s.issue_url)
        elif s.status in ("interested", "working"):
            liked.add(s.issue_url)
        if s.status == "working" or s.digested_at is not None or for_digest:
            hidden.add(s.issue_url)
    hidden |= claimed_by_others(db, guild_id, learner_id, now=now)
    return Feedback(
        dismissed=frozenset(dismissed), liked=frozenset(liked), hidden=frozenset(hidden - dismissed)
    )


# ---------------------------------------------------------------- digest deliveries


def last_digest_weeks(db: Database) -> dict[str, str]:
    """learner_id -> the latest week key a digest was claimed for."""
    with db.session() as session:
        rows = session.execute(
            select(DigestDeliveryRow.learner_id, func.max(DigestDeliveryRow.week)).group_by(
                DigestDeliveryRow.learner_id
            )
        )
        return {learner: week for learner, week in rows}


def claim_digest(db: Database, learner_id: str, week: str, *, now: datetime | None = None) -> bool:
    """Reserve the learner's digest for `week`; False if it was already reserved (by any process).

    Reserve first, send second: a crash between the two loses that week's digest rather than
    sending it twice.
    """
    try:
        with db.session() as session:
            session.add(
                DigestDeliveryRow(
                    learner_id=str(learner_id), week=week, status="sending", sent_at=_now(now)
                )
            )
    except IntegrityError:
        return False
    return True


def release_digest(db: Database, learner_id: str, week: str) -> bool:
    """Undo a reservation that was never sent (still 'sending'), so a later pass can retry it.

    Only for a pass that failed before anything went to Discord; a finished delivery stays.
    """
    with db.session() as session:
        result = session.execute(
            delete(DigestDeliveryRow).where(
                DigestDeliveryRow.learner_id == str(learner_id),
                DigestDeliveryRow.week == week,
                DigestDeliveryRow.status == "sending",
            )
        )
        return bool(result.rowcount)


def finish_digest(
    db: Database, learner_id: str, week: str, status: str, *, detail: str | None = None
) -> None:
    """Record how a reserved digest went: 'dm', 'channel', 'empty' (no new matches) or 'failed'."""
    if status not in DELIVERY_OUTCOMES:
        raise ValueError(f"status must be one of {DELIVERY_OUTCOMES}")
    with db.session() as session:
        row = session.scalar(
            select(DigestDeliveryRow).where(
                DigestDeliveryRow.learner_id == str(learner_id), DigestDeliveryRow.week == week
            )
        )
        if row is not None:
            row.status, row.detail = status, detail


def deliveries(db: Database, learner_id: str | None = None) -> list[Delivery]:
    """Digest deliveries (of one learner, or all), oldest first."""
    query = select(DigestDeliveryRow).order_by(DigestDeliveryRow.id)
    if learner_id is not None:
        query = query.where(DigestDeliveryRow.learner_id == str(learner_id))
    with db.session() as session:
        return [
            Delivery(r.learner_id, r.week, r.status, r.sent_at, r.detail)
            for r in session.scalars(query)
        ]


# ---------------------------------------------------------------- meta


def get_meta(db: Database, key: str) -> str | None:
    with db.session() as session:
        row = session.get(MetaRow, key)
        return row.value if row else None


def set_meta(db: Database, key: str, value: str) -> None:
    with db.session() as session:
        row = session.get(MetaRow, key)
        if row is None:
            session.add(MetaRow(key=key, value=value))
        else:
            row.value = value


def delete_learner(db: Database, learner_id: str) -> None:
    """Forget a learner: profile, suggestions, claims and deliveries."""
    learner_id = str(learner_id)
    with db.session() as session:
        for table, column in (
            (SuggestionRow, SuggestionRow.learner_id),
            (ClaimRow, ClaimRow.learner_id),
            (DigestDeliveryRow, DigestDeliveryRow.learner_id),
            (LearnerRow, LearnerRow.learner_id),
        ):
            session.execute(delete(table).where(column == learner_id))
