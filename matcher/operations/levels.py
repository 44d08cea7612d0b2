"""A learner's level on the difficulty ramp: their verified merged pull requests, the issues they
marked "I'm working on it", and the pace they asked for (matcher.ramp.level_of)."""

from __future__ import annotations

from matcher.models import Contribution, Learner, Level
from matcher.ramp import level_of
from matcher.ramp import level_text as level_text  # the bot's embeds describe a level with it
from matcher.store import portfolio as identity_store
from matcher.store import suggestions as suggestion_store
from matcher.store.db import Database
from matcher.store.issues import issues_by_url


def verified_contributions(db: Database, learner_id: str) -> list[Contribution]:
    """The merged pull requests of the learner's verified GitHub login (none before it is
    verified: anyone can type a login)."""
    identity = identity_store.get_identity(db, learner_id)
    if identity is None or not identity.verified:
        return []
    return identity_store.load_contributions(db, author_id=identity.github_id, login=identity.login)


def level_for(db: Database, learner: Learner) -> Level:
    """Where the learner stands on the ramp now, and the pace they chose."""
    working = sorted(
        (
            s
            for s in suggestion_store.suggestions_for(db, learner.learner_id)
            if s.status == "working"
        ),
        key=lambda s: (s.status_at or s.suggested_at, s.issue_url),
        reverse=True,
    )
    stored = {i.url: i for i in issues_by_url(db, [s.issue_url for s in working])}
    issues = [stored[s.issue_url] for s in working if s.issue_url in stored]
    return level_of(verified_contributions(db, learner.learner_id), issues, learner.pace)
