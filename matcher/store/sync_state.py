"""Sync bookkeeping: per-repository progress (watermark, cursor, ETag), repository metadata,
issue signals the `issues` table has no column for, and cached discovery results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.db import Base, Database, UTCDateTime
from matcher.store.issues import IssueRow


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


class RepoMetaRow(Base):
    __tablename__ = "repo_meta"

    repo: Mapped[str] = mapped_column(String, primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    stars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    language: Mapped[str | None] = mapped_column(String, nullable=True)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    niches: Mapped[list] = mapped_column(JSON, default=list)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String, default="config")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IssueSignalsRow(Base):
    __tablename__ = "issue_signals"

    url: Mapped[str] = mapped_column(String, primary_key=True)
    repo: Mapped[str] = mapped_column(String, index=True)
    beginner_strength: Mapped[float] = mapped_column(Float, default=0.0)
    reactions: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DiscoveryRow(Base):
    __tablename__ = "discovery_cache"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    etag: Mapped[str | None] = mapped_column(String, nullable=True)
    repos: Mapped[list] = mapped_column(JSON, default=list)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
    row = session.get(RepoSyncRow, state.repo)
    values = {name: getattr(state, name) for name in _STATE_FIELDS if name != "repo"}
    if row is None:
        session.add(RepoSyncRow(repo=state.repo, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)


def save_sync_state(db: Database, state: RepoSyncState) -> None:
    with db.session() as session:
        _put_state(session, state)


def save_page_progress(db: Database, state: RepoSyncState, signals: Iterable) -> None:
    """Signals of the issues of one page and the repository's new cursor, in one transaction."""
    signals = list(signals)
    with db.session() as session, session.no_autoflush:
        urls = [sig.url for sig in signals]
        existing = {
            row.url: row
            for start in range(0, len(urls), 500)
            for row in session.scalars(
                select(IssueSignalsRow).where(IssueSignalsRow.url.in_(urls[start : start + 500]))
            )
        }
        for sig in signals:
            values = {
                "repo": state.repo,
                "beginner_strength": sig.beginner_strength,
                "reactions": sig.reactions,
                "last_activity_at": sig.last_activity_at,
                "claimed_by": sig.claimed_by,
                "claimed_at": sig.claimed_at,
            }
            row = existing.get(sig.url)
            if row is None:
                session.add(IssueSignalsRow(url=sig.url, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
        _put_state(session, state)


@dataclass
class StoredSignals:
    url: str
    beginner_strength: float
    reactions: int
    last_activity_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None


def load_issue_signals(
    db: Database, repos: Iterable[str] | None = None
) -> dict[str, StoredSignals]:
    query = select(IssueSignalsRow)
    if repos is not None:
        query = query.where(IssueSignalsRow.repo.in_(list(repos)))
    with db.session() as session:
        return {
            r.url: StoredSignals(
                r.url,
                r.beginner_strength,
                r.reactions,
                r.last_activity_at,
                r.claimed_by,
                r.claimed_at,
            )
            for r in session.scalars(query)
        }


@dataclass
class RepoMetaRecord:
    repo: str
    description: str = ""
    stars: int | None = None
    language: str | None = None
    topics: tuple[str, ...] = ()
    niches: tuple[str, ...] = ()
    archived: bool = False
    source: str = "config"
    updated_at: datetime | None = field(default=None, compare=False)


def save_repo_meta(db: Database, record: RepoMetaRecord) -> bool:
    """Insert or update a repository's metadata; True when something changed."""
    values = {
        "description": record.description,
        "stars": record.stars,
        "language": record.language,
        "topics": list(record.topics),
        "niches": list(record.niches),
        "archived": record.archived,
        "source": record.source,
    }
    with db.session() as session:
        row = session.get(RepoMetaRow, record.repo)
        if row is None:
            session.add(RepoMetaRow(repo=record.repo, updated_at=datetime.now(UTC), **values))
            return True
        if all(getattr(row, k) == v for k, v in values.items()):
            return False
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
        return True


def load_repo_meta(db: Database, repos: Iterable[str] | None = None) -> dict[str, RepoMetaRecord]:
    query = select(RepoMetaRow).order_by(RepoMetaRow.repo)
    if repos is not None:
        query = query.where(RepoMetaRow.repo.in_(list(repos)))
    with db.session() as session:
        return {
            r.repo: RepoMetaRecord(
                r.repo,
                r.description,
                r.stars,
                r.language,
                tuple(r.topics or ()),
                tuple(r.niches or ()),
                r.archived,
                r.source,
                r.updated_at,
            )
            for r in session.scalars(query)
        }


def refresh_issue_repo_fields(
    db: Database,
    repo: str,
    *,
    stars: int | None,
    topics: tuple[str, ...],
    language: str | None,
    niches: tuple[str, ...],
) -> int:
    """Copy changed repository fields onto every stored issue of the repository; rows touched."""
    with db.session() as session:
        result = session.execute(
            update(IssueRow)
            .where(func.lower(IssueRow.repo) == repo.lower())
            .values(
                stars=stars,
                topics=list(topics),
                language=language,
                niches=list(niches),
                stored_at=datetime.now(UTC),  # advances the change mark the ranking index reads
            )
        )
        return result.rowcount or 0  # type: ignore[attr-defined]


def stored_states(db: Database, repo: str) -> dict[str, str]:
    """url -> state of every stored issue of a repository."""
    with db.session() as session:
        return dict(
            session.execute(select(IssueRow.url, IssueRow.state).where(IssueRow.repo == repo)).all()
        )


def mark_unlisted(db: Database, urls: Iterable[str], state: str = "unlisted") -> int:
    """Take issues out of the pool that a complete full pass no longer returned."""
    urls = list(urls)
    if not urls:
        return 0
    with db.session() as session:
        result = session.execute(
            update(IssueRow)
            .where(IssueRow.url.in_(urls))
            .values(state=state, stored_at=datetime.now(UTC))  # advances the change mark
        )
        return result.rowcount or 0  # type: ignore[attr-defined]


def get_discovery(db: Database, key: str) -> tuple[str | None, list]:
    with db.session() as session:
        row = session.get(DiscoveryRow, key)
        return (row.etag, list(row.repos or [])) if row else (None, [])


def put_discovery(db: Database, key: str, etag: str | None, repos: list) -> None:
    with db.session() as session:
        row = session.get(DiscoveryRow, key)
        if row is None:
            session.add(DiscoveryRow(key=key, etag=etag, repos=repos, fetched_at=datetime.now(UTC)))
        else:
            row.etag, row.repos, row.fetched_at = etag, repos, datetime.now(UTC)
