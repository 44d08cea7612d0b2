"""Issue signals the `issues` table has no column for (table issue_signals): the beginner-label
strength and reactions a sync saw."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Float,
    Integer,
    String,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
)


class IssueSignalsRow(Base):
    __tablename__ = "issue_signals"

    url: Mapped[str] = mapped_column(String, primary_key=True)
    repo: Mapped[str] = mapped_column(String, index=True)
    beginner_strength: Mapped[float] = mapped_column(Float, default=0.0)
    reactions: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass
class StoredSignals:
    url: str
    beginner_strength: float
    reactions: int
    last_activity_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None


def load_issue_signals(
    db: Database, repos: Iterable[str] | None = None
) -> dict[str, StoredSignals]:
    query = select(IssueSignalsRow)
    if repos is not None:
        query = query.where(IssueSignalsRow.repo.in_(list(repos)))
    with db.session() as session:
        return {
            r.url: StoredSignals(
                r.url,
                r.beginner_strength,
                r.reactions,
                r.last_activity_at,
                r.claimed_by,
                r.claimed_at,
            )
            for r in session.scalars(query)
        }
