"""Sync bookkeeping: idempotent page progress and one sync at a time per store."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from matcher.errors import SyncBusyError
from matcher.store.issue_signals import load_issue_signals
from matcher.store.sync_locks import SyncLockRow, sync_lock
from matcher.store.sync_state import RepoSyncState, load_sync_states, save_page_progress
from tests import databases


@dataclass
class Signal:
    url: str
    beginner_strength: float = 1.0
    reactions: int = 0
    last_activity_at: datetime | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None


def test_saving_the_same_page_twice_leaves_the_same_rows(db):
    state = RepoSyncState("a/b", pass_mode="full", cursor="c1", pass_fetched=2)
    page = [Signal("https://github.com/a/b/issues/1"), Signal("https://github.com/a/b/issues/2")]
    save_page_progress(db, state, page)
    page[1] = Signal("https://github.com/a/b/issues/2", reactions=3, claimed_by="x")
    save_page_progress(db, state, page + [page[1]])  # a retried page, one issue listed twice
    signals = load_issue_signals(db)
    assert sorted(signals) == [page[0].url, page[1].url]
    assert signals[page[1].url].reactions == 3 and signals[page[1].url].claimed_by == "x"
    assert load_sync_states(db)["a/b"].cursor == "c1"


def test_a_second_sync_lock_is_refused_with_the_name_of_the_holder(db):
    with sync_lock(db):
        with pytest.raises(SyncBusyError) as caught, sync_lock(db):
            pass
        message = str(caught.value)
        assert f"pid {os.getpid()} on {socket.gethostname()}" in message and "\n" not in message
    with sync_lock(db):  # released: the next sync runs
        pass


def _leave_lock(db, *, host: str, pid: int, expires_in: timedelta) -> None:
    now = datetime.now(UTC)
    with db.session() as session:
        session.add(
            SyncLockRow(
                name="sync",
                token="f" * 32,
                holder=f"pid {pid} on {host}, started earlier",
                host=host,
                pid=pid,
                acquired_at=now - timedelta(hours=1),
                expires_at=now + expires_in,
            )
        )


@pytest.mark.skipif(
    databases.on_postgres(), reason="PostgreSQL's advisory lock ends with its holder"
)
def test_a_lock_left_on_another_host_blocks_until_it_expires(db):
    _leave_lock(db, host="elsewhere", pid=1, expires_in=timedelta(minutes=5))
    with pytest.raises(
        SyncBusyError, match=r"pid 1 on elsewhere.*its lock expires at \d\d:\d\d UTC"
    ):
        with sync_lock(db):
            pass
    with db.session() as session:
        session.get(SyncLockRow, "sync").expires_at = datetime.now(UTC) - timedelta(seconds=1)
    with sync_lock(db):
        pass


@pytest.mark.skipif(
    databases.on_postgres(), reason="PostgreSQL's advisory lock ends with its holder"
)
def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over_at_once(db):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    _leave_lock(db, host=socket.gethostname(), pid=int(gone.stdout), expires_in=timedelta(hours=1))
    with sync_lock(db):
        with db.session() as session:
            assert session.scalar(select(SyncLockRow.pid)) == os.getpid()


def test_a_running_sync_keeps_renewing_its_lock(db):
    with sync_lock(db, ttl=timedelta(seconds=0.6)):
        with db.session() as session:
            first = session.scalar(select(SyncLockRow.expires_at))
        time.sleep(0.9)
        with db.session() as session:
            assert session.scalar(select(SyncLockRow.expires_at)) > first
        with pytest.raises(SyncBusyError):  # past its first expiry, still held
            with sync_lock(db):
                pass
