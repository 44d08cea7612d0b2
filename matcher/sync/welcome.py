"""Refreshing the welcoming figures (matcher.github.welcome) of the synced repositories."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from matcher.errors import AuthError, GitHubError, RateLimitError, UnreachableError
from matcher.github import GitHubClient, QueryTooHeavy
from matcher.github.welcome import WelcomeBatch, fetch_welcome
from matcher.models import Welcome
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.issues import load_welcome, save_welcome
from matcher.sync.report import SyncReport
from matcher.sync.size import QuerySize

log = logging.getLogger(__name__)


def refresh_welcome(
    db: Database,
    settings: Settings,
    client: GitHubClient,
    repos: Sequence[str],
    report: SyncReport,
    now: datetime,
) -> None:
    """Ask the welcoming figures of the repositories whose figures are older than
    `github.welcome_refresh_days`, `github.welcome_repos_per_query` to a query.

    A query GitHub gives up on is asked again with fewer repositories (QuerySize), as the issue
    queries are. A failure costs only that signal: a repository GitHub answered an error for is
    reported and the others are stored; a rate limit leaves the rest for the next sync.
    """
    days = settings.github.welcome_refresh_days
    if days == 0:
        return
    known = load_welcome(db)
    queue = [repo for repo in repos if _welcome_due(known.get(repo.lower()), now, days)]
    size = QuerySize.repositories_only(settings.github.welcome_repos_per_query)
    while queue:
        batch, queue = queue[: size.repos], queue[size.repos :]
        try:
            answer = fetch_welcome(client.graphql, batch, now, shrinkable=not size.smallest)
        except QueryTooHeavy as exc:
            queue[:0] = batch
            size.shrink()
            report.welcome_shrinks += 1
            log.info("%s; asking the welcoming figures of %d repositories a query", exc, size.repos)
            continue
        except (RateLimitError, AuthError, UnreachableError) as exc:
            # every further query would fail the same way: the next sync asks these
            report.welcome_failed.update(dict.fromkeys(batch + queue, str(exc)[:200]))
            break
        except GitHubError as exc:
            report.welcome_failed.update(dict.fromkeys(batch, str(exc)[:200]))
            log.warning("welcoming figures of %s not fetched: %s", ", ".join(batch), exc)
            continue
        _store_welcome(db, report, answer)
        if answer.heavy:
            queue[:0] = answer.heavy
            size.shrink()
            report.welcome_shrinks += 1
    report.welcome_repos_per_query = size.repos


def _welcome_due(stored: tuple[Welcome, int] | None, now: datetime, days: int) -> bool:
    fetched = stored[0].fetched_at if stored else None
    return fetched is None or now - fetched >= timedelta(days=days)


def _store_welcome(db: Database, report: SyncReport, answer: WelcomeBatch) -> None:
    """Store each repository's figures with its share of the query's points."""
    report.welcome_requests += 1
    report.welcome_points += answer.rate.cost
    shares = _cost_shares(answer.rate.cost, len(answer.figures))
    for (repo, figures), cost in zip(answer.figures.items(), shares, strict=True):
        save_welcome(db, repo, figures, cost)
        report.welcome_queries += 1
    for repo, reason in answer.failed.items():
        report.welcome_failed[repo] = reason
        log.warning("%s: welcoming figures not fetched: %s", repo, reason)


def _cost_shares(points: int, repos: int) -> list[int]:
    """Whole points per repository that add up to what the query cost (1 point over 6
    repositories: 1, 0, 0, 0, 0, 0), so the stored costs sum to the signal's real cost."""
    if repos == 0:
        return []
    base, extra = divmod(points, repos)
    return [base + (1 if k < extra else 0) for k in range(repos)]
