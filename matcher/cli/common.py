"""What every command needs: settings and the store, opened from the shared options.

Imported by every command module at start-up, so it imports the settings and the store only
inside its functions: `--help` must not pay for SQLAlchemy or pydantic.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

import typer

from matcher.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

    from matcher.settings import Settings
    from matcher.store import Database


def settings_from(ctx: typer.Context) -> Settings:
    """The settings, with --db (a file path or a URL) over MATCHER_DATABASE_URL and the YAML."""
    from matcher.settings import load_settings

    options = ctx.obj or {}
    settings = load_settings(options.get("config"))
    db = options.get("db")
    if db:
        settings.database_url = db
    return settings


def open_store(settings: Settings, *, read_only: bool = False, create: bool = False) -> Database:
    """The store. `create` for commands that write (import, sync): they may start a new store.

    A command that only reads refuses a SQLite file named by --db or MATCHER_DATABASE_URL that
    does not exist (a typing mistake would otherwise make an empty store and rank the demo);
    the default store under the user's data directory is made on first use. `read_only` opens
    without writing anything (it works on a read-only mount).
    """
    from matcher.store import Database
    from matcher.store.db import open_read_only, sqlite_path, store_url

    url = store_url(settings.resolved_database_url)
    path = sqlite_path(url)
    if not create and settings.database_url and path is not None and not path.exists():
        raise StoreError(
            f"no store at {path}: check --db or MATCHER_DATABASE_URL; "
            "`import` or `sync` makes a store there"
        )
    return open_read_only(url) if read_only else Database(url)


def command_line(ctx: typer.Context, *args: str) -> str:
    """`python -m matcher ARGS` with this run's --db and --config, so a suggestion that is
    followed uses the same store and settings as the command that printed it."""
    options = ctx.find_root().obj or {}
    shared = [
        part
        for name in ("config", "db")
        if options.get(name)
        for part in (f"--{name}", options[name])
    ]
    return shlex.join(["python", "-m", "matcher", *shared, *args])


def store_failure(exc: SQLAlchemyError) -> str:
    """One line for a database error that escaped the store (a damaged file, a lost server)."""
    from matcher.store.db import db_error_reason

    reason = db_error_reason(exc)
    hint = ""
    if "malformed" in reason or "not a database" in reason:
        hint = "; the store file is damaged: restore it from a backup or an export, or sync anew"
    return f"cannot use the store: {reason}{hint}"


def check_repos(repos: list[str], option: str) -> None:
    """Each repository must be owner/name; a bare name or owner is answered with the catalogue's
    repositories it could mean, each written as an option that works when followed."""
    from matcher.catalog import load_catalog

    known = [entry.repo for entry in load_catalog().repos]
    for repo in repos:
        if re.fullmatch(r"[^/\s]+/[^/\s]+", repo):
            continue
        word = repo.strip("/ ").lower()
        by_name = [r for r in known if r.split("/")[1].lower() == word]
        by_owner = [r for r in known if r.split("/")[0].lower() == word and r not in by_name]
        guesses = (by_name + by_owner)[:3]
        if not guesses:
            raise ConfigError(
                f"{option} {repo!r} is not owner/name (e.g. huggingface/transformers)"
            )
        raise ConfigError(
            f"{option} {repo!r} is not owner/name: did you mean "
            + " or ".join(f"{option} {shlex.quote(g)}" for g in guesses)
            + "?"
        )
