"""What every command needs: settings and the store, opened from the shared options."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from matcher.errors import ConfigError
from matcher.settings import Settings, load_settings
from matcher.store import Database
from matcher.store.db import db_error_reason, open_read_only


def settings_from(ctx: typer.Context) -> Settings:
    options = ctx.obj or {}
    settings = load_settings(options.get("config"))
    db = options.get("db")
    if db:
        settings.database_url = db if "://" in db else f"sqlite:///{Path(db).resolve()}"
    return settings


def check_database_url(url: str) -> None:
    """A URL SQLAlchemy cannot even parse, or whose scheme names no database, is a config error."""
    try:
        make_url(url).get_dialect()
    except NoSuchModuleError:
        scheme = url.split("://", 1)[0]
        raise ConfigError(
            f"unknown database scheme '{scheme}' in --db or MATCHER_DATABASE_URL: "
            "use a file path, sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None
    except ArgumentError:
        raise ConfigError(
            "--db or MATCHER_DATABASE_URL is not a database URL: "
            "use a file path, sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None


def open_store(settings: Settings, *, read_only: bool = False) -> Database:
    """The store; `read_only` for commands that only read (they work on a read-only mount)."""
    url = settings.resolved_database_url
    check_database_url(url)
    return open_read_only(url) if read_only else Database(url)


def store_failure(exc: SQLAlchemyError) -> str:
    """One line for a database error that escaped the store (a damaged file, a lost server)."""
    reason = db_error_reason(exc)
    hint = ""
    if "malformed" in reason or "not a database" in reason:
        hint = "; the store file is damaged: restore it from a backup or an export, or sync anew"
    return f"cannot use the store: {reason}{hint}"
