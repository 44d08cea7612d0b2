"""What a learner or a community can do, as plain functions over the store and the engine.

The bot and the CLI are two thin faces of these functions: each call is blocking (SQL, ranking),
so the bot runs every one off the event loop, one call per interaction or digest step. Rules
about learners live here; the store modules under matcher/store hold SQL only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matcher.settings import Settings
from matcher.store.db import Database

if TYPE_CHECKING:
    from matcher.engine import MatchEngine


def open_store(url: str) -> Database:
    """The store at a SQLAlchemy URL (tables are created on open)."""
    return Database(url)


def ranking_engine(db: Database, settings: Settings, *, embedder: Any = None) -> MatchEngine:
    """The engine a long-running process (the bot) ranks with: one warm index for its lifetime,
    new issues embedded off the request path, the store's change mark checked every 2 s."""
    from matcher.engine import MatchEngine

    return MatchEngine(
        db, settings, embedder=embedder, embed_in_background=True, refresh_seconds=2.0
    )


__all__ = ["Database", "MatchEngine", "open_store", "ranking_engine"]
