"""`match`: rank stored (or bundled demo) issues for one learner or a batch of learners."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from matcher.cli.common import check_repos, command_line, open_store, settings_from
from matcher.errors import MatcherError, ProfileError, SnapshotError

if TYPE_CHECKING:
    from matcher.models import Match, Profile
    from matcher.settings import Settings
    from matcher.store import Database

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("match")(match)


def load_profiles(path: Path) -> list[tuple[Profile, str | None]]:
    """A JSON list of {"id", "skills", "niche", "languages"?, "pace"?} objects ('-': stdin):
    each learner with their pace (None when the key is left out)."""
    from matcher.models import Profile

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        data = json.loads(text)
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
        profiles.append((Profile(id=str(item["id"]), **fields), _pace_of(path, n, item)))
    return profiles


def _pace_of(path: Path, n: int, item: dict) -> str | None:
    from matcher.ramp import validate_pace

    pace = item.get("pace")
    if pace is None:
        return None
    if not isinstance(pace, str):
        raise ProfileError(f"{path}: item {n}: 'pace' must be easier, auto or harder")
    try:
        return validate_pace(pace)
    except ProfileError as error:
        raise ProfileError(f"{path}: item {n}: {error}") from None


def _fill_store(db: Database, snapshot: Path | None) -> set[str] | None:
    """Import the snapshot into `db` (a side store); return the URLs to rank, None for all."""
    from matcher.catalog import load_catalog
    from matcher.snapshot import import_snapshot

    if snapshot is None:
        return None
    report = import_snapshot(db, snapshot, load_catalog().labels)
    result, counts = report.result, report.counts
    if not result.issues:
        raise SnapshotError(
            f"{snapshot}: no valid issue in the snapshot ({len(result.errors)} bad lines); "
            "see the warnings above"
        )
    log.info(
        "snapshot %s: %d issues (%d new, %d changed), %d bad lines skipped",
        snapshot.name,
        len(result.issues),
        counts.added,
        counts.changed,
        len(result.errors),
    )
    return {i.url for i in result.issues}


def side_store(store_url: str, kind: str) -> Database:
    """A store of its own next to the learner's (`<store>.<kind>.sqlite`, so its vectors stay
    cached) where a snapshot or the demo is ranked; the learner's store never receives them."""
    from matcher.store import Database
    from matcher.store.db import sqlite_path

    path = sqlite_path(store_url)
    return Database(
        f"sqlite:///{path.with_name(f'{path.stem}.{kind}.sqlite')}"
        if path
        else "sqlite:///:memory:"
    )


def _check_profile(skills: str, niche: str) -> None:
    if not re.search(r"\w", f"{skills} {niche}"):
        raise ProfileError(
            "give --skills or --niche: what you can do ('Python, PyTorch') or want to work on"
        )


def match(
    ctx: typer.Context,
    skills: Annotated[str, typer.Option(help="What you can do: 'Python, PyTorch, OpenCV'.")] = "",
    niche: Annotated[str, typer.Option(help="What you want to work on: 'computer vision'.")] = "",
    languages: Annotated[str, typer.Option(help="Programming languages you know.")] = "",
    snapshot: Annotated[
        Path | None,
        typer.Option(
            help="Rank only the issues of this JSON-lines snapshot. They are kept in a store of "
            "their own (<store>.snapshot.sqlite), never added to yours: use `import` for that."
        ),
    ] = None,
    profiles: Annotated[
        Path | None,
        typer.Option(help="Batch: a JSON list of {id, skills, niche, pace?}; '-' for stdin."),
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=1, max=500, help="How many matches.")
    ] = None,
    repo: Annotated[
        list[str] | None, typer.Option(help="Only these repositories, owner/name (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    pace: Annotated[
        str | None,
        typer.Option(
            help="easier | auto | harder: aim a step below or above the first step of the "
            "difficulty ramp (docs, tests, small fixes; then bug fixes; then features). "
            'With --profiles, the default for entries without a "pace" key.'
        ),
    ] = None,
) -> None:
    """Rank open beginner issues for a learner, each with the reasons it fits."""
    from matcher.engine import MatchEngine, validate_profile
    from matcher.models import Profile
    from matcher.ramp import level_of, validate_pace

    settings = settings_from(ctx)
    default_pace = validate_pace(pace) if pace is not None else "auto"
    if repo:
        check_repos(repo, "--repo")
    if not profiles:
        _check_profile(skills, niche)
    paced = (
        load_profiles(profiles)
        if profiles
        else [(Profile(skills=skills, niche=niche, languages=languages), default_pace)]
    )
    batch = [profile for profile, _ in paced]
    for profile in batch:
        validate_profile(profile)
    # The command line knows no merged work: each learner is a newcomer at their pace.
    levels = {p.id: level_of((), (), given or default_pace) for p, given in paced}
    db, snapshot, store_has_demo = _pool(settings, snapshot)
    urls = _fill_store(db, snapshot)
    engine = MatchEngine(db, settings)
    results = engine.match_many(batch, top_k=top, repos=repo, only_urls=urls, levels_by_id=levels)
    log.info("embedded %d new issue texts", engine.encoded_last)
    if repo and not any(results.values()):
        log.warning(
            "no open issue stored for %s: sync it first (`%s`)",
            ", ".join(repo),
            command_line(ctx, "sync", "--repos", ",".join(repo)),
        )
    if profiles:
        by_id = {pid: [m.to_dict() for m in ms] for pid, ms in results.items()}
        typer.echo(_json_text(by_id))
    elif as_json:
        typer.echo(_json_text([m.to_dict() for m in results[batch[0].id]]))
    else:
        _print(results[batch[0].id], store_has_demo)


def _pool(settings: Settings, snapshot: Path | None) -> tuple[Database, Path | None, bool]:
    """The store to rank, the snapshot to fill it with, and whether demo issues are in the pool.

    With --snapshot the learner's store is not opened (nothing is read from it); an empty
    store ranks the bundled demo, in a side store of its own.
    """
    from matcher.snapshot import demo_snapshot_path, is_demo_snapshot
    from matcher.store.db import store_url
    from matcher.store.issues import count_demo_issues, count_issues

    url = store_url(settings.resolved_database_url)
    if snapshot is not None:
        kind = "demo" if is_demo_snapshot(snapshot) else "snapshot"
        return side_store(url, kind), snapshot, False
    db = open_store(settings)
    if count_issues(db):
        return db, None, count_demo_issues(db) > 0
    log.info("the store is empty: ranking the bundled demo snapshot (demo data, not GitHub)")
    db.close()
    return side_store(url, "demo"), demo_snapshot_path(), True


def _print(matches: list[Match], store_has_demo: bool) -> None:
    from matcher.render.console import console
    from matcher.render.terminal import print_matches

    print_matches(matches, console(), demo=store_has_demo)


def _json_text(data: object) -> str:
    """Strict JSON: a score of Infinity or NaN would make the output unreadable to JSON parsers."""
    try:
        return json.dumps(data, indent=1, allow_nan=False)
    except ValueError:
        raise MatcherError(
            "a score is not a finite number: check the ranking weights in your configuration"
        ) from None
