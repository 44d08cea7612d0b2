"""`import` and `export`: move JSON-lines snapshots in and out of the store."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from matcher.cli import stderr
from matcher.cli.common import open_store, settings_from
from matcher.errors import SnapshotError

if TYPE_CHECKING:
    from matcher.catalog import Labels
    from matcher.download import ProgressCallback
    from matcher.settings import Settings
    from matcher.snapshot import SnapshotResult
    from matcher.store import Database

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("import")(import_snapshot)
    app.command("export")(export_snapshot)


def import_snapshot(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="A JSON-lines snapshot: a file, '-' for stdin, or an https:// URL (checked "
            "against URL.sha256 when one is published beside it).",
            metavar="FILE|URL|-",
        ),
    ],
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

    Exits 1 when the file has lines but not one valid issue. A download is stored only once it
    is complete and its checksum matches.
    """
    from matcher.catalog import load_catalog
    from matcher.snapshot import store_snapshot

    settings = settings_from(ctx)
    result, checked = _read_source(source, load_catalog().labels, settings)
    db = open_store(settings, create=True)  # only now: a refused download leaves no store
    report = store_snapshot(db, result)
    counts, bad = report.counts, len(result.errors)
    demo = sum(issue.demo for issue in result.issues)
    summary = {
        "read": len(result.issues),
        "added": counts.added,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "skipped_lines": bad,
        "demo": demo,
        "embedded": embed_new_texts(db, settings.model) if embed else 0,
        **checked,
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        stderr.print(
            f"imported {source}: {summary['read']} issues ({counts.added} new, "
            f"{counts.changed} changed, {counts.unchanged} unchanged), {bad} bad lines skipped, "
            f"{summary['embedded']} texts embedded"
            + (f"; {demo} are demo data (invented), shown as DEMO" if demo else ""),
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    if bad and not result.issues:
        raise SnapshotError(f"{source}: no valid issue in the snapshot ({bad} bad lines)")


def _read_source(source: str, labels: Labels, settings: Settings) -> tuple[SnapshotResult, dict]:
    """The snapshot read from a file, stdin or an https:// URL; and, for a URL, what was checked."""
    from matcher.download import check_https, downloaded, human_size, is_url
    from matcher.snapshot import read_snapshot, read_snapshot_stream

    if source == "-":
        return read_snapshot_stream(sys.stdin.buffer, labels, name="<stdin>"), {}
    if not is_url(source):
        return read_snapshot(Path(source), labels), {}
    check_https(source)
    with _download_progress(source) as progress:
        with downloaded(source, max_mb=settings.import_max_mb, progress=progress) as download:
            result = read_snapshot(download.path, labels, name=source)
    verified = download.checksum_url is not None
    log.info(
        "downloaded %s: %s, sha256 %s (%s)",
        source,
        human_size(download.size),
        download.sha256,
        f"matches {download.checksum_url}" if verified else "no checksum published beside it",
    )
    return result, {"sha256": download.sha256, "checksum_verified": verified}


@contextmanager
def _download_progress(url: str) -> Iterator[ProgressCallback]:
    """A live bar on a terminal; piped, a line at each quarter of the download."""
    if stderr.is_terminal:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        columns = (TextColumn("downloading"), BarColumn(), DownloadColumn())
        with Progress(*columns, console=stderr, transient=True) as bar:
            task = bar.add_task("download", total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    from matcher.download import human_size

    log.info("downloading %s", url)
    said = [0]

    def quarterly(done: int, total: int | None) -> None:
        if total:
            quarter = 4 * done // total
            if quarter > said[0] and quarter < 4:
                said[0] = quarter
                log.info("downloading: %d%% of %s", 25 * quarter, human_size(total))

    yield quarterly


def embed_new_texts(db: Database, model: str) -> int:
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
    """Write the stored issues as a JSON-lines snapshot (the store is only read).

    Demo issues keep "demo": true, so whoever imports the file sees them as demo data.
    """
    from matcher.snapshot import iter_lines, write_snapshot
    from matcher.store.issues import load_issues

    db = open_store(settings_from(ctx), read_only=True)
    issues = load_issues(db, open_only=not include_closed)
    demo = sum(issue.demo for issue in issues)
    if demo:
        log.warning(
            '%d of the %d issues exported are demo data (invented): they keep "demo": true',
            demo,
            len(issues),
        )
    if str(path) == "-":
        sys.stdout.writelines(iter_lines(issues))
        sys.stdout.flush()
        return
    count = write_snapshot(path, issues)
    stderr.print(f"exported {count} issues to {path}", highlight=False, soft_wrap=True)
