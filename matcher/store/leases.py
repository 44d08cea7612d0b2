"""The `leases` table: which process owns a background job, until when.

A lease is one row (name, owner, expires_at). Its owner renews it while it works; another
process takes it only once it has expired, i.e. once its owner stopped renewing (died, hung, or
lost the store for longer than the lease lasts). Expiry is read from this host's clock, so hosts
sharing a store keep their clocks in step (NTP) to well within a lease's length.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from matcher.errors import StoreError
from matcher.store.db import Base, Database, UTCDateTime, sql_insert

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=90)


class LeaseRow(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Lease:
    """Who holds a lease and until when."""

    name: str
    owner: str
    expires_at: datetime


def new_owner(role: str = "process") -> str:
    """A name for one owner: host, process id and a random part (a restarted process differs)."""
    return f"{role} {socket.gethostname()[:60]} pid {os.getpid()} {secrets.token_hex(4)}"


def clock() -> datetime:
    """The time leases are measured by (this host's clock, UTC)."""
    return datetime.now(UTC)


def acquire(db: Database, name: str, owner: str, *, ttl: timedelta = LEASE_TTL) -> bool:
    """Take the lease if it is free, expired, or already ours; True if `owner` holds it now.

    One INSERT ... ON CONFLICT DO UPDATE ... WHERE expired: of two processes racing for an
    expired lease, exactly one matches.
    """
    now = clock()
    with db.session() as session:
        statement = sql_insert(session, LeaseRow).values(
            name=name, owner=owner, expires_at=now + ttl
        )
        table = LeaseRow.__table__.c
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["name"],
                set_={
                    "owner": statement.excluded.owner,
                    "expires_at": statement.excluded.expires_at,
                },
                where=(table.expires_at < now) | (table.owner == owner),
            )
        )
        held = session.scalar(select(LeaseRow.owner).where(LeaseRow.name == name))
    return held == owner


def renew(db: Database, name: str, owner: str, *, ttl: timedelta = LEASE_TTL) -> bool:
    """Push the lease's expiry on; False if it is no longer ours (expired and taken over)."""
    with db.session() as session:
        result = session.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, LeaseRow.owner == owner)
            .values(expires_at=clock() + ttl)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release(db: Database, name: str, owner: str) -> bool:
    """Give the lease up at once (only if it is still ours)."""
    with db.session() as session:
        result = session.execute(
            delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.owner == owner)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def holder(db: Database, name: str) -> Lease | None:
    """The live holder of a lease (None: free or expired)."""
    with db.session() as session:
        row = session.get(LeaseRow, name)
        if row is None or row.expires_at <= clock():
            return None
        return Lease(row.name, row.owner, row.expires_at)


def live_names(db: Database, names: set[str]) -> set[str]:
    """Which of these leases are held and unexpired right now."""
    if not names:
        return set()
    wanted, found = sorted(names), set[str]()
    now = clock()
    with db.session() as session:
        for start in range(0, len(wanted), 500):
            found.update(
                session.scalars(
                    select(LeaseRow.name).where(
                        LeaseRow.name.in_(wanted[start : start + 500]), LeaseRow.expires_at > now
                    )
                )
            )
    return found


class Keeper:
    """Renews one lease from a daemon thread every third of its length, until stopped.

    A renewal that fails because the store is away is retried at the next beat; one that finds
    the lease taken over sets `lost` and stops, so the work it guarded can stop too.
    """

    def __init__(self, db: Database, name: str, owner: str, *, ttl: timedelta = LEASE_TTL):
        self.db, self.name, self.owner, self.ttl = db, name, owner, ttl
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease {name}", daemon=True)

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def stop(self, *, release_it: bool = True) -> None:
        """Stop renewing; release the lease unless `release_it` is False (then it expires)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        if release_it and not self.lost.is_set():
            try:
                release(self.db, self.name, self.owner)
            except StoreError as error:  # it expires on its own
                log.warning("could not release lease %s: %s", self.name, error)

    def _run(self) -> None:
        beat = self.ttl.total_seconds() / 3
        failing = False
        while not self._stop.wait(beat):
            try:
                if not renew(self.db, self.name, self.owner, ttl=self.ttl):
                    log.warning("lease %s was taken over; %s stops", self.name, self.owner)
                    self.lost.set()
                    return
                if failing:
                    log.warning("lease %s renewed again after a store outage", self.name)
                failing = False
            except StoreError as error:
                if not failing:  # one line per outage, not one per beat
                    log.warning("cannot renew lease %s (retrying): %s", self.name, error)
                failing = True


@contextmanager
def held(
    db: Database, name: str, *, ttl: timedelta = LEASE_TTL, owner: str | None = None
) -> Iterator[Keeper | None]:
    """Hold the lease `name` for the block, renewed while it runs; None if another owner has it."""
    owner = owner or new_owner(name)
    if not acquire(db, name, owner, ttl=ttl):
        yield None
        return
    keeper = Keeper(db, name, owner, ttl=ttl).start()
    try:
        yield keeper
    finally:
        keeper.stop()
