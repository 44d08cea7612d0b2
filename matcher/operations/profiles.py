"""A learner's profile: validate what they typed, save it, switch the digest, forget them.

The GitHub login typed in /profile is not a profile column: it is linked, unverified, in the
identity table (matcher.portfolio.link, what /github link does), the one home of a learner's login.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from matcher import portfolio
from matcher.digest import WEEKDAYS as WEEKDAYS  # the bot's day choices and embeds
from matcher.digest import parse_timezone, validate_hour, validate_weekday
from matcher.errors import ProfileError
from matcher.models import GITHUB_LOGIN_RULE, Identity, Learner, Level, parse_github_login
from matcher.operations.inputs import clean_text
from matcher.operations.levels import level_for
from matcher.operations.privacy import delete_learner_data
from matcher.ramp import validate_pace
from matcher.store import learners as store
from matcher.store import portfolio as identity_store
from matcher.store.db import Database

MAX_TEXT = 300
T = TypeVar("T")

# comma-separated entries a field may list: enough for a real profile, small enough to echo
MAX_ITEMS = {"skills": 30, "niche": 10, "languages": 15}
MAX_TIMEZONE = 64


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
    pace: str | None = None
    changed: list[str] = field(default_factory=list)

    def columns(self) -> dict[str, object]:
        """The learner columns this update writes (the login goes to the identity table)."""
        return {name: getattr(self, name) for name in self.changed if name != "github_login"}


@dataclass(frozen=True)
class ProfileView:
    """A learner's profile as /profile shows it: the learner, their GitHub link and where they
    stand on the difficulty ramp."""

    learner: Learner
    identity: Identity | None = None
    level: Level | None = None
    # the code issued when this save linked a new login (shown once, only its hash is stored)
    link: portfolio.LinkResult | None = None


def _clean_text(name: str, value: str | None, *, required: bool = False) -> str | None:
    if value is None:
        return None
    text = clean_text(name, value, max_length=MAX_TEXT, max_items=MAX_ITEMS[name])
    if required and not text:
        raise ProfileError(
            f"{name} cannot be empty: list a few things you know, e.g. 'python, pytorch, pandas'"
        )
    if required and not any(ch.isalnum() for ch in text):
        # Emoji or punctuation alone give the ranking nothing to match, only noise.
        raise ProfileError(
            f"{name} needs words, not only symbols or emoji: e.g. 'python, pytorch, pandas'"
        )
    return text


def validate_github_login(login: str) -> str:
    """A GitHub login without '@' or URL; ProfileError with the rule otherwise."""
    parsed = parse_github_login(login)
    if parsed is None:
        raise ProfileError(f"'{login.strip()[:40]}' is not a GitHub login: {GITHUB_LOGIN_RULE}")
    return parsed


def clean_profile_update(
    *,
    skills: str | None = None,
    niche: str | None = None,
    languages: str | None = None,
    github_login: str | None = None,
    digest_weekday: int | None = None,
    digest_hour: int | None = None,
    timezone: str | None = None,
    pace: str | None = None,
) -> ProfileUpdate:
    """Validate what a learner typed; each problem is a one-line ProfileError saying what to fix."""
    update = ProfileUpdate(
        skills=_clean_text("skills", skills, required=True),
        niche=_clean_text("niche", niche),
        languages=_clean_text("languages", languages),
    )
    if github_login is not None:
        login = clean_text("github", github_login, max_length=MAX_TEXT)
        update.github_login = validate_github_login(login) if login else ""
    if digest_weekday is not None:
        update.digest_weekday = validate_weekday(digest_weekday)
    if digest_hour is not None:
        update.digest_hour = validate_hour(digest_hour)
    if timezone is not None:
        update.timezone = parse_timezone(
            clean_text("timezone", timezone, max_length=MAX_TIMEZONE)
        ).key
    if pace is not None:
        update.pace = validate_pace(pace)
    update.changed = [
        f.name
        for f in fields(ProfileUpdate)
        if f.name != "changed" and getattr(update, f.name) is not None
    ]
    return update


def get_learner(db: Database, learner_id: str) -> Learner | None:
    """The stored learner, or None if they never set a profile."""
    return store.get_learner(db, learner_id)


def show_profile(db: Database, learner_id: str) -> ProfileView | None:
    """The learner and their GitHub link (what /profile show shows); None without a profile."""
    learner = store.get_learner(db, learner_id)
    if learner is None:
        return None
    return ProfileView(
        learner, identity_store.get_identity(db, learner_id), level=level_for(db, learner)
    )


def save_profile(
    db: Database,
    learner_id: str,
    update: ProfileUpdate,
    *,
    guild_id: str | None = None,
    now: datetime | None = None,
) -> Learner:
    """Create or update a learner from validated fields; a new learner needs skills."""
    return _save(db, learner_id, update, guild_id=guild_id, now=now).learner


def _save(
    db: Database,
    learner_id: str,
    update: ProfileUpdate,
    *,
    guild_id: str | None,
    now: datetime | None,
) -> ProfileView:
    now = now or datetime.now(UTC)
    if update.github_login:
        _refuse_taken_login(db, learner_id, update.github_login)
    columns = update.columns()
    if guild_id is not None:
        columns["home_guild_id"] = str(guild_id)
    learner = store.upsert_learner(db, learner_id, columns, now=now)
    if learner is None:
        raise ProfileError("a new profile needs skills, e.g. skills: 'python, pytorch, pandas'")
    link = link_github_login(db, learner_id, update.github_login, now=now)
    identity = identity_store.get_identity(db, learner_id)
    return ProfileView(learner, identity, level=level_for(db, learner), link=link)


def _refuse_taken_login(db: Database, learner_id: str, login: str) -> None:
    """Checked before anything is saved, so a refused login leaves the whole profile as it was."""
    owner = identity_store.verified_identity(db, login)
    if owner is not None and owner.learner_id != str(learner_id):
        raise ProfileError(
            f"GitHub login {login} is already verified by another learner; nothing was saved"
        )


def link_github_login(
    db: Database, learner_id: str, login: str | None, *, now: datetime
) -> portfolio.LinkResult | None:
    """Record the login a learner typed in /profile as their unverified link, with a code.

    It goes through portfolio.link, as /github link does. The login already linked (verified, or
    claimed with a code still valid) is left as it is, so setting the profile again does not
    void a code already put in a bio. '' removes an unverified link; a verified login stays.
    """
    if login is None:
        return None
    identity = identity_store.get_identity(db, learner_id)
    if not login:
        if identity is not None and not identity.verified:
            identity_store.unlink_identity(db, learner_id)
        return None
    if identity is not None and _already_linked(identity, login, now):
        return None
    return portfolio.link(db, learner_id, login)


def _already_linked(identity: Identity, login: str, now: datetime) -> bool:
    key = identity_store.login_key(login)
    if identity.verified and identity_store.login_key(identity.login) == key:
        return True
    claim = identity.claim
    return (
        claim is not None
        and identity_store.login_key(claim.login) == key
        and (claim.expires_at is None or claim.expires_at > now)
    )


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
    pace: str | None = None,
) -> ProfileView:
    """Validate what the learner typed and save it, in one call (what /profile set does)."""
    update = clean_profile_update(
        skills=skills,
        niche=niche,
        languages=languages,
        github_login=github_login,
        digest_weekday=digest_weekday,
        digest_hour=digest_hour,
        timezone=timezone,
        pace=pace,
    )
    return _save(db, learner_id, update, guild_id=guild_id, now=now)


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
    """Forget a learner: every row about them (matcher.operations.privacy)."""
    delete_learner_data(db, learner_id)


@dataclass(frozen=True)
class ProfileReply:
    """Everything /profile's answer needs, from one call: the profile (None: no profile yet), when
    the next digest comes, and the learner's pending notice (now read, so removed)."""

    view: ProfileView | None
    next_digest: datetime | None = None
    notice: str | None = None


def _reply(db: Database, view: ProfileView | None, learner_id: str, now: datetime) -> ProfileReply:
    from matcher.operations.digests import next_digest_at  # digests imports this module

    if view is None:
        return ProfileReply(None, notice=pop_notice(db, learner_id))
    when = next_digest_at(db, view.learner, now=now)
    return ProfileReply(view, when, pop_notice(db, learner_id))


def update_profile_reply(
    db: Database, learner_id: str, *, guild_id: str | None, now: datetime, **fields: Any
) -> ProfileReply:
    """update_profile, then what its answer shows (next digest, pending notice): one trip."""
    view = update_profile(db, learner_id, guild_id=guild_id, now=now, **fields)
    return _reply(db, view, learner_id, now)


def show_profile_reply(db: Database, learner_id: str, *, now: datetime) -> ProfileReply:
    """show_profile, with the next digest and the pending notice: one trip."""
    return _reply(db, show_profile(db, learner_id), learner_id, now)


def with_notice(
    db: Database, learner_id: str, operation: Callable[..., T], /, *args: Any, **kwargs: Any
) -> tuple[T, str | None]:
    """Run an operation, then read the learner's pending notice, in one call (one trip off the
    bot's event loop); the notice is read only when the operation succeeded."""
    result = operation(*args, **kwargs)
    return result, pop_notice(db, learner_id)
