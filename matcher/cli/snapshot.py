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
) -> None:
    """Load issues from a snapshot into the store; bad lines are reported by number and skipped."""
    settings = settings_from(ctx)
    result = read_snapshot(path, load_catalog().labels)
    counts = upsert_issues(open_store(settings), result.issues)
    summary = {
        "read": len(result.issues),
        "added": counts.added,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "skipped_lines": len(result.errors),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        stderr.print(
            f"imported {path}: {summary['read']} issues ({counts.added} new, {counts.changed} changed, "
            f"{counts.unchanged} unchanged), {len(result.errors)} bad lines skipped",
            highlight=False,
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
