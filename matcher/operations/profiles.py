"""A learner's profile: validate what they typed, save it, switch the digest, forget them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from matcher.digest import parse_timezone, validate_hour, validate_weekday
from matcher.errors import ProfileError
from matcher.models import GITHUB_LOGIN, Learner
from matcher.store import digests as digest_store
from matcher.store import learners as store
from matcher.store import suggestions as suggestion_store
from matcher.store.db import Database

MAX_TEXT = 300


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

    def columns(self) -> dict[str, object]:
        """The stored columns this update writes ('' for the login clears it)."""
        values = {name: getattr(self, name) for name in self.changed}
        if "github_login" in values:
            values["github_login"] = values["github_login"] or None
        return values


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
    if not GITHUB_LOGIN.match(text):
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
        update.digest_weekday = validate_weekday(digest_weekday)
    if digest_hour is not None:
        update.digest_hour = validate_hour(digest_hour)
    if timezone is not None:
        update.timezone = parse_timezone(timezone).key
    update.changed = [
        f.name
        for f in fields(ProfileUpdate)
        if f.name != "changed" and getattr(update, f.name) is not None
    ]
    return update


def get_learner(db: Database, learner_id: str) -> Learner | None:
    """The stored learner, or None if they never set a profile."""
    return store.get_learner(db, learner_id)


def save_profile(
    db: Database,
    learner_id: str,
    update: ProfileUpdate,
    *,
    guild_id: str | None = None,
    now: datetime | None = None,
) -> Learner:
    """Create or update a learner from validated fields; a new learner needs skills."""
    now = now or datetime.now(UTC)
    columns = update.columns()
    if guild_id is not None:
        columns["home_guild_id"] = str(guild_id)
    learner = store.upsert_learner(db, learner_id, columns, now=now)
    if learner is None:
        raise ProfileError("a new profile needs skills, e.g. skills: 'python, pytorch, pandas'")
    return learner


def update_profile(
    db: Database,
    learner_id: str,
    *,
    guild_id: str | None,
    now: datetime,
    skills: str | None = None,
    niche: str | None = None,
    languages: str | None = None,
    github_login: str | None = None,
    digest_weekday: int | None = None,
    digest_hour: int | None = None,
    timezone: str | None = None,
) -> Learner:
    """Validate what the learner typed and save it, in one call (what /profile set does)."""
    update = clean_profile_update(
        skills=skills,
        niche=niche,
        languages=languages,
        github_login=github_login,
        digest_weekday=digest_weekday,
        digest_hour=digest_hour,
        timezone=timezone,
    )
    return save_profile(db, learner_id, update, guild_id=guild_id, now=now)


def set_digest(
    db: Database, learner_id: str, enabled: bool, *, now: datetime | None = None
) -> Learner:
    """Switch a learner's weekly digest on or off; needs a profile."""
    now = now or datetime.now(UTC)
    learner = store.set_digest_enabled(db, learner_id, enabled, now=now)
    if learner is None:
        raise ProfileError("set up your profile first with /profile set")
    return learner


def remember_guild(db: Database, learner_id: str, guild_id: str | None) -> None:
    """Remember the community a learner last used the bot in (claims and digest fallback use it)."""
    store.set_home_guild(db, learner_id, guild_id)


def pop_notice(db: Database, learner_id: str) -> str | None:
    """The message kept for the learner (e.g. an undelivered digest), removed once read."""
    return store.pop_pending_notice(db, learner_id)


def leave_notice(db: Database, learner_id: str, notice: str) -> None:
    """Keep a message for the learner, shown the next time they use a command."""
    store.set_pending_notice(db, learner_id, notice)


def delete_learner(db: Database, learner_id: str) -> None:
    """Forget a learner: profile, suggestions, issue claims and digest deliveries."""
    suggestion_store.delete_learner_suggestions(db, learner_id)
    digest_store.delete_learner_deliveries(db, learner_id)
    store.delete_learner_row(db, learner_id)
