"""The `issue_keys` table: short stable keys for issue URLs (a button's custom_id is short)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.db import Base, Database, insert_ignoring_duplicates


class IssueKeyRow(Base):
    """Short stable keys for issue URLs, so a button's custom_id stays under 100 characters."""

    __tablename__ = "issue_keys"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    issue_url: Mapped[str] = mapped_column(String, unique=True)


def issue_key(url: str) -> str:
    """A short stable key for an issue URL: the first 16 hex digits of its SHA-1."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


def register_issue_keys(db: Database, urls: Iterable[str]) -> dict[str, str]:
    """Store keys for the URLs (idempotent, safe to race) and return url -> key."""
    keys = {url: issue_key(url) for url in urls}
    rows = [{"key": key, "issue_url": url} for url, key in keys.items()]
    with db.session() as session:
        insert_ignoring_duplicates(session, IssueKeyRow.__table__, rows, ["key"])
    return keys


def url_for_key(db: Database, key: str) -> str | None:
    """The issue URL a button key stands for, or None if unknown."""
    with db.session() as session:
        row = session.get(IssueKeyRow, key)
        return row.issue_url if row else None
