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
from matcher.errors import SnapshotError
from matcher.snapshot import import_snapshot as import_file
from matcher.snapshot import iter_lines, write_snapshot
from matcher.store.issues import load_issues


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
    """Load issues from a snapshot into the store; bad lines are reported by number and skipped.

    Exits 1 when the file has lines but not one valid issue.
    """
    settings = settings_from(ctx)
    db = open_store(settings)
    report = import_file(db, path, load_catalog().labels)
    counts, bad = report.counts, len(report.result.errors)
    summary = {
        "read": len(report.result.issues),
        "added": counts.added,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "skipped_lines": bad,
        "embedded": embed_new_texts(db, settings.model) if embed else 0,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        stderr.print(
            f"imported {path}: {summary['read']} issues ({counts.added} new, "
            f"{counts.changed} changed, {counts.unchanged} unchanged), {bad} bad lines skipped, "
            f"{summary['embedded']} texts embedded",
            highlight=False,
            soft_wrap=True,
        )
    if bad and not report.result.issues:
        raise SnapshotError(f"{path}: no valid issue in the snapshot ({bad} bad lines)")


def embed_new_texts(db, model: str) -> int:
    """Encode the stored open issues that have no vector yet, with a progress bar on a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from matcher.embedding import embed_pending, embedding_key, load_embedder, unembedded_texts

    if not unembedded_texts(db, embedding_key(model)):  # nothing new: do not load the model at all
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
    path: Annotated[
        Path,
        typer.Argument(
            help="Where to write the snapshot; '-' for stdout. A FIFO or device is written to."
        ),
    ],
    include_closed: Annotated[bool, typer.Option(help="Also export closed issues.")] = False,
) -> None:
    """Write the stored issues as a JSON-lines snapshot (the store is only read)."""
    db = open_store(settings_from(ctx), read_only=True)
    issues = load_issues(db, open_only=not include_closed)
    if str(path) == "-":
        sys.stdout.writelines(iter_lines(issues))
        sys.stdout.flush()
        return
    count = write_snapshot(path, issues)
    stderr.print(f"exported {count} issues to {path}", highlight=False, soft_wrap=True)
