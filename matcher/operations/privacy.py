"""A learner's data is theirs: export everything stored about them, or delete all of it.

What is "about them": every row naming their learner id (profile, suggestions and the answers
given to them, issue claims, digest deliveries, GitHub identity, attributions) and the portfolio
of their own GitHub account (merged pull requests, refresh watermarks). A login that another
learner has verified is that learner's, so its portfolio stays. The bot's `/profile export|delete`
and the CLI's `learner export|delete` both call these two functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from matcher.errors import ProfileError
from matcher.store import portfolio as identity_store
from matcher.store import privacy as store
from matcher.store.db import Database

EXPORT_FORMAT = "ml-first-issues learner export, version 1"


@dataclass(frozen=True)
class DeleteReport:
    """What a delete removed: rows by table name."""

    learner_id: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def message(self) -> str:
        if not self.rows:
            return "Nothing was stored about you; nothing to delete."
        tables = len(self.rows)
        return (
            f"Deleted {self.total} row{'s' if self.total != 1 else ''} in {tables} "
            f"table{'s' if tables != 1 else ''}: your profile, suggestions, answers, claims, "
            "digests, GitHub link and portfolio are gone."
        )


def learner_keys(db: Database, learner_id: str) -> store.LearnerKeys:
    """The learner's id and the GitHub accounts that are theirs (verified by no one else)."""
    learner_id = check_learner_id(learner_id)
    identity = identity_store.get_identity(db, learner_id)
    if identity is None:
        return store.LearnerKeys(learner_id)
    logins = [login for login in (identity.login, identity.pending_login) if login]
    own = {
        identity_store.login_key(login)
        for login in logins
        if _not_someone_elses(db, login, learner_id)
    }
    ids = {identity.github_id} if identity.verified and identity.github_id is not None else set()
    return store.LearnerKeys(learner_id, frozenset(own), frozenset(i for i in ids if i))


def _not_someone_elses(db: Database, login: str, learner_id: str) -> bool:
    owner = identity_store.verified_identity(db, login)
    return owner is None or owner.learner_id == learner_id


def check_learner_id(learner_id: str) -> str:
    """A learner id as the store keeps it (a Discord user id: digits); ProfileError otherwise."""
    text = str(learner_id).strip()
    if not text or len(text) > 32 or "\x00" in text:
        raise ProfileError(f"'{text[:40]}' is not a learner id (a Discord user id, e.g. 1234567)")
    return text


def export_learner(db: Database, learner_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything stored about the learner, by table, ready for json.dumps."""
    keys = learner_keys(db, learner_id)
    return {
        "format": EXPORT_FORMAT,
        "learner_id": keys.learner_id,
        "exported_at": (now or datetime.now(UTC)).isoformat(),
        "github_logins": sorted(keys.login_keys),
        "tables": store.learner_rows(db, keys),
    }


def export_learner_json(db: Database, learner_id: str, *, now: datetime | None = None) -> str:
    """export_learner as indented JSON text."""
    return json.dumps(export_learner(db, learner_id, now=now), indent=2, ensure_ascii=False)


def delete_learner_data(db: Database, learner_id: str) -> DeleteReport:
    """Delete every row about the learner, in every table, in one transaction."""
    keys = learner_keys(db, learner_id)
    return DeleteReport(keys.learner_id, store.delete_learner_rows(db, keys))
