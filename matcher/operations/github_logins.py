"""A learner's GitHub login as the bot's portfolio commands see it: the identity table is its one
home (/github link and /profile set github: both link there, unverified until proven)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matcher.models import Identity
from matcher.settings import Settings
from matcher.store import portfolio as store
from matcher.store.db import Database

if TYPE_CHECKING:
    from matcher.github.pulls import PullsClient


def pulls_client_for(settings: Settings) -> PullsClient:
    """The GitHub client the portfolio commands use (GITHUB_TOKEN; anonymous without one)."""
    from matcher.github.pulls import pulls_client

    return pulls_client(settings.github)


def own_login(db: Database, learner_id: str) -> str | None:
    """The login whose portfolio /portfolio shows by default: the linked one, verified or not."""
    identity = store.get_identity(db, learner_id)
    return identity.login if identity is not None else None


def identity_of(db: Database, learner_id: str) -> Identity | None:
    """The learner's linked (maybe not yet verified) GitHub identity."""
    return store.get_identity(db, learner_id)


def verified_identities(db: Database) -> list[Identity]:
    """Every verified identity (the portfolio loop refreshes these)."""
    return store.verified_identities(db)


def same_login(first: str, second: str) -> bool:
    """GitHub logins compare without case."""
    return store.login_key(first) == store.login_key(second)
