"""Suggest issues to a learner, honouring their feedback and their community's focus and claims."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from matcher.models import Feedback, GuildConfig, Learner, Match, Suggestion
from matcher.operations.levels import level_for
from matcher.store import communities as community_store
from matcher.store import issue_keys
from matcher.store import learners as learner_store
from matcher.store import suggestions as store
from matcher.store.db import Database

if TYPE_CHECKING:
    from matcher.engine import MatchEngine

CLAIM_TTL = timedelta(days=30)


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
    now = now or datetime.now(UTC)
    claimed = claimed_by_others(db, guild_id, learner_id, now=now)
    return feedback_from(store.suggestions_for(db, learner_id), claimed, for_digest=for_digest)


def feedback_from(
    suggestions: Iterable[Suggestion], claimed_by_others: set[str], *, for_digest: bool
) -> Feedback:
    """The rule of `feedback_for`, on a learner's suggestions and others' claims already read."""
    dismissed, liked, hidden = set(), set(), set()
    for s in suggestions:
        if s.status == "dismissed":
            dismissed.add(s.issue_url)
        elif s.status in ("interested", "working"):
            liked.add(s.issue_url)
        if s.status == "working" or s.digested_at is not None or for_digest:
            hidden.add(s.issue_url)
    hidden |= claimed_by_others
    return Feedback(
        dismissed=frozenset(dismissed), liked=frozenset(liked), hidden=frozenset(hidden - dismissed)
    )


def feedbacks_for(
    db: Database,
    learners: list[Learner],
    suggestions: dict[str, list[Suggestion]],
    *,
    for_digest: bool,
    now: datetime,
) -> dict[str, Feedback]:
    """`feedback_for` of many learners (each in their home community) with one claims query."""
    guilds = {x.home_guild_id for x in learners if x.home_guild_id is not None}
    claims = store.claims_in_guilds(db, guilds, after=now - CLAIM_TTL)
    feedback = {}
    for learner in learners:
        others = {
            url
            for url, holder in claims.get(learner.home_guild_id or "", [])
            if holder != learner.learner_id
        }
        feedback[learner.learner_id] = feedback_from(
            suggestions.get(learner.learner_id, []), others, for_digest=for_digest
        )
    return feedback


def claimed_by_others(
    db: Database, guild_id: str | None, learner_id: str, *, now: datetime | None = None
) -> set[str]:
    """Issue URLs someone else in the community is working on (claims expire after CLAIM_TTL)."""
    now = now or datetime.now(UTC)
    if guild_id is None:
        return set()
    return store.issues_claimed_by_others(db, guild_id, learner_id, after=now - CLAIM_TTL)


def record_suggestions(
    db: Database,
    learner_id: str,
    urls: Iterable[str],
    *,
    via: str,
    guild_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Remember that these issues were shown (the first showing is kept); url -> button key."""
    now = now or datetime.now(UTC)
    urls = list(dict.fromkeys(urls))
    with db.transaction():
        keys = issue_keys.register_issue_keys(db, urls)
        store.record_suggestions(db, learner_id, urls, via=via, guild_id=guild_id, now=now)
    return keys


def suggestions_for(db: Database, learner_id: str | None = None) -> list[Suggestion]:
    """Stored suggestions (of one learner, or all), oldest first."""
    return store.suggestions_for(db, learner_id)


@dataclass(frozen=True)
class Suggested:
    """What /suggest shows: the learner (None: no profile yet), matches and their button keys."""

    learner: Learner | None
    matches: list[Match] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    config: GuildConfig | None = None
    notice: str | None = None  # the learner's pending notice (suggest_reply reads it)

    @property
    def focused(self) -> bool:
        return self.config is not None and self.config.has_focus


def focus_of(config: GuildConfig | None) -> dict[str, tuple[str, ...] | None]:
    """The engine's repos/niches arguments for a community (None: no restriction)."""
    if config is None:
        return {"repos": None, "niches": None}
    return {"repos": config.focus_repos or None, "niches": config.focus_niches or None}


def suggest(
    db: Database,
    engine: MatchEngine,
    learner_id: str,
    *,
    guild_id: str | None,
    count: int,
    now: datetime,
) -> Suggested:
    """The learner's best matches now, recorded as shown ('suggest'), with their button keys.

    One transaction reads what the ranking needs, one writes what was shown; the ranking runs
    between them, holding none open.
    """
    with db.transaction():
        # the write first: on SQLite a transaction that read before writing can be refused the
        # write lock outright (a stale snapshot), one that starts with it just waits its turn
        learner_store.set_home_guild(db, learner_id, guild_id)
        learner = learner_store.get_learner(db, learner_id)
        if learner is None:
            return Suggested(None)
        community = guild_id or learner.home_guild_id
        config = community_store.get_guild_config(db, community)
        feedback = feedback_for(db, learner_id, community, now=now)
        level = level_for(db, learner)
    matches = engine.match(
        learner.profile, top_k=count, feedback=feedback, now=now, level=level, **focus_of(config)
    )
    keys = record_suggestions(
        db, learner_id, [m.issue.url for m in matches], via="suggest", guild_id=community, now=now
    )
    return Suggested(learner, matches, keys, config)


def suggest_reply(
    db: Database,
    engine: MatchEngine,
    learner_id: str,
    *,
    guild_id: str | None,
    count: int,
    now: datetime,
) -> Suggested:
    """suggest(), with the learner's pending notice read too: everything /suggest's answer needs."""
    result = suggest(db, engine, learner_id, guild_id=guild_id, count=count, now=now)
    notice = learner_store.pop_pending_notice(db, learner_id) if result.learner else None
    return replace(result, notice=notice)
