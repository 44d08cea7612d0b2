"""Tables `suggestions` (issues shown to a learner, and their answer) and `claims` (issue claims).

- ``suggestions``: one row per (learner_id, issue_url): ``suggested_at`` is the first time the
  issue was shown to the learner, ``via`` how ('suggest' or 'digest'), ``status`` the learner's
  latest answer: 'suggested' | 'interested' | 'dismissed' | 'working', ``status_at`` when.
  The portfolio attributes merged pull requests to suggestions by (learner_id, issue_url).
- ``claims``: an issue claim: someone in a community works on an issue (not a GitHub login claim,
  which lives with the portfolio's identities).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from matcher.models import Suggestion
from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    as_utc,
    batch_size,
    insert_ignoring_duplicates,
    one_of,
)

STATUSES = ("suggested", "interested", "dismissed", "working")
VIAS = ("suggest", "digest")


class SuggestionRow(Base):
    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("learner_id", "issue_url", name="uq_suggestion_learner_issue"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    learner_id: Mapped[str] = mapped_column(String(32), index=True)
    issue_url: Mapped[str] = mapped_column(String, index=True)
    guild_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    suggested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(16), default="suggest")
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="suggested")
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IssueClaimRow(Base):
    """Someone in a community works on an issue: nobody else there is offered it while it lasts."""

    __tablename__ = "claims"

    guild_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_url: Mapped[str] = mapped_column(String, primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _suggestion(row: SuggestionRow) -> Suggestion:
    return Suggestion(
        learner_id=row.learner_id,
        issue_url=row.issue_url,
        suggested_at=row.suggested_at,
        via=row.via,
        status=row.status,
        status_at=row.status_at,
        guild_id=row.guild_id,
        digested_at=row.digested_at,
    )


def _new_rows(
    learner_id: str, urls: list[str], via: str, guild_id: str | None, now: datetime
) -> list[dict]:
    return [
        {
            "learner_id": learner_id,
            "issue_url": url,
            "guild_id": guild_id,
            "suggested_at": now,
            "via": via,
            "status": "suggested",
        }
        for url in urls
    ]


def record_suggestions(
    db: Database,
    learner_id: str,
    urls: Iterable[str],
    *,
    via: str,
    guild_id: str | None = None,
    now: datetime,
) -> None:
    """Remember that these issues were shown to the learner; the first showing is kept."""
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}")
    urls = list(dict.fromkeys(urls))
    if not urls:
        return
    learner_id = str(learner_id)
    with db.session() as session:
        rows = _new_rows(learner_id, urls, via, str(guild_id) if guild_id else None, now)
        insert_ignoring_duplicates(
            session, SuggestionRow.__table__, rows, ["learner_id", "issue_url"]
        )
        if via == "digest":
            session.execute(
                update(SuggestionRow)
                .where(
                    SuggestionRow.learner_id == learner_id,
                    SuggestionRow.issue_url.in_(urls),
                    SuggestionRow.digested_at.is_(None),
                )
                .values(digested_at=now)
            )


def set_suggestion_status(
    db: Database,
    learner_id: str,
    issue_url: str,
    status: str,
    *,
    guild_id: str | None,
    now: datetime,
) -> None:
    """Store a learner's answer; an issue they were never shown becomes a 'suggest' row."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    learner_id = str(learner_id)
    with db.session() as session:
        row = _new_rows(learner_id, [issue_url], "suggest", guild_id, now)
        insert_ignoring_duplicates(
            session, SuggestionRow.__table__, row, ["learner_id", "issue_url"]
        )
        session.execute(
            update(SuggestionRow)
            .where(SuggestionRow.learner_id == learner_id, SuggestionRow.issue_url == issue_url)
            .values(status=status, status_at=now)
        )


def suggestions_for(db: Database, learner_id: str | None = None) -> list[Suggestion]:
    """Stored suggestions (of one learner, or all), oldest first."""
    query = select(SuggestionRow).order_by(SuggestionRow.suggested_at, SuggestionRow.id)
    if learner_id is not None:
        query = query.where(SuggestionRow.learner_id == str(learner_id))
    with db.session() as session:
        return [_suggestion(row) for row in session.scalars(query)]


# ---------------------------------------------------------------- issue claims


def take_issue_claim(
    db: Database, guild_id: str, issue_url: str, learner_id: str, *, now: datetime, after: datetime
) -> str:
    """Claim the issue in the community unless someone else holds a claim newer than `after`.

    Returns the holder's learner id: `learner_id` when the claim is (now) theirs. Safe to race:
    the first insert wins, and an expired or own claim is taken over in one UPDATE.
    """
    key = {"guild_id": str(guild_id), "issue_url": issue_url}
    with db.session() as session:
        insert_ignoring_duplicates(
            session,
            IssueClaimRow.__table__,
            [{**key, "learner_id": str(learner_id), "claimed_at": now}],
            ["guild_id", "issue_url"],
        )
        session.execute(
            update(IssueClaimRow)
            .where(
                IssueClaimRow.guild_id == key["guild_id"],
                IssueClaimRow.issue_url == issue_url,
                (IssueClaimRow.learner_id == str(learner_id)) | (IssueClaimRow.claimed_at <= after),
            )
            .values(learner_id=str(learner_id), claimed_at=now)
        )
        holder = session.get(IssueClaimRow, (key["guild_id"], issue_url), populate_existing=True)
        return holder.learner_id if holder is not None else str(learner_id)


def release_issue_claim(db: Database, guild_id: str, issue_url: str, learner_id: str) -> None:
    """Drop the learner's own claim on the issue (someone else's stays)."""
    with db.session() as session:
        session.execute(
            delete(IssueClaimRow).where(
                IssueClaimRow.guild_id == str(guild_id),
                IssueClaimRow.issue_url == issue_url,
                IssueClaimRow.learner_id == str(learner_id),
            )
        )


def issues_claimed_by_others(
    db: Database, guild_id: str, learner_id: str, *, after: datetime
) -> set[str]:
    """Issue URLs someone else in the community claimed after `after` (older claims expired)."""
    with db.session() as session:
        rows = session.scalars(
            select(IssueClaimRow).where(
                IssueClaimRow.guild_id == str(guild_id),
                IssueClaimRow.learner_id != str(learner_id),
            )
        )
        return {row.issue_url for row in rows if row.claimed_at > after}


def delete_learner_suggestions(db: Database, learner_id: str) -> None:
    """Forget a learner's suggestions and issue claims."""
    with db.session() as session:
        session.execute(delete(SuggestionRow).where(SuggestionRow.learner_id == str(learner_id)))
        session.execute(delete(IssueClaimRow).where(IssueClaimRow.learner_id == str(learner_id)))


# ---------------------------------------------------------------- many learners at once (a pass)


def suggestions_by_learner(db: Database, learner_ids: Iterable[str]) -> dict[str, list[Suggestion]]:
    """Every learner's stored suggestions, oldest first (one query per batch_size learners)."""
    ids = sorted({str(x) for x in learner_ids})
    found: dict[str, list[Suggestion]] = {x: [] for x in ids}
    columns = SuggestionRow.__table__.c
    size = batch_size(db)
    with db.session() as session:
        for start in range(0, len(ids), size):
            query = (
                select(*columns)
                .where(one_of(session, columns.learner_id, ids[start : start + size]))
                .order_by(columns.suggested_at, columns.id)
            )
            for row in session.execute(query):
                found[row.learner_id].append(_suggestion(row))  # type: ignore[arg-type]
    return found


def claims_in_guilds(
    db: Database, guild_ids: Iterable[str], *, after: datetime
) -> dict[str, list[tuple[str, str]]]:
    """guild_id -> (issue_url, learner_id) of every claim there newer than `after` (one query)."""
    ids = sorted({str(x) for x in guild_ids})
    found: dict[str, list[tuple[str, str]]] = {x: [] for x in ids}
    if not ids:
        return found
    query = select(
        IssueClaimRow.guild_id,
        IssueClaimRow.issue_url,
        IssueClaimRow.learner_id,
        IssueClaimRow.claimed_at,
    ).where(IssueClaimRow.guild_id.in_(ids))
    with db.session() as session:
        for guild, url, learner, claimed_at in session.execute(query):
            if as_utc(claimed_at) > after:  # type: ignore[operator]
                found[guild].append((url, learner))
    return found
