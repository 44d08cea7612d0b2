"""The `portfolio_watermarks` table: how far each author's merged pull requests were fetched."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    insert_ignoring_duplicates,
)
from matcher.store.identities import login_key


class WatermarkRow(Base):
    __tablename__ = "portfolio_watermarks"

    # the GitHub user id survives a rename; the login is kept for people reading the table
    author_key: Mapped[str] = mapped_column(String, primary_key=True)
    login: Mapped[str] = mapped_column(String)
    merged_through: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)


def author_key(github_id: int | None, login: str) -> str:
    return f"id:{github_id}" if github_id is not None else f"login:{login_key(login)}"


def get_watermark(db: Database, key: str) -> datetime | None:
    with db.session() as session:
        row = session.get(WatermarkRow, key)
        return row.merged_through if row else None


def set_watermark(db: Database, key: str, login: str, merged_through: datetime | None) -> None:
    """Advance the refresh watermark (never moves it back; safe to race)."""
    now = datetime.now(UTC)
    with db.session() as session:
        insert_ignoring_duplicates(
            session,
            WatermarkRow,
            [{"author_key": key, "login": login, "merged_through": None, "refreshed_at": now}],
            ["author_key"],
        )
        row = session.get(WatermarkRow, key, with_for_update=True)
        assert row is not None  # inserted above, and nothing deletes watermarks
        row.login = login
        row.refreshed_at = now
        current = row.merged_through
        if merged_through is not None and (current is None or merged_through > current):
            row.merged_through = merged_through
