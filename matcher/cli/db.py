"""`db`: the store's schema revision (`db upgrade` migrates, `db current` tells where it stands)
and its housekeeping (`db prune` drops caches no stored issue uses)."""

from __future__ import annotations

from typing import Annotated

import typer

from matcher.cli.common import open_store, settings_from
from matcher.errors import StoreError

db_app = typer.Typer(
    help="The store's schema migrations (PostgreSQL stores are migrated only by `db upgrade`) and "
    "housekeeping.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the store to the newest schema; safe to run from several processes at once."""
    from matcher.store import Database
    from matcher.store.db import safe_url, store_url

    url = store_url(settings_from(ctx).resolved_database_url)
    db = Database(url, migrate=False, check=False)
    try:
        before, after = db.upgrade()
    finally:
        db.close()
    if before == after:
        typer.echo(f"{safe_url(url)}: already at revision {after} (head)")
    else:
        typer.echo(f"{safe_url(url)}: migrated from revision {before or 'none'} to {after}")


@db_app.command("current")
def current(ctx: typer.Context) -> None:
    """Print the store's schema revision and the one this version needs; exit 1 if behind."""
    from matcher.store import Database
    from matcher.store.db import safe_url, sqlite_path, store_url
    from matcher.store.migrations import head_revision

    url = store_url(settings_from(ctx).resolved_database_url)
    path = sqlite_path(url)
    if path is not None and not path.exists():  # asking must not make an empty store
        raise StoreError(f"no store at {path}: check --db or MATCHER_DATABASE_URL")
    db = Database(url, migrate=False, check=False)
    try:
        revision = db.revision()
    finally:
        db.close()
    head = head_revision()
    state = "up to date" if revision == head else "behind: run `python -m matcher db upgrade`"
    typer.echo(f"{safe_url(url)}: revision {revision or 'none'}, head {head} ({state})")
    if revision != head:
        raise typer.Exit(1)


@db_app.command("prune")
def prune(ctx: typer.Context) -> None:
    """Delete cached vectors and text facts that no stored issue's text uses any more (old texts
    of edited issues, facts of an older version); safe beside running processes."""
    from matcher.store.issues import prune_embeddings
    from matcher.store.text_facts import prune_text_facts

    db = open_store(settings_from(ctx))
    try:
        vectors, facts = prune_embeddings(db), prune_text_facts(db)
    finally:
        db.close()
    typer.echo(f"pruned {vectors} cached vectors and {facts} text facts no stored issue uses")


@db_app.command("revision")
def revision(
    ctx: typer.Context,
    message: Annotated[str, typer.Option("--message", "-m", help="What the change does.")],
) -> None:
    """For developers: write the next revision from what the models declare beyond the store."""
    from alembic import command

    from matcher.store import Database
    from matcher.store.migrations import alembic_config, head_revision

    url = settings_from(ctx).resolved_database_url
    db = Database(url, migrate=True)  # compare against a store at head
    try:
        next_id = f"{int(head_revision()) + 1:04d}"
        with db.engine.connect() as connection:
            script = command.revision(
                alembic_config(connection), message=message, autogenerate=True, rev_id=next_id
            )
    finally:
        db.close()
    written = script[0] if isinstance(script, list) else script
    path = getattr(written, "path", "?")
    typer.echo(f"wrote {path}: read it, adjust it, and test it on a copy of a real store")
