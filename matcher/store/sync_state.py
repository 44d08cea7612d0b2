"""Sync bookkeeping: per-repository progress (watermark, cursor, ETag), repository metadata,
issue signals the `issues` table has no column for, cached discovery results, and the sync lock."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from matcher.errors import StoreError, SyncBusyError
from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    insert_ignoring_duplicates,
    sql_insert,
    upsert,
)
from matcher.store.issues import IssueRow

log = logging.getLogger(__name__)


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
            row_values = {**values, "repo": record.repo, "updated_at": datetime.now(UTC)}
            insert_ignoring_duplicates(session, RepoMetaRow, [row_values], ["repo"])
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
    values = {"key": key, "etag": etag, "repos": repos, "fetched_at": datetime.now(UTC)}
    with db.session() as session:
        upsert(session, DiscoveryRow, [values], ["key"])


# ---------------------------------------------------------------- one sync at a time


class SyncLockRow(Base):
    """Who runs the sync of this store. On SQLite the row is the lock (it expires unless renewed,
    so a killed sync blocks the next one for one TTL at most); on PostgreSQL an advisory lock is,
    and the row only names the holder."""

    __tablename__ = "sync_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    holder: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


SYNC_LOCK = "sync"
SYNC_LOCK_KEY = 0x6D617463_0002  # pg_advisory_lock key; the migration lock is ..._0001
SYNC_LOCK_TTL = timedelta(minutes=10)


@contextmanager
def sync_lock(db: Database, *, ttl: timedelta = SYNC_LOCK_TTL) -> Iterator[None]:
    """Hold the store's sync lock for the block; SyncBusyError names the holder if it is taken."""
    token = uuid.uuid4().hex
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(db, SYNC_LOCK_KEY) as got:
            if not got:
                raise SyncBusyError(_busy_message(db, expires=False))
            _write_lock_row(db, token, ttl, force=True)
            with _renewed(db, token, ttl):
                yield
        return
    _forget_dead_local_holder(db)
    if not _write_lock_row(db, token, ttl, force=False):
        raise SyncBusyError(_busy_message(db, expires=True))
    with _renewed(db, token, ttl):
        yield


@contextmanager
def _renewed(db: Database, token: str, ttl: timedelta) -> Iterator[None]:
    """Keep the lock row alive while the block runs; delete it at the end."""
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(db, token, ttl, stop), daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        _release_lock_row(db, token)


@contextmanager
def _advisory_lock(db: Database, key: int) -> Iterator[bool]:
    """A session-level pg_try_advisory_lock on a connection of its own, held for the block."""
    with db.engine.connect() as connection:
        got = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        connection.commit()
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


def _write_lock_row(db: Database, token: str, ttl: timedelta, *, force: bool) -> bool:
    """Insert the lock row, or take over an expired one (any one, if `force`); True if ours."""
    now = datetime.now(UTC)
    values = {
        "name": SYNC_LOCK,
        "token": token,
        "holder": f"pid {os.getpid()} on {socket.gethostname()}, started {now:%Y-%m-%d %H:%M} UTC",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "acquired_at": now,
        "expires_at": now + ttl,
    }
    with db.session() as session:
        statement = sql_insert(session, SyncLockRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={name: statement.excluded[name] for name in values if name != "name"},
            where=None if force else SyncLockRow.expires_at < statement.excluded.acquired_at,
        )
        session.execute(statement)
        return (
            session.scalar(select(SyncLockRow.token).where(SyncLockRow.name == SYNC_LOCK)) == token
        )


def _forget_dead_local_holder(db: Database) -> None:
    """A holder on this host whose process is gone was killed: its row need not wait out the TTL."""
    with db.session() as session:
        row = session.get(SyncLockRow, SYNC_LOCK)
        if row is None or row.host != socket.gethostname() or _alive(row.pid):
            return
        session.execute(delete(SyncLockRow).where(SyncLockRow.token == row.token))
        log.info("the sync lock of %s was left by a process that is gone; taken over", row.holder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _renew(db: Database, token: str, ttl: timedelta, stop: threading.Event) -> None:
    while not stop.wait(ttl.total_seconds() / 3):
        try:
            with db.session() as session:
                session.execute(
                    update(SyncLockRow)
                    .where(SyncLockRow.name == SYNC_LOCK, SyncLockRow.token == token)
                    .values(expires_at=datetime.now(UTC) + ttl)
                )
        except StoreError as exc:  # a busy or lost store: the next renewal may succeed
            log.warning("could not renew the sync lock: %s", exc)


def _release_lock_row(db: Database, token: str) -> None:
    try:
        with db.session() as session:
            session.execute(delete(SyncLockRow).where(SyncLockRow.token == token))
    except StoreError as exc:  # it expires by itself
        log.warning("could not release the sync lock: %s", exc)


def _busy_message(db: Database, *, expires: bool) -> str:
    with db.session() as session:
        row = session.get(SyncLockRow, SYNC_LOCK)
    if row is None:
        return "another sync is running on this store; try again when it has finished"
    until = f"; if it was killed, its lock expires at {row.expires_at:%H:%M} UTC" if expires else ""
    return f"another sync is running on this store ({row.holder}); wait for it to finish{until}"
