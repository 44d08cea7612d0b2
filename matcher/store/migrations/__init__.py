"""Named, ordered schema changes (Alembic), applied under a lock so concurrent processes are safe.

One process migrates; the others wait for the lock, then find the store at head and go on.
The lock is an advisory lock on PostgreSQL and, on SQLite, a lock file beside the database that
lasts only as long as the migration.

Alembic is imported only to migrate: opening a store at head (every command, every bot start)
reads the recorded revision with one SELECT and the revisions from the headers of the files in
versions/ (tests/matcher/store/test_migrations.py holds them equal to Alembic's own reading).
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
# Alembic's "Context impl SQLiteImpl" lines are detail; ours says what happened
logging.getLogger("alembic").setLevel(logging.WARNING)

# pg_advisory_lock key of schema migrations: any constant unique among this project's locks
MIGRATION_LOCK_KEY = 0x6D617463_0001


VERSIONS = Path(__file__).parent / "versions"
_HEADER = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["connection"] = connection
    return config


@cache
def _revision_chain() -> dict[str, str | None]:
    """revision -> the revision it revises, read from the header lines of versions/*.py."""
    chain: dict[str, str | None] = {}
    for path in VERSIONS.glob("*.py"):
        found = {
            name: ast.literal_eval(value)
            for name, value in _HEADER.findall(path.read_text(encoding="utf-8"))
        }
        if "revision" in found:
            chain[found["revision"]] = found.get("down_revision")
    return chain


@cache
def head_revision() -> str:
    """The revision this version of the code needs: the one no other revision revises."""
    chain = _revision_chain()
    (head,) = set(chain) - set(chain.values())
    return head


def known_revisions() -> frozenset[str]:
    return frozenset(_revision_chain())


def current_revision(connection: Connection) -> str | None:
    """The store's recorded revision; None for an empty store or one made before migrations."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, sqlite_file: Path | None) -> tuple[str | None, str]:
    """Bring the store to head under the migration lock; (revision before, revision after)."""
    with _migration_lock(engine, sqlite_file) as connection:
        before = current_revision(connection)
        if before != head_revision():
            # a new store is no news; an existing one changing shape is
            log.log(
                logging.INFO if before else logging.DEBUG,
                "store migrating from revision %s to %s",
                before or "none",
                head_revision(),
            )
            from alembic import command

            command.upgrade(alembic_config(connection), "head")
            connection.commit()
        return before, current_revision(connection) or ""


@contextmanager
def _migration_lock(engine: Engine, sqlite_file: Path | None) -> Iterator[Connection]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()  # a session-level lock: held past this commit until unlocked
            try:
                yield connection
            finally:
                connection.rollback()
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                connection.commit()
        elif sqlite_file is not None:
            with _file_lock(sqlite_file.with_name(sqlite_file.name + ".migrate-lock")):
                yield connection
        else:  # an in-memory store belongs to this process alone
            yield connection


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on a file (flock), released by the kernel if the process dies.

    The file exists only while someone holds or waits for the lock: the holder removes it before
    letting go, so no `.migrate-lock` is left beside the store. A waiter that then gets the lock
    on the removed file sees it is no longer the one at `path` and locks the new one instead.
    """
    import fcntl
    import os

    while True:
        handle = open(path, "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if _same_file(handle, path):
                break
        except BaseException:
            handle.close()
            raise
        handle.close()  # removed by the last holder while this process waited: lock anew
    try:
        yield
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        finally:
            handle.close()  # closing releases the lock


def _same_file(handle, path: Path) -> bool:
    import os

    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False
