"""`import` and `export`: move JSON-lines snapshots in and out of the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from matcher.catalog import load_catalog
from matcher.cli import stderr
from matcher.cli.common import open_store, settings_from
from matcher.snapshot import iter_lines, read_snapshot, write_snapshot
from matcher.store.issues import load_issues, upsert_issues


def register(app: typer.Typer) -> None:
    app.command("import")(import_snapshot)
    app.command("export")(export_snapshot)


def import_snapshot(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A JSON-lines snapshot file.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
    embed: Annotated[
        bool,
        typer.Option(
            "--embed/--no-embed",
            help="Embed new issue texts now, so ranking never has to (the model loads once).",
        ),
    ] = True,
) -> None:
    """Load issues from a snapshot into the store; bad lines are reported by number and skipped."""
    settings = settings_from(ctx)
    result = read_snapshot(path, load_catalog().labels)
    db = open_store(settings)
    counts = upsert_issues(db, result.issues)
    summary = {
        "read": len(result.issues),
        "added": counts.added,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "skipped_lines": len(result.errors),
        "embedded": embed_new_texts(db, settings.model) if embed else 0,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        stderr.print(
            f"imported {path}: {summary['read']} issues ({counts.added} new, "
            f"{counts.changed} changed, "
            f"{counts.unchanged} unchanged), {len(result.errors)} bad lines skipped, "
            f"{summary['embedded']} texts embedded",
            highlight=False,
        )


def embed_new_texts(db, model: str) -> int:
    """Encode the stored open issues that have no vector yet, with a progress bar on a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from matcher.embedding import embed_pending, load_embedder, unembedded_texts

    if not unembedded_texts(db, model):  # nothing new: do not load the model at all
        return 0
    embedder = load_embedder(model)
    columns = (TextColumn("embedding"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=stderr, transient=True, disable=not stderr.is_terminal) as bar:
        task = bar.add_task("embedding", total=None)
        return embed_pending(
            db, embedder, lambda done, total: bar.update(task, completed=done, total=total)
        )


def export_snapshot(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Where to write the snapshot; '-' for stdout.")],
    include_closed: Annotated[bool, typer.Option(help="Also export closed issues.")] = False,
) -> None:
    """Write the stored issues as a JSON-lines snapshot."""
    issues = load_issues(open_store(settings_from(ctx)), open_only=not include_closed)
    if str(path) == "-":
        sys.stdout.writelines(iter_lines(issues))
        return
    count = write_snapshot(path, issues)
    stderr.print(f"exported {count} issues to {path}", highlight=False)
