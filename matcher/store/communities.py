"""The `guild_settings` table: one row per community (Discord server) whose admins set anything."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from matcher.models import GuildConfig
from matcher.store.db import Base, Database


class GuildSettingsRow(Base):
    __tablename__ = "guild_settings"

    guild_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest_channel_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    focus_repos: Mapped[list] = mapped_column(JSON, default=list)
    focus_niches: Mapped[list] = mapped_column(JSON, default=list)


def _config(row: GuildSettingsRow) -> GuildConfig:
    return GuildConfig(
        row.guild_id,
        row.digest_channel_id,
        tuple(row.focus_repos or ()),
        tuple(row.focus_niches or ()),
    )


def get_guild_config(db: Database, guild_id: str | None) -> GuildConfig | None:
    """A community's settings, or None if its admins never set any."""
    if guild_id is None:
        return None
    with db.session() as session:
        row = session.get(GuildSettingsRow, str(guild_id))
        return _config(row) if row is not None else None


def update_guild_config(db: Database, guild_id: str, changes: dict[str, Any]) -> GuildConfig:
    """Write some of a community's columns (digest_channel_id, focus_repos, focus_niches)."""
    with db.session() as session:
        row = session.get(GuildSettingsRow, str(guild_id))
        if row is None:
            row = GuildSettingsRow(
                guild_id=str(guild_id), digest_channel_id=None, focus_repos=[], focus_niches=[]
            )
            session.add(row)
        for name, value in changes.items():
            setattr(row, name, value)
        session.flush()
        return _config(row)
