"""The `contribution_attributions` table: which merged pull request closed which suggested issue."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    ForeignKey,
    String,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from matcher.models import Attribution
from matcher.store.contributions import ContributionRow
from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    sql_insert,
)


class AttributionRow(Base):
    __tablename__ = "contribution_attributions"

    contribution_url: Mapped[str] = mapped_column(
        String, ForeignKey("contributions.url", ondelete="CASCADE"), primary_key=True
    )
    issue_url: Mapped[str] = mapped_column(String, primary_key=True)
    learner_id: Mapped[str] = mapped_column(String, index=True)
    suggested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attributed_at: Mapped[datetime] = mapped_column(UTCDateTime)


def add_attribution(db: Database, attribution: Attribution) -> bool:
    """Record that a contribution closed a suggested issue; False when already recorded (by this
    process or another: the insert is ON CONFLICT DO NOTHING)."""
    row = {
        "contribution_url": attribution.contribution_url,
        "issue_url": attribution.issue_url,
        "learner_id": str(attribution.learner_id),
        "suggested_at": attribution.suggested_at,
        "attributed_at": datetime.now(UTC),
    }
    with db.session() as session:
        statement = (
            sql_insert(session, AttributionRow)
            .values(row)
            .on_conflict_do_nothing(index_elements=["contribution_url", "issue_url"])
            .returning(AttributionRow.issue_url)
        )
        return session.scalar(statement) is not None


def load_attributions(db: Database, learner_id: str | None = None) -> list[Attribution]:
    query = select(AttributionRow, ContributionRow.merged_at).join(
        ContributionRow, ContributionRow.url == AttributionRow.contribution_url
    )
    if learner_id is not None:
        query = query.where(AttributionRow.learner_id == str(learner_id))
    with db.session() as session:
        return [
            Attribution(
                contribution_url=row.contribution_url,
                learner_id=row.learner_id,
                issue_url=row.issue_url,
                suggested_at=row.suggested_at,
                merged_at=merged_at,
            )
            for row, merged_at in session.execute(query)
        ]
