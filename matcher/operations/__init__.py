"""What a learner or a community can do, as plain functions over the store and the engine.

The bot and the CLI are two thin faces of these functions: each call is blocking (SQL, ranking),
so the bot runs every one off the event loop, one call per interaction or digest step. Rules
about learners live here; the store modules under matcher/store hold SQL only.
"""

from __future__ import annotations

import logging
import shutil
from typing import TYPE_CHECKING, Any

from matcher.errors import StoreError
from matcher.settings import Settings
from matcher.store.db import Database, sqlite_path

if TYPE_CHECKING:
    from matcher.engine import MatchEngine


def open_store(url: str) -> Database:
    """The store at a SQLAlchemy URL (tables are created on open)."""
    return Database(url)


log = logging.getLogger(__name__)
FULL_DISK_BYTES = 1 << 20  # less free space than this under a SQLite store: a full disk


def open_store_or_read_only(url: str) -> tuple[Database, bool]:
    """The store, and whether it is read-only: a SQLite store on a full disk cannot even be read
    the usual way (its WAL files cannot be created), so it is opened immutable, read-only, and a
    long-running process starts anyway; its writes fail as 'unavailable' until it restarts."""
    try:
        return Database(url), False
    except StoreError:
        path = sqlite_path(url)
        if path is None or not path.exists() or _free_bytes(path) >= FULL_DISK_BYTES:
            raise
    log.warning("the disk under %s is full: the store is read-only until a restart", path)
    read_only = f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true"
    return Database(read_only, migrate=False), True


def _free_bytes(path) -> int:
    try:
        return shutil.disk_usage(path.parent).free
    except OSError:
        return FULL_DISK_BYTES


def ranking_engine(db: Database, settings: Settings, *, embedder: Any = None) -> MatchEngine:
    """The engine a long-running process (the bot) ranks with: one warm index for its lifetime,
    new issues embedded off the request path, the store's change mark checked every 2 s."""
    from matcher.engine import MatchEngine

    return MatchEngine(
        db, settings, embedder=embedder, embed_in_background=True, refresh_seconds=2.0
    )


__all__ = ["Database", "MatchEngine", "open_store", "open_store_or_read_only", "ranking_engine"]
