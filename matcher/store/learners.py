"""The `learners` table: one row per learner (profile, home community, digest schedule, notice,
pace on the difficulty ramp)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from matcher.models import Learner
from matcher.store.db import Base, Database, UTCDateTime, batch_size, one_of


class LearnerRow(Base):
    __tablename__ = "learners"

    learner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    skills: Mapped[str] = mapped_column(Text, default="")
    niche: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[str] = mapped_column(Text, default="")
    home_guild_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0)
    digest_hour: Mapped[int] = mapped_column(Integer, default=9)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    pending_notice: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 'easier' | 'auto' | 'harder' (matcher.models.PACES); revision 0007
    pace: Mapped[str] = mapped_column(String(8), default="auto", server_default="auto")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _learner(row: LearnerRow) -> Learner:
    return Learner(
        learner_id=row.learner_id,
        skills=row.skills or "",
        niche=row.niche or "",
        languages=row.languages or "",
        home_guild_id=row.home_guild_id,
        digest_enabled=bool(row.digest_enabled),
        digest_since=row.digest_since,
        digest_weekday=row.digest_weekday,
        digest_hour=row.digest_hour,
        timezone=row.timezone,
        pending_notice=row.pending_notice,
        pace=row.pace or "auto",
    )


def get_learner(db: Database, learner_id: str) -> Learner | None:
    """The stored learner, or None if they never set a profile."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        return _learner(row) if row else None


def upsert_learner(
    db: Database, learner_id: str, fields: dict[str, Any], *, now: datetime
) -> Learner | None:
    """Write these columns; a new row only when `fields` has skills (None: nothing stored)."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is None:
            if not fields.get("skills"):
                return None
            row = LearnerRow(
                learner_id=str(learner_id),
                skills="",
                niche="",
                languages="",
                digest_enabled=False,
                digest_weekday=0,
                digest_hour=9,
                timezone="UTC",
                pace="auto",
            )
            session.add(row)
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = now
        session.flush()
        return _learner(row)


def set_home_guild(db: Database, learner_id: str, guild_id: str | None) -> None:
    """Remember the community a learner last used the bot in (claims and digest fallback use it)."""
    if guild_id is None:
        return
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is not None and row.home_guild_id != str(guild_id):
            row.home_guild_id = str(guild_id)


def set_digest_enabled(
    db: Database, learner_id: str, enabled: bool, *, now: datetime
) -> Learner | None:
    """Switch the weekly digest on or off; None if the learner has no profile."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is None:
            return None
        if enabled and not row.digest_enabled:
            row.digest_since = now
        row.digest_enabled = enabled
        row.updated_at = now
        session.flush()
        return _learner(row)


def digest_learners(db: Database) -> list[Learner]:
    """Every learner with the weekly digest switched on."""
    with db.session() as session:
        rows = session.scalars(
            select(LearnerRow)
            .where(LearnerRow.digest_enabled.is_(True))
            .order_by(LearnerRow.learner_id)
        )
        return [_learner(row) for row in rows]


def set_pending_notice(db: Database, learner_id: str, notice: str) -> None:
    """Keep a message for the learner, shown the next time they use a command."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is not None:
            row.pending_notice = notice


def pop_pending_notice(db: Database, learner_id: str) -> str | None:
    """The learner's pending message, removed from the store."""
    with db.session() as session:
        row = session.get(LearnerRow, str(learner_id))
        if row is None or not row.pending_notice:
            return None
        notice, row.pending_notice = row.pending_notice, None
        return notice


def delete_learner_row(db: Database, learner_id: str) -> None:
    with db.session() as session:
        session.execute(delete(LearnerRow).where(LearnerRow.learner_id == str(learner_id)))


# --- many learners at once (a digest pass) --------------------------------------------------


def digest_schedules(db: Database) -> list[tuple[str, int, int, str, datetime | None]]:
    """(learner_id, weekday, hour, time zone, digests-on-since) of every learner with the
    digest on: one query, plain columns (no profile text)."""
    query = select(
        LearnerRow.learner_id,
        LearnerRow.digest_weekday,
        LearnerRow.digest_hour,
        LearnerRow.timezone,
        LearnerRow.digest_since,
    ).where(LearnerRow.digest_enabled.is_(True))
    with db.session() as session:
        return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def learners_by_id(db: Database, learner_ids: Iterable[str]) -> dict[str, Learner]:
    """The stored learners with these ids (one query per batch_size)."""
    ids = sorted({str(x) for x in learner_ids})
    found: dict[str, Learner] = {}
    columns = LearnerRow.__table__.c
    size = batch_size(db)
    with db.session() as session:
        for start in range(0, len(ids), size):
            query = select(*columns).where(
                one_of(session, columns.learner_id, ids[start : start + size])
            )
            found.update({row.learner_id: _learner(row) for row in session.execute(query)})  # type: ignore[arg-type]
    return found


def add_notices(db: Database, notices: dict[str, str]) -> None:
    """Keep these messages for their learners, after any message already kept (one transaction)."""
    if not notices:
        return
    with db.session() as session:
        rows = session.scalars(select(LearnerRow).where(LearnerRow.learner_id.in_(list(notices))))
        for row in rows:
            notice = notices[row.learner_id]
            if row.pending_notice and notice not in row.pending_notice:
                row.pending_notice = f"{row.pending_notice}\n{notice}"
            elif not row.pending_notice:
                row.pending_notice = notice
