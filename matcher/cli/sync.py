"""`sync`: fetch the beginner issues of the configured ML repositories into the store."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from matcher.cli.common import check_repos, open_store, settings_from
from matcher.errors import GitHubError
from matcher.render.console import console as rich_console

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    app.command("sync")(sync_command)


class RichSyncProgress:
    """One bar per repository being fetched (removed when done) and one for the whole run."""

    def __init__(self, progress: Progress, total_repos: int):
        self.progress = progress
        self.overall = progress.add_task("repositories", total=total_repos)
        self.tasks: dict[str, TaskID] = {}

    def repo_started(self, repo: str, mode: str) -> None:
        self.tasks[repo] = self.progress.add_task(f"{repo} ({mode})", total=None)

    def repo_advanced(self, repo: str, fetched: int, total: int | None) -> None:
        task = self.tasks.get(repo)
        if task is not None:
            self.progress.update(task, completed=fetched, total=max(total or 0, fetched) or None)

    def repo_finished(self, repo: str, ok: bool, message: str) -> None:
        task = self.tasks.pop(repo, None)
        if task is not None:
            self.progress.remove_task(task)
        self.progress.advance(self.overall)
        # a failure is logged once by the sync and listed again in the summary: not printed here


def sync_command(
    ctx: typer.Context,
    repos: Annotated[
        str | None, typer.Option(help="Only these repositories: owner/name,owner/name.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N repositories of the list.")
    ] = None,
    discover: Annotated[
        bool,
        typer.Option(
            "--discover",
            help="Add repositories found by GitHub topic "
            "(github.discover_topics, discover_min_stars).",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Refetch every open issue instead of only what changed since the last sync.",
        ),
    ] = False,
    embed: Annotated[
        bool,
        typer.Option(
            "--embed/--no-embed",
            help="Embed new and changed issue texts so `match` has nothing left to encode.",
        ),
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only a JSON summary on stdout.")
    ] = False,
    every: Annotated[
        str | None,
        typer.Option(help="Run again every INTERVAL (6h, 30m) until stopped; failures are logged."),
    ] = None,
) -> None:
    """Fetch beginner-labelled open issues from GitHub, cheaply: only what changed since then."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from matcher.catalog import load_catalog
    from matcher.cli.every import run_every
    from matcher.github import connect
    from matcher.settings import github_token
    from matcher.store.sync_locks import sync_lock
    from matcher.sync import sync

    if every is not None:  # the compose `sync` service: one process, one run at a time
        serve_metrics(settings_from(ctx).metrics_port)
        run_every(every, "sync", lambda: sync_command(ctx, **{**ctx.params, "every": None}))
        return
    # MatcherError propagates: matcher.cli.main turns it into one line on stderr and exit code 1.
    settings = settings_from(ctx)
    token = github_token(required=True)
    assert token is not None  # required=True raises instead of answering None
    targets = _targets(repos, limit)
    db = open_store(settings, create=True)
    console = rich_console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with (
        sync_lock(db),  # a second sync of this store stops here with one line naming the first
        connect(settings.github, token) as client,
        Progress(
            *columns, console=console, transient=True, disable=not console.is_terminal
        ) as bars,
    ):
        total = len(targets) if targets is not None else len(load_catalog().repos)
        report = sync(
            db,
            settings,
            client,
            repos=targets,
            full=full,
            discover=discover,
            progress=RichSyncProgress(bars, total),
        )
    from matcher import metrics

    metrics.record_sync(report)
    if embed:  # after the fetch, so an offline run stops before paying for the model
        from matcher.cli.snapshot import embed_new_texts

        report.embedded = embed_new_texts(db, settings.model)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=1, default=str))
    else:
        _print_summary(report)
    if report.repos_failed and not report.repos_ok:
        first = next(iter(sorted(report.repos_failed.items())))
        raise GitHubError(f"every repository failed; {first[0]}: {first[1]}")


def serve_metrics(port: int | None) -> None:
    """The /metrics endpoint of a long-running `sync --every` (MATCHER_METRICS_PORT; None: off)."""
    if port is not None:
        from matcher import metrics

        metrics.serve(port)


def _targets(repos: str | None, limit: int | None) -> list[str] | None:
    from matcher.catalog import load_catalog

    names = None
    if repos:
        names = [r.strip() for r in repos.split(",") if r.strip()]
        check_repos(names, "--repos")
    if limit is not None:
        names = (names if names is not None else [r.repo for r in load_catalog().repos])[:limit]
    return names


def _print_summary(report) -> None:
    console = rich_console(stderr=True, highlight=False, soft_wrap=True)
    console.print(
        f"synced {len(report.repos_ok)} repositories"
        + (f", {len(report.repos_failed)} failed" if report.repos_failed else "")
        + f": {report.added} new, {report.changed} changed, {report.unchanged} unchanged issues; "
        f"{report.left_pool} left the pool; {report.candidates} candidates; "
        f"{report.embedded} texts embedded"
    )
    for repo, reason in sorted(report.repos_failed.items()):
        console.print(f"  failed {repo}: {reason}")
    left = report.rate_limit_remaining
    console.print(
        f"cost: {report.requests} requests ({report.graphql_requests} GraphQL, "
        f"{report.rest_requests} REST, {report.not_modified} not modified, "
        f"{report.retries} retries), {report.graphql_points} GraphQL points, "
        f"rate limit left {left if left is not None else '?'}; {report.seconds:.1f}s"
    )
    if report.welcome_queries or report.welcome_failed:
        console.print(
            f"welcoming figures: {report.welcome_queries} repositories in "
            f"{report.welcome_requests} request{'s' if report.welcome_requests != 1 else ''}, "
            f"{report.welcome_points} GraphQL points"
            + (f", {len(report.welcome_failed)} failed" if report.welcome_failed else "")
            + (
                f" (shrunk to {report.welcome_repos_per_query} repositories a query)"
                if report.welcome_shrinks
                else ""
            )
        )
    if report.shrinks:
        console.print(
            f"GitHub gave up on heavy queries {report.shrinks} times: asked "
            f"{report.issues_per_page} issues x {report.repos_per_query} repositories a query"
        )
    if report.stopped:
        console.print(f"stopped early: {report.stopped}")
    sys.stderr.flush()
