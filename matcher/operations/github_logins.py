"""A learner's GitHub login as the bot's portfolio commands see it (the identity table owns the
verified one; a login typed in /profile counts until one is linked)."""

from __future__ import annotations

from matcher.models import Identity
from matcher.store import learners as learner_store
from matcher.store import portfolio as store
from matcher.store.db import Database


def own_login(db: Database, learner_id: str) -> str | None:
    """The login whose portfolio /portfolio shows by default: linked first, else the profile's."""
    identity = store.get_identity(db, learner_id)
    if identity is not None:
        return identity.login
    learner = learner_store.get_learner(db, learner_id)
    return learner.github_login if learner else None


def identity_of(db: Database, learner_id: str) -> Identity | None:
    """The learner's linked (maybe not yet verified) GitHub identity."""
    return store.get_identity(db, learner_id)


def verified_identities(db: Database) -> list[Identity]:
    """Every verified identity (the portfolio loop refreshes these)."""
    return store.verified_identities(db)


def same_login(first: str, second: str) -> bool:
    """GitHub logins compare without case."""
    return store.login_key(first) == store.login_key(second)
