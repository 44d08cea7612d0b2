"""What every command needs: settings and the store, opened from the shared options."""

from __future__ import annotations

from pathlib import Path

import typer

from matcher.settings import Settings, load_settings
from matcher.store import Database


def settings_from(ctx: typer.Context) -> Settings:
    options = ctx.obj or {}
    settings = load_settings(options.get("config"))
    db = options.get("db")
    if db:
        settings.database_url = db if "://" in db else f"sqlite:///{Path(db).resolve()}"
    return settings


def open_store(settings: Settings) -> Database:
    return Database(settings.resolved_database_url)
