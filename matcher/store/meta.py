"""The `meta` table: small key-value facts a process remembers across restarts."""

from __future__ import annotations

from sqlalchemy import String, Text, update
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.db import Base, Database, insert_ignoring_duplicates


class MetaRow(Base):
    """Small key-value facts a process remembers across restarts (e.g. the synced command set)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def get_meta(db: Database, key: str) -> str | None:
    with db.session() as session:
        row = session.get(MetaRow, key)
        return row.value if row else None


def set_meta(db: Database, key: str, value: str) -> None:
    """Insert or overwrite; two processes setting one key race safely (the last write stays)."""
    with db.session() as session:
        insert_ignoring_duplicates(
            session, MetaRow.__table__, [{"key": key, "value": value}], ["key"]
        )
        session.execute(update(MetaRow).where(MetaRow.key == key).values(value=value))
