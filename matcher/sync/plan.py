"""What each repository's pass in a run is: resume an unfinished one, or start a new one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from matcher.github import PAGE_SIZE, PROBE_PAGE_SIZE, RepoMeta
from matcher.models import Issue
from matcher.store import Database
from matcher.store.issues import load_issues
from matcher.store.sync_state import RepoSyncState, load_sync_states


@dataclass
class RepoPass:
    """One repository's pass in this run."""

    repo: str
    state: RepoSyncState
    niches: tuple[str, ...]
    first: int
    known: dict[str, Issue]
    resumed: bool
    seen: set[str] = field(default_factory=set)
    meta: RepoMeta | None = None
    incomplete: set[int] = field(default_factory=set)  # issue numbers to refetch


def plan_passes(
    db: Database,
    targets: list[str],
    niches: dict[str, tuple[str, ...]],
    full: bool,
    now: datetime | None,
) -> list[RepoPass]:
    """One unit of work per repository: resume an unfinished pass, or start a new one."""
    states = load_sync_states(db, targets)
    # stored issues by repository (GitHub's spelling may differ in case from the target's)
    stored: dict[str, dict[str, Issue]] = {}
    for issue in load_issues(db, open_only=False, repos=targets):
        stored.setdefault(issue.repo.lower(), {})[issue.url] = issue
    queue: list[RepoPass] = []
    for repo in targets:
        state = states.get(repo) or RepoSyncState(repo)
        resumed = state.in_progress and not full
        if not resumed:
            _start_pass(state, full, now)
        first = (
            PROBE_PAGE_SIZE
            if state.pass_mode == "incremental" and state.cursor is None
            else PAGE_SIZE
        )
        known = stored.get(repo.lower(), {})
        queue.append(RepoPass(repo, state, tuple(niches.get(repo, ())), first, known, resumed))
    return queue


def _start_pass(state: RepoSyncState, full: bool, now: datetime | None) -> None:
    """A new pass: full the first time (or when asked), else since the watermark."""
    mode = "full" if (full or state.watermark is None) else "incremental"
    state.pass_mode = mode
    state.pass_since = None if mode == "full" else state.watermark
    state.pass_started_at = now or datetime.now(UTC)
    state.cursor = None
    state.pass_max_updated = None
    state.pass_fetched = 0
