"""Small facts a process remembers across restarts (e.g. the fingerprint of the synced commands)."""

from __future__ import annotations

from matcher.store import meta as store
from matcher.store.db import Database


def remembered(db: Database, key: str) -> str | None:
    return store.get_meta(db, key)


def remember(db: Database, key: str, value: str) -> None:
    store.set_meta(db, key, value)
