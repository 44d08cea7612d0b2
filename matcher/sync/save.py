"""Storing what GitHub answered: each repository's page, its progress, its metadata, its failure."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from matcher.catalog import Labels
from matcher.errors import MalformedResponseError
from matcher.github import PAGE_SIZE, RepoMeta, RepoPage
from matcher.github.parse import parse_issue, parse_repo_meta
from matcher.models import Issue
from matcher.redact import redact
from matcher.store import Database
from matcher.store.issues import (
    load_issues,
    mark_unlisted,
    refresh_issue_repo_fields,
    upsert_issues,
)
from matcher.store.repo_meta import RepoMetaRecord, load_repo_meta, save_repo_meta
from matcher.store.sync_state import save_page_progress, save_sync_state
from matcher.sync.plan import RepoPass
from matcher.sync.report import SyncProgress, SyncReport

log = logging.getLogger(__name__)

WATERMARK_MARGIN = timedelta(minutes=10)  # clock skew allowance when a pass saw no issue at all


def store_answer(
    db: Database,
    report: SyncReport,
    progress: SyncProgress,
    labels: Labels,
    active: list[RepoPass],
    pages: list[RepoPage],
    cap: int,
    now: datetime | None,
) -> list[RepoPass]:
    """Store each repository's page; returns the repositories with more to fetch."""
    still: list[RepoPass] = []
    for work, page in zip(active, pages, strict=True):
        if page.heavy:
            still.append(work)  # GitHub gave up on this share: same cursor, smaller query
            continue
        if page.error:
            fail(db, report, progress, work, page.error)
            continue
        try:
            done = _store_page(db, report, labels, work, page, cap, now)
        except MalformedResponseError as exc:
            fail(db, report, progress, work, str(exc))
            continue
        progress.repo_advanced(work.repo, work.state.pass_fetched, page.total)
        if done:
            report.repos_ok.append(work.repo)
            progress.repo_finished(work.repo, True, f"{work.state.pass_fetched} fetched")
        else:
            work.first = PAGE_SIZE
            still.append(work)
    return still


def _store_page(
    db: Database,
    report: SyncReport,
    labels: Labels,
    work: RepoPass,
    page: RepoPage,
    cap: int,
    now: datetime | None,
) -> bool:
    """Store one page of one repository and its progress; True when its pass is done."""
    state = work.state
    if page.meta is not None and work.meta is None:
        _take_meta(db, work, page.meta)
    meta = work.meta or RepoMeta(work.repo)
    parsed = [parse_issue(node, meta, labels, niches=work.niches, now=now) for node in page.nodes]
    issues, signals = [], []
    for issue, sig in parsed:
        work.seen.add(issue.url)
        if not issue.is_open and issue.url not in work.known:
            continue  # closed before we ever stored it: nothing to take out of the pool
        issues.append(issue)
        signals.append(sig)
        if state.pass_max_updated is None or (
            issue.updated_at and issue.updated_at > state.pass_max_updated
        ):
            state.pass_max_updated = issue.updated_at
    _upsert(db, report, work, issues)
    state.pass_fetched += len(page.nodes)
    work.incomplete.update(page.incomplete)
    done = not page.has_next or state.pass_fetched >= cap
    if done:
        _finish_pass(db, report, work, complete=not page.has_next, now=now)
    else:
        state.cursor = page.end_cursor
    save_page_progress(db, state, signals)
    return done


def _take_meta(db: Database, work: RepoPass, node: dict) -> None:
    """The repository's own fields from its first page, under the configured name."""
    meta = parse_repo_meta(node, work.repo)
    if meta.repo.lower() != work.repo.lower():
        # followRenames: GitHub answers under the new name; we keep the configured one
        log.info(
            "%s was renamed to %s on GitHub; config/repos.yaml may say so", work.repo, meta.repo
        )
        meta = replace(meta, repo=work.repo)
    work.meta = meta
    _save_meta(db, work)


def _upsert(db: Database, report: SyncReport, work: RepoPass, issues: list[Issue]) -> None:
    """Store the page's issues and count what changed, and which left the candidate pool."""
    counts = upsert_issues(db, issues)
    report.added += counts.added
    report.changed += counts.changed
    report.unchanged += counts.unchanged
    for issue in issues:
        if _candidate(work.known.get(issue.url)) and not _candidate(issue):
            report.left_pool += 1
        work.known[issue.url] = issue


def _finish_pass(
    db: Database, report: SyncReport, work: RepoPass, *, complete: bool, now: datetime | None
) -> None:
    """Close the pass: take out what a complete full pass no longer saw, move the watermark."""
    state = work.state
    if state.pass_mode == "full" and complete and not work.resumed:
        gone = [u for u, i in work.known.items() if i.is_open and u not in work.seen]
        report.left_pool += sum(_candidate(work.known[u]) for u in gone)
        mark_unlisted(db, gone)
    state.watermark = (
        state.pass_max_updated
        or state.watermark
        or ((state.pass_started_at or datetime.now(UTC)) - WATERMARK_MARGIN)
    )
    state.pass_mode = state.pass_since = state.cursor = state.pass_max_updated = None
    state.pass_started_at = None
    state.last_completed_at = now or datetime.now(UTC)
    state.last_error = None


def _candidate(issue: Issue | None) -> bool:
    return issue is not None and issue.is_open and not issue.is_taken


def _save_meta(db: Database, work: RepoPass) -> None:
    meta = work.meta
    if meta is None:  # the repository's own fields did not arrive: nothing to save
        return
    existing = load_repo_meta(db, [work.repo]).get(work.repo)
    record = RepoMetaRecord(
        work.repo,
        meta.description,
        meta.stars,
        meta.language,
        meta.topics,
        work.niches,
        meta.archived,
        existing.source if existing else "config",
    )
    if save_repo_meta(db, record) and existing is not None:
        # Stars, topics or language moved: keep the issues we are not refetching in step.
        refresh_issue_repo_fields(
            db,
            work.repo,
            stars=meta.stars,
            topics=meta.topics,
            language=meta.language,
            niches=work.niches,
        )
        work.known = {i.url: i for i in load_issues(db, open_only=False, repos=[work.repo])}


def fail(
    db: Database, report: SyncReport, progress: SyncProgress, work: RepoPass, reason: str
) -> None:
    """Report a repository as failed with a one-line reason; its saved cursor stays."""
    reason = " ".join(redact(reason).split())[:300]  # stored in last_error: never a secret
    report.repos_failed[work.repo] = reason
    work.state.last_error = reason
    save_sync_state(db, work.state)  # the cursor stays: the next run resumes this pass
    progress.repo_finished(work.repo, False, reason)
    log.warning("%s: %s", work.repo, reason)
