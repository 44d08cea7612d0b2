"""One sync at a time per store (table sync_locks): on SQLite the row is the lock, renewed while
the sync runs; on PostgreSQL an advisory lock is, and the row names the holder."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    Text,
    delete,
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
    sql_insert,
)

log = logging.getLogger(__name__)


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
