"""What a learner or a community can do, as plain functions over the store and the engine.

The bot and the CLI are two thin faces of these functions: each call is blocking (SQL, ranking),
so the bot runs every one off the event loop, one call per interaction or digest step. Rules
about learners live here; the store modules under matcher/store hold SQL only.
"""

from matcher.store.db import Database


def open_store(url: str) -> Database:
    """The store at a SQLAlchemy URL (tables are created on open)."""
    return Database(url)


__all__ = ["Database", "open_store"]
