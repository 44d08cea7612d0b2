"""Asking GitHub (through matcher.github) for the queued repositories' pages, a batch a query."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from matcher.catalog import Labels
from matcher.errors import AuthError, GitHubError, RateLimitError, UnreachableError
from matcher.github import GitHubClient, QueryTooHeavy, RepoMeta, RepoRequest
from matcher.github.parse import parse_issue
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.issues import upsert_issues
from matcher.store.sync_state import save_page_progress
from matcher.sync.plan import RepoPass
from matcher.sync.report import SyncProgress, SyncReport
from matcher.sync.save import fail, store_answer
from matcher.sync.size import QuerySize

log = logging.getLogger(__name__)

REFETCH_BATCH = 20


def fetch_pages(
    db: Database,
    settings: Settings,
    client: GitHubClient,
    report: SyncReport,
    progress: SyncProgress,
    labels: Labels,
    label_names: Sequence[str],
    queue: list[RepoPass],
    size: QuerySize,
    now: datetime | None,
) -> str | None:
    """Page through the queue, `size.repos` repositories per GraphQL request, storing each page.

    Returns why the run stopped early (the rate limit), or None; on return `queue` holds the
    repositories left unfinished by an early stop. A query GitHub gives up on is asked again
    smaller (QuerySize); issues with an error inside are refetched once their page is stored.
    """
    cap = settings.github.issues_per_repo
    active: list[RepoPass] = []
    seen: dict[str, RepoPass] = {}
    while queue or active:
        while queue and len(active) < size.repos:
            work = queue.pop(0)
            progress.repo_started(work.repo, work.state.pass_mode or "full")
            active.append(work)
        queue[:0], active = active[size.repos :], active[: size.repos]
        seen.update((w.repo, w) for w in active)
        requests = _requests(active, size, cap)
        try:
            answer = client.graphql.issue_pages(requests, label_names, shrinkable=not size.smallest)
        except QueryTooHeavy as exc:
            size.shrink()
            report.shrinks += 1
            log.info("%s; asking %d issues x %d repositories", exc, size.issues, size.repos)
            continue
        except (AuthError, UnreachableError):
            raise
        except RateLimitError as exc:
            queue[:0] = active
            return str(exc)
        except GitHubError as exc:
            # The whole batch failed after retries: fail these repositories, go on with the rest.
            for work in active:
                fail(db, report, progress, work, str(exc))
            active = []
            continue
        active = store_answer(db, report, progress, labels, active, answer.pages, cap, now)
        if any(page.heavy for page in answer.pages):
            size.shrink()
            report.shrinks += 1
    refetch_incomplete(db, client, report, labels, seen.values(), now)
    return None


def _requests(active: list[RepoPass], size: QuerySize, cap: int) -> list[RepoRequest]:
    """Each active repository's next page, no bigger than the query size or what its cap leaves."""
    return [
        RepoRequest(
            w.repo,
            after=w.state.cursor,
            since=w.state.pass_since,
            first=min(w.first, size.issues, max(1, cap - w.state.pass_fetched)),
        )
        for w in active
    ]


def refetch_incomplete(
    db: Database,
    client: GitHubClient,
    report: SyncReport,
    labels: Labels,
    works: Iterable[RepoPass],
    now: datetime | None,
) -> None:
    """Ask again, by number, for the issues a page answered with an error inside.

    What the page held is already stored; a refetch that fails again keeps it.
    """
    for work in works:
        numbers = sorted(work.incomplete)
        for start in range(0, len(numbers), REFETCH_BATCH):
            try:
                nodes = client.graphql.issues_by_number(
                    work.repo, numbers[start : start + REFETCH_BATCH]
                )
            except (AuthError, UnreachableError, RateLimitError):
                raise
            except GitHubError as exc:
                log.warning("%s: refetch of %d issues failed: %s", work.repo, len(numbers), exc)
                continue
            meta = work.meta or RepoMeta(work.repo)
            parsed = [parse_issue(n, meta, labels, niches=work.niches, now=now) for n in nodes]
            counts = upsert_issues(db, [issue for issue, _ in parsed])
            report.changed += counts.changed
            save_page_progress(db, work.state, [sig for _, sig in parsed])
        work.incomplete.clear()
