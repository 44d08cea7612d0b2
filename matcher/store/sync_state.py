"""Per-repository sync progress (table repo_sync_state): watermark, cursor, ETag, last error;
a page's progress is saved with its issue signals in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import (
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    upsert,
)
from matcher.store.issue_signals import IssueSignalsRow


class RepoSyncRow(Base):
    __tablename__ = "repo_sync_state"

    repo: Mapped[str] = mapped_column(String, primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pass_mode: Mapped[str | None] = mapped_column(String, nullable=True)
    pass_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pass_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cursor: Mapped[str | None] = mapped_column(Text, nullable=True)
    pass_max_updated: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pass_fetched: Mapped[int] = mapped_column(Integer, default=0)
    last_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    etag: Mapped[str | None] = mapped_column(String, nullable=True)


@dataclass
class RepoSyncState:
    """Where the sync of one repository stands; a pass in progress has a `cursor`."""

    repo: str
    watermark: datetime | None = None
    pass_mode: str | None = None  # "full" | "incremental" while a pass is under way
    pass_since: datetime | None = None
    pass_started_at: datetime | None = None
    cursor: str | None = None
    pass_max_updated: datetime | None = None
    pass_fetched: int = 0
    last_completed_at: datetime | None = None
    last_error: str | None = None
    etag: str | None = None

    @property
    def in_progress(self) -> bool:
        return self.pass_mode is not None


_STATE_FIELDS = [f.name for f in fields(RepoSyncState)]


def _state_from_row(row: RepoSyncRow) -> RepoSyncState:
    return RepoSyncState(**{name: getattr(row, name) for name in _STATE_FIELDS})


def load_sync_states(db: Database, repos: Iterable[str] | None = None) -> dict[str, RepoSyncState]:
    """Saved progress by repository (repositories never synced are absent)."""
    query = select(RepoSyncRow)
    if repos is not None:
        query = query.where(RepoSyncRow.repo.in_(list(repos)))
    with db.session() as session:
        return {row.repo: _state_from_row(row) for row in session.scalars(query)}


def _put_state(session, state: RepoSyncState) -> None:
    upsert(session, RepoSyncRow, [{name: getattr(state, name) for name in _STATE_FIELDS}], ["repo"])


def save_sync_state(db: Database, state: RepoSyncState) -> None:
    with db.session() as session:
        _put_state(session, state)


def save_page_progress(db: Database, state: RepoSyncState, signals: Iterable) -> None:
    """Signals of the issues of one page and the repository's new cursor, in one transaction.

    Idempotent: saving the same page twice, or from two processes, leaves the same rows.
    """
    rows = {
        sig.url: {
            "url": sig.url,
            "repo": state.repo,
            "beginner_strength": sig.beginner_strength,
            "reactions": sig.reactions,
            "last_activity_at": sig.last_activity_at,
            "claimed_by": sig.claimed_by,
            "claimed_at": sig.claimed_at,
        }
        for sig in signals
    }
    unique = list(rows.values())  # one row per URL: ON CONFLICT may not touch a row twice
    with db.session() as session:
        for start in range(0, len(unique), 500):
            upsert(session, IssueSignalsRow, unique[start : start + 500], ["url"])
        _put_state(session, state)
