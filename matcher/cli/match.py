"""`match`: rank stored (or bundled demo) issues for one learner or a batch of learners."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from matcher.catalog import load_catalog
from matcher.cli.common import open_store, settings_from
from matcher.engine import MatchEngine, validate_profile
from matcher.errors import ProfileError, SnapshotError
from matcher.models import Match, Profile
from matcher.snapshot import demo_snapshot_path, read_snapshot
from matcher.store import Database
from matcher.store.db import sqlite_path
from matcher.store.issues import count_issues, upsert_issues

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("match")(match)


def load_profiles(path: Path) -> list[Profile]:
    """A JSON list of {"id", "skills", "niche", "languages"?} objects."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read profiles ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, list) or not data:
        raise ProfileError(
            f'{path}: expected a non-empty JSON list of {{"id", "skills", "niche"}} objects'
        )
    profiles, seen = [], set()
    for n, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str | int):
            raise ProfileError(f"{path}: item {n} needs an 'id'")
        fields = {k: item.get(k) or "" for k in ("skills", "niche", "languages")}
        if not all(isinstance(v, str) for v in fields.values()):
            raise ProfileError(
                f"{path}: item {n}: 'skills', 'niche' and 'languages' must be strings"
            )
        if str(item["id"]) in seen:
            raise ProfileError(f"{path}: item {n}: duplicate id '{item['id']}'")
        seen.add(str(item["id"]))
        profiles.append(Profile(id=str(item["id"]), **fields))
    return profiles


def _fill_store(db: Database, snapshot: Path | None) -> set[str] | None:
    """Import the snapshot into `db`; return the URLs to rank, None for all."""
    if snapshot is None:
        return None
    result = read_snapshot(snapshot, load_catalog().labels)
    if not result.issues:
        raise SnapshotError(
            f"{snapshot}: no valid issue in the snapshot ({len(result.errors)} bad lines); "
            "see the warnings above"
        )
    counts = upsert_issues(db, result.issues)
    log.info(
        "snapshot %s: %d issues (%d new, %d changed), %d bad lines skipped",
        snapshot.name,
        len(result.issues),
        counts.added,
        counts.changed,
        len(result.errors),
    )
    return {i.url for i in result.issues}


def demo_store(db: Database) -> Database:
    """Where the demo snapshot is ranked: a store of its own next to the learner's (so its vectors are
    cached), never the learner's store, which would otherwise keep 220 demo issues among real ones."""
    path = sqlite_path(db.url)
    return Database(
        f"sqlite:///{path.with_name(path.stem + '.demo.sqlite')}" if path else "sqlite:///:memory:"
    )


def match(
    ctx: typer.Context,
    skills: Annotated[str, typer.Option(help="What you can do: 'Python, PyTorch, OpenCV'.")] = "",
    niche: Annotated[str, typer.Option(help="What you want to work on: 'computer vision'.")] = "",
    languages: Annotated[str, typer.Option(help="Programming languages you know.")] = "",
    snapshot: Annotated[
        Path | None, typer.Option(help="Rank issues from this JSON-lines snapshot.")
    ] = None,
    profiles: Annotated[
        Path | None, typer.Option(help="Batch: a JSON list of {id, skills, niche}.")
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=1, max=500, help="How many matches.")
    ] = None,
    repo: Annotated[
        list[str] | None, typer.Option(help="Only these repositories (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
) -> None:
    """Rank open beginner issues for a learner, each with the reasons it fits."""
    settings = settings_from(ctx)
    batch = (
        load_profiles(profiles)
        if profiles
        else [Profile(skills=skills, niche=niche, languages=languages)]
    )
    for profile in batch:
        validate_profile(profile)
    db = open_store(settings)
    if snapshot is None and not count_issues(db):
        log.info(
            "the store is empty: ranking the bundled demo snapshot (demo data, not live GitHub issues)"
        )
        db, snapshot = demo_store(db), demo_snapshot_path()
    urls = _fill_store(db, snapshot)
    engine = MatchEngine(db, settings)
    results = engine.match_many(batch, top_k=top, repos=repo, only_urls=urls)
    log.info("embedded %d new issue texts", engine.encoded_last)
    if repo and not any(results.values()):
        log.warning(
            "no open issue stored for %s: sync it first (`python -m matcher sync --repos %s`)",
            ", ".join(repo),
            ",".join(repo),
        )
    if profiles:
        typer.echo(
            json.dumps({pid: [m.to_dict() for m in ms] for pid, ms in results.items()}, indent=1)
        )
    elif as_json:
        typer.echo(json.dumps([m.to_dict() for m in results[batch[0].id]], indent=1))
    else:
        print_matches(results[batch[0].id])


def print_matches(matches: list[Match]) -> None:
    console = Console()
    if not matches:
        console.print("No open issues match yet: run `python -m matcher sync` or pass --snapshot.")
        return
    table = Table(title="Your best first issues", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("issue", overflow="fold")
    table.add_column("why", overflow="fold")
    for n, m in enumerate(matches, 1):
        issue = m.issue
        title = f"[bold]{issue.repo}#{issue.number}[/bold]\n[link={issue.url}]{issue.title}[/link]\n[dim]{issue.url}[/dim]"
        table.add_row(str(n), f"{m.score:.2f}", title, "\n".join(m.reasons))
    console.print(table)
