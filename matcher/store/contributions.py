"""The `contributions` table: merged pull requests, stored once each (safe to race)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
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

from matcher.models import Contribution
from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    batch_size,
    one_of,
    sql_insert,
)


@dataclass
class AddCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    added_urls: list[str] = field(default_factory=list)


class ContributionRow(Base):
    __tablename__ = "contributions"

    url: Mapped[str] = mapped_column(String, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    author_login: Mapped[str] = mapped_column(String, index=True)
    repo: Mapped[str] = mapped_column(String, index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    additions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deletions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    labels: Mapped[list] = mapped_column(JSON, default=list)
    closes: Mapped[list] = mapped_column(JSON, default=list)
    repo_stars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    repo_language: Mapped[str | None] = mapped_column(String, nullable=True)
    repo_topics: Mapped[list] = mapped_column(JSON, default=list)
    reverted: Mapped[bool] = mapped_column(Boolean, default=False)
    reverted_by: Mapped[str | None] = mapped_column(String, nullable=True)
    details: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


_SCALARS = (
    "author_id",
    "author_login",
    "repo",
    "number",
    "title",
    "merged_at",
    "additions",
    "deletions",
    "repo_stars",
    "repo_language",
    "reverted",
    "reverted_by",
    "details",
)
_LISTS = ("labels", "closes", "repo_topics")


def _contribution(row: ContributionRow) -> Contribution:
    values = {name: getattr(row, name) for name in _SCALARS}
    values["merged_at"] = row.merged_at
    values["reverted"] = bool(row.reverted)
    values["details"] = bool(row.details)
    values.update({name: tuple(getattr(row, name) or ()) for name in _LISTS})
    return Contribution(url=row.url, **values)


def known_urls(db: Database, urls: Iterable[str]) -> set[str]:
    wanted = list(set(urls))
    found: set[str] = set()
    with db.session() as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                session.scalars(select(ContributionRow.url).where(ContributionRow.url.in_(chunk)))
            )
    return found


def add_contributions(db: Database, contributions: Iterable[Contribution]) -> AddCounts:
    """Store merged pull requests once each; a known one is updated only where GitHub says more.

    Safe to race: new rows go in with INSERT ... ON CONFLICT DO NOTHING, so two processes
    storing the same pull request both succeed and leave one row. Nothing stored is ever
    removed: a repository that became private keeps its earlier details, and a reverted flag,
    once set, stays.
    """
    counts = AddCounts()
    latest = {c.url: c for c in contributions}  # one row per URL
    if not latest:
        return counts
    now = datetime.now(UTC)
    rows = [
        {
            "url": c.url,
            "first_seen_at": now,
            **{name: getattr(c, name) for name in _SCALARS},
            **{name: list(getattr(c, name)) for name in _LISTS},
        }
        for c in latest.values()
    ]
    with db.session() as session:
        inserted: set[str] = set()
        for start in range(0, len(rows), 500):
            statement = (
                sql_insert(session, ContributionRow)
                .values(rows[start : start + 500])
                .on_conflict_do_nothing(index_elements=["url"])
                .returning(ContributionRow.url)
            )
            inserted.update(session.scalars(statement))
        for c in latest.values():
            if c.url in inserted:
                counts.added += 1
                counts.added_urls.append(c.url)
                continue
            changed = _merge_row(session.get(ContributionRow, c.url), c)  # type: ignore[arg-type]
            counts.updated += changed
            counts.unchanged += not changed
    return counts


def _merge_row(row: ContributionRow, c: Contribution) -> bool:
    updates: dict = {}
    if c.details:
        for name in ("title", "additions", "deletions", "repo_stars", "repo_language"):
            value = getattr(c, name)
            if value is not None and value != getattr(row, name):
                updates[name] = value
        for name in _LISTS:
            value = list(getattr(c, name))
            if value and value != list(getattr(row, name) or []):
                updates[name] = value
        if not row.details:
            updates["details"] = True
    if c.author_id is not None and row.author_id != c.author_id:
        updates["author_id"] = c.author_id
    if c.author_login and c.author_login != row.author_login:
        updates["author_login"] = c.author_login
    if c.reverted and not row.reverted:
        updates["reverted"] = True
        updates["reverted_by"] = c.reverted_by
    for name, value in updates.items():
        setattr(row, name, value)
    return bool(updates)


def mark_reverted(db: Database, url: str, reverted_by: str) -> bool:
    """Flag a stored pull request as reverted; False when unknown or already flagged."""
    with db.session() as session:
        row = session.get(ContributionRow, url)
        if row is None or row.reverted:
            return False
        row.reverted = True
        row.reverted_by = reverted_by
        return True


def load_contributions(
    db: Database, *, author_id: int | None = None, login: str | None = None
) -> list[Contribution]:
    """Stored merged pull requests of one author (by GitHub id, else by login), oldest first."""
    query = select(ContributionRow).order_by(ContributionRow.merged_at, ContributionRow.url)
    if author_id is not None:
        query = query.where(ContributionRow.author_id == author_id)
    elif login is not None:
        query = query.where(ContributionRow.author_login.ilike(login.strip()))
    with db.session() as session:
        return [_contribution(r) for r in session.scalars(query)]


def contributions_by_author_id(
    db: Database, author_ids: Iterable[int]
) -> dict[int, list[Contribution]]:
    """Stored merged pull requests of each GitHub user id, oldest first (a query per batch_size)."""
    ids = sorted(set(author_ids))
    found: dict[int, list[Contribution]] = {x: [] for x in ids}
    size = batch_size(db)
    with db.session() as session:
        for start in range(0, len(ids), size):
            query = (
                select(ContributionRow)
                .where(one_of(session, ContributionRow.author_id, ids[start : start + size]))
                .order_by(ContributionRow.merged_at, ContributionRow.url)
            )
            for row in session.scalars(query):
                found[row.author_id].append(_contribution(row))  # type: ignore[index]
    return found


def contribution_repos(db: Database, author_id: int | None, login: str) -> list[str]:
    return sorted({c.repo for c in load_contributions(db, author_id=author_id, login=login)})


def with_reverted(c: Contribution, by: str) -> Contribution:
    return replace(c, reverted=True, reverted_by=by)
