"""The `digest_deliveries` table: one row per (learner_id, week).

The unique constraint is what makes "at most one digest per learner per week" hold across
restarts and several processes. A row is a reservation ('sending', ``sent_at`` = when it was
reserved or last taken over) until the delivery is recorded ('dm', 'channel', 'empty', 'failed').
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from matcher.models import Delivery
from matcher.store.db import Base, Database, UTCDateTime, insert_ignoring_duplicates

OUTCOMES = ("dm", "channel", "empty", "failed")
RESERVED = "sending"


class DigestDeliveryRow(Base):
    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("learner_id", "week", name="uq_digest_learner_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner_id: Mapped[str] = mapped_column(String(32), index=True)
    week: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), default=RESERVED)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


def _where(learner_id: str, week: str) -> tuple:
    return (DigestDeliveryRow.learner_id == str(learner_id), DigestDeliveryRow.week == week)


def last_digest_weeks(db: Database) -> dict[str, str]:
    """learner_id -> the latest week key a digest was reserved for."""
    with db.session() as session:
        rows = session.execute(
            select(DigestDeliveryRow.learner_id, func.max(DigestDeliveryRow.week)).group_by(
                DigestDeliveryRow.learner_id
            )
        )
        return {learner: week for learner, week in rows}


def reserve_digest(db: Database, learner_id: str, week: str, *, now: datetime) -> bool:
    """Reserve the learner's digest for `week`; False if any process reserved it already.

    The insert is ON CONFLICT DO NOTHING, so a race between processes has one winner; the winner
    is the one whose random token the row holds.
    """
    token = f"reserved {secrets.token_hex(8)}"
    row = {
        "learner_id": str(learner_id),
        "week": week,
        "status": RESERVED,
        "sent_at": now,
        "detail": token,
    }
    with db.session() as session:
        insert_ignoring_duplicates(
            session, DigestDeliveryRow.__table__, [row], ["learner_id", "week"]
        )
        held = session.scalar(select(DigestDeliveryRow.detail).where(*_where(learner_id, week)))
    return held == token


def take_over_stale(
    db: Database, learner_id: str, week: str, *, reserved_before: datetime, now: datetime
) -> bool:
    """Take over a reservation nobody confirmed since `reserved_before` (its process died or
    failed); True for the one process whose UPDATE matched."""
    with db.session() as session:
        result = session.execute(
            update(DigestDeliveryRow)
            .where(
                *_where(learner_id, week),
                DigestDeliveryRow.status == RESERVED,
                DigestDeliveryRow.sent_at < reserved_before,
            )
            .values(sent_at=now, detail=f"retry {secrets.token_hex(4)}")
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def stale_reservations(db: Database, *, reserved_before: datetime) -> list[Delivery]:
    """Reservations still 'sending' that were made before `reserved_before`."""
    with db.session() as session:
        rows = session.scalars(
            select(DigestDeliveryRow)
            .where(
                DigestDeliveryRow.status == RESERVED,
                DigestDeliveryRow.sent_at < reserved_before,
            )
            .order_by(DigestDeliveryRow.id)
        )
        return [_delivery(r) for r in rows]


def release_digest(db: Database, learner_id: str, week: str) -> bool:
    """Undo a reservation that was never sent (still 'sending'), so a later pass can retry it."""
    with db.session() as session:
        result = session.execute(
            delete(DigestDeliveryRow).where(
                *_where(learner_id, week), DigestDeliveryRow.status == RESERVED
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_digest(
    db: Database, learner_id: str, week: str, status: str, *, detail: str | None = None
) -> None:
    """Record how a reserved digest went: 'dm', 'channel', 'empty' (no new matches) or 'failed'."""
    if status not in OUTCOMES:
        raise ValueError(f"status must be one of {OUTCOMES}")
    with db.session() as session:
        session.execute(
            update(DigestDeliveryRow)
            .where(*_where(learner_id, week))
            .values(status=status, detail=detail)
        )


def _delivery(r: DigestDeliveryRow) -> Delivery:
    detail = None if r.status == RESERVED else r.detail  # a reservation's token is not news
    return Delivery(r.learner_id, r.week, r.status, r.sent_at, detail)


def deliveries(db: Database, learner_id: str | None = None) -> list[Delivery]:
    """Digest deliveries (of one learner, or all), oldest first."""
    query = select(DigestDeliveryRow).order_by(DigestDeliveryRow.id)
    if learner_id is not None:
        query = query.where(DigestDeliveryRow.learner_id == str(learner_id))
    with db.session() as session:
        return [_delivery(r) for r in session.scalars(query)]


def delete_learner_deliveries(db: Database, learner_id: str) -> None:
    with db.session() as session:
        session.execute(
            delete(DigestDeliveryRow).where(DigestDeliveryRow.learner_id == str(learner_id))
        )
