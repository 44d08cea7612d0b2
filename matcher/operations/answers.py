"""A learner's answer to a match: interested, not for me, or working on it (an issue claim)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from matcher.operations.suggestions import CLAIM_TTL
from matcher.store import issue_keys
from matcher.store import learners as learner_store
from matcher.store import suggestions as store
from matcher.store.db import Database

# A button's action -> the stored status.
ACTIONS = {"interested": "interested", "dismiss": "dismissed", "working": "working"}


@dataclass(frozen=True)
class Answer:
    """What happened: the issue (None: the key is unknown), the status, and who holds the issue
    when someone else in the community already works on it (then nothing was stored)."""

    issue_url: str | None
    status: str
    holder: str | None = None
    notice: str | None = None  # the learner's pending notice (answer_match_reply reads it)


def set_status(
    db: Database,
    learner_id: str,
    issue_url: str,
    status: str,
    *,
    guild_id: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """Store a learner's answer to a suggestion and keep the community's issue claims in step.

    'working' claims the issue in `guild_id`; if someone else there holds a live claim, nothing is
    stored and their learner id is returned. Any other answer releases the learner's own claim.
    Returns None when the status was stored.
    """
    now = now or datetime.now(UTC)
    if status not in store.STATUSES:
        raise ValueError(f"status must be one of {store.STATUSES}")
    learner_id = str(learner_id)
    if guild_id is not None:
        if status == "working":
            holder = store.take_issue_claim(
                db, guild_id, issue_url, learner_id, now=now, after=now - CLAIM_TTL
            )
            if holder != learner_id:
                return holder
        else:
            store.release_issue_claim(db, guild_id, issue_url, learner_id)
    store.set_suggestion_status(
        db, learner_id, issue_url, status, guild_id=str(guild_id) if guild_id else None, now=now
    )
    return None


def answer_match(
    db: Database, learner_id: str, key: str, action: str, *, guild_id: str | None, now: datetime
) -> Answer:
    """Answer the match behind a button key; outside a server, the home community counts."""
    status = ACTIONS[action]
    url = issue_keys.url_for_key(db, key)
    if url is None:
        return Answer(None, status)
    if guild_id is None:
        learner = learner_store.get_learner(db, learner_id)
        guild_id = learner.home_guild_id if learner else None
    else:
        learner_store.set_home_guild(db, learner_id, guild_id)
    holder = set_status(db, learner_id, url, status, guild_id=guild_id, now=now)
    return Answer(url, status, holder)


def answer_match_reply(
    db: Database, learner_id: str, key: str, action: str, *, guild_id: str | None, now: datetime
) -> Answer:
    """answer_match(), with the learner's pending notice read too: one trip for a button press."""
    answer = answer_match(db, learner_id, key, action, guild_id=guild_id, now=now)
    if answer.issue_url is None:  # the bot answers with an error: keep the notice for later
        return answer
    return replace(answer, notice=learner_store.pop_pending_notice(db, learner_id))
