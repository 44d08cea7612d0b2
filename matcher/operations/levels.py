"""A learner's level on the difficulty ramp: their verified merged pull requests, the issues they
marked "I'm working on it", and the pace they asked for (matcher.ramp.level_of)."""

from __future__ import annotations

from matcher.models import Contribution, Learner, Level, Suggestion
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


def levels_for(
    db: Database, learners: list[Learner], suggestions: dict[str, list[Suggestion]]
) -> dict[str, Level]:
    """`level_for` of many learners in a few queries; `suggestions` by learner, already read."""
    identities = identity_store.identities_by_learner(db, [x.learner_id for x in learners])
    verified = {k: i for k, i in identities.items() if i.verified}
    by_author = identity_store.contributions_by_author_id(
        db, [i.github_id for i in verified.values() if i.github_id is not None]
    )
    working = {
        x.learner_id: sorted(
            (s for s in suggestions.get(x.learner_id, []) if s.status == "working"),
            key=lambda s: (s.status_at or s.suggested_at, s.issue_url),
            reverse=True,
        )
        for x in learners
    }
    urls = {s.issue_url for rows in working.values() for s in rows}
    stored = {i.url: i for i in issues_by_url(db, urls)} if urls else {}
    levels = {}
    for learner in learners:
        identity = verified.get(learner.learner_id)
        contributions: list[Contribution] = []
        if identity is not None:
            contributions = (
                by_author.get(identity.github_id, [])
                if identity.github_id is not None
                else verified_contributions(db, learner.learner_id)
            )
        issues = [stored[s.issue_url] for s in working[learner.learner_id] if s.issue_url in stored]
        levels[learner.learner_id] = level_of(contributions, issues, learner.pace)
    return levels
