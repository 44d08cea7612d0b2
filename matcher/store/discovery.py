"""Cached results of repository discovery by GitHub topic (table discovery_cache)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    upsert,
)


class DiscoveryRow(Base):
    __tablename__ = "discovery_cache"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    etag: Mapped[str | None] = mapped_column(String, nullable=True)
    repos: Mapped[list] = mapped_column(JSON, default=list)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


def get_discovery(db: Database, key: str) -> tuple[str | None, list]:
    with db.session() as session:
        row = session.get(DiscoveryRow, key)
        return (row.etag, list(row.repos or [])) if row else (None, [])


def put_discovery(db: Database, key: str, etag: str | None, repos: list) -> None:
    values = {"key": key, "etag": etag, "repos": repos, "fetched_at": datetime.now(UTC)}
    with db.session() as session:
        upsert(session, DiscoveryRow, [values], ["key"])


# ---------------------------------------------------------------- one sync at a time
