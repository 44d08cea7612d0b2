"""The sync pass: targets, their pages, the welcoming figures, the embeddings, and its report."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from matcher.catalog import Catalog, load_catalog
from matcher.errors import ConfigError
from matcher.github import GitHubClient
from matcher.redact import redact
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.issues import load_issues
from matcher.store.sync_state import save_sync_state
from matcher.sync.fetch import fetch_pages
from matcher.sync.plan import RepoPass, plan_passes
from matcher.sync.report import NoProgress, SyncProgress, SyncReport, add_costs
from matcher.sync.size import QuerySize
from matcher.sync.targets import add_discovered, sync_targets
from matcher.sync.welcome import refresh_welcome


def sync(
    db: Database,
    settings: Settings,
    client: GitHubClient,
    embedder=None,
    *,
    make_embedder: Callable[[], Any] | None = None,
    repos: Sequence[str] | None = None,
    full: bool = False,
    discover: bool = False,
    progress: SyncProgress | None = None,
    catalog: Catalog | None = None,
    label_names: Sequence[str] | None = None,
    now: datetime | None = None,
) -> SyncReport:
    """Fetch new and changed beginner issues of the target repositories into the store.

    `make_embedder` (instead of `embedder`) loads the model only once GitHub answered, so an
    offline run stops before paying for it.
    """
    started = time.monotonic()
    catalog = catalog or load_catalog()
    label_names = list(label_names) if label_names is not None else list(catalog.labels.names)
    progress = progress or NoProgress()
    report = SyncReport()
    targets, niches = sync_targets(catalog, repos)
    if discover:
        add_discovered(db, settings, client, targets, niches)
    if not targets:
        raise ConfigError("no repositories to sync: config/repos.yaml is empty and none were given")

    queue = plan_passes(db, targets, niches, full, now)
    size = QuerySize(settings.github.repos_per_query)
    stop_reason = fetch_pages(
        db, settings, client, report, progress, catalog.labels, label_names, queue, size, now
    )
    report.repos_per_query, report.issues_per_page = size.repos, size.issues
    if stop_reason:
        _stop(db, report, progress, queue, redact(stop_reason))
    else:
        refresh_welcome(db, settings, client, report.repos_ok, report, now or datetime.now(UTC))

    _embed_pool(db, client, report, targets, embedder, make_embedder)
    add_costs(report, client.stats())
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _stop(
    db: Database, report: SyncReport, progress: SyncProgress, queue: list[RepoPass], reason: str
) -> None:
    """The run stopped early: the unfinished repositories keep their progress and the reason."""
    report.stopped = reason
    for work in queue:
        report.repos_failed[work.repo] = reason
        work.state.last_error = reason
        save_sync_state(db, work.state)
        progress.repo_finished(work.repo, False, reason)


def _embed_pool(
    db: Database,
    client: GitHubClient,
    report: SyncReport,
    targets: list[str],
    embedder: Any,
    make_embedder: Callable[[], Any] | None,
) -> None:
    """Embed the open, untaken issues of the targets; the model loads only if GitHub answered."""
    pool = [i for i in load_issues(db, open_only=True, repos=targets) if not i.is_taken]
    report.candidates = len(pool)
    if embedder is None and make_embedder is not None and pool and client.connected:
        embedder = make_embedder()
    if embedder is not None and pool:
        from matcher.embedding import issue_vectors

        _matrix, report.embedded = issue_vectors(db, embedder, pool)
