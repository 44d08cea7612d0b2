"""Repository metadata from a sync (table repo_meta): description, stars, topics, language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    insert_ignoring_duplicates,
)


class RepoMetaRow(Base):
    __tablename__ = "repo_meta"

    repo: Mapped[str] = mapped_column(String, primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    stars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    language: Mapped[str | None] = mapped_column(String, nullable=True)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    niches: Mapped[list] = mapped_column(JSON, default=list)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String, default="config")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass
class RepoMetaRecord:
    repo: str
    description: str = ""
    stars: int | None = None
    language: str | None = None
    topics: tuple[str, ...] = ()
    niches: tuple[str, ...] = ()
    archived: bool = False
    source: str = "config"
    updated_at: datetime | None = field(default=None, compare=False)


def save_repo_meta(db: Database, record: RepoMetaRecord) -> bool:
    """Insert or update a repository's metadata; True when something changed."""
    values = {
        "description": record.description,
        "stars": record.stars,
        "language": record.language,
        "topics": list(record.topics),
        "niches": list(record.niches),
        "archived": record.archived,
        "source": record.source,
    }
    with db.session() as session:
        row = session.get(RepoMetaRow, record.repo)
        if row is None:
            row_values = {**values, "repo": record.repo, "updated_at": datetime.now(UTC)}
            insert_ignoring_duplicates(session, RepoMetaRow, [row_values], ["repo"])
            return True
        if all(getattr(row, k) == v for k, v in values.items()):
            return False
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
        return True


def load_repo_meta(db: Database, repos: Iterable[str] | None = None) -> dict[str, RepoMetaRecord]:
    query = select(RepoMetaRow).order_by(RepoMetaRow.repo)
    if repos is not None:
        query = query.where(RepoMetaRow.repo.in_(list(repos)))
    with db.session() as session:
        return {
            r.repo: RepoMetaRecord(
                r.repo,
                r.description,
                r.stars,
                r.language,
                tuple(r.topics or ()),
                tuple(r.niches or ()),
                r.archived,
                r.source,
                r.updated_at,
            )
            for r in session.scalars(query)
        }
