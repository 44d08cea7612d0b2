"""`sync`: fill the store from GitHub with the beginner issues of the configured ML repositories.

How a sync runs
- Targets: the repositories of config/repos.yaml (or `repos=`), plus, with `discover=True`,
  repositories found by GitHub topic (`github.discover_topics`, at least `discover_min_stars`).
- Each repository is walked in a *pass* of GraphQL pages; up to `github.repos_per_query`
  repositories share one query (aliases), each with its own cursor. The first pass is full (open
  issues, newest first); later passes ask only for issues updated since the repository's
  watermark (any state, oldest change first), so an unchanged repository costs a share of one
  request and closed issues come back exactly once.
- After every page, the page's issues are upserted, then its signals and the repository's new
  cursor are saved in one transaction: a run killed at any point resumes from the saved cursor,
  refetching at most the page it was storing, and loses nothing stored before.
- Issues that close, get an assignee, a linked pull request or a claim comment are updated in the
  store (state, assignees, linked_prs, claimed), which takes them out of the candidate pool
  (`load_issues(open_only=True)` + `Issue.is_taken`). A complete full pass also takes out stored
  open issues it no longer sees (relabelled, deleted, transferred): state "unlisted".
- A repository that fails (not found, malformed answer, retries exhausted) is reported with a
  one-line reason and keeps its saved progress; the others go on. A bad token, an exhausted
  rate limit or no network at all stops the run (every further request would fail the same way).
- A query GitHub gives up on (502/504, timeout, RESOURCE_LIMITS_EXCEEDED) is asked again smaller
  (`QuerySize`), never resent as it was; the size that worked is kept for the rest of the run.
  An error inside one issue keeps the page; that issue is refetched by number at the end.
- Then the welcoming figures (matcher.github.welcome) of the synced repositories older than
  `github.welcome_refresh_days`, `github.welcome_repos_per_query` repositories a query, shrunk
  the same way when GitHub gives up.
- At the end, the open, untaken issues of the synced repositories are embedded; only texts whose
  hash is not cached are encoded, so an unchanged sync encodes nothing. With `make_embedder` the
  model is loaded only then, and only if GitHub answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from matcher.catalog import Catalog, Labels, load_catalog
from matcher.errors import (
    AuthError,
    ConfigError,
    GitHubError,
    MalformedResponseError,
    RateLimitError,
    UnreachableError,
)
from matcher.github import (
    PAGE_SIZE,
    PROBE_PAGE_SIZE,
    GitHubClient,
    QueryTooHeavy,
    RepoMeta,
    RepoPage,
    RepoRequest,
)
from matcher.github.parse import parse_issue, parse_repo_meta
from matcher.github.welcome import WelcomeBatch, fetch_welcome
from matcher.models import Issue, Welcome
from matcher.redact import redact
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.issues import load_issues, load_welcome, save_welcome, upsert_issues
from matcher.store.sync_state import (
    RepoMetaRecord,
    RepoSyncState,
    get_discovery,
    load_repo_meta,
    load_sync_states,
    mark_unlisted,
    put_discovery,
    refresh_issue_repo_fields,
    save_page_progress,
    save_repo_meta,
    save_sync_state,
)

log = logging.getLogger(__name__)

WATERMARK_MARGIN = timedelta(minutes=10)  # clock skew allowance when a pass saw no issue at all

# GitHub topics that name one of our niches (config/repos.yaml `niches:`).
TOPIC_NICHES = {
    "nlp": "nlp",
    "natural-language-processing": "nlp",
    "transformers": "nlp",
    "computer-vision": "vision",
    "image-processing": "vision",
    "object-detection": "vision",
    "reinforcement-learning": "rl",
    "robotics": "robotics",
    "audio": "audio",
    "speech-recognition": "speech",
    "speech": "speech",
    "mlops": "mlops",
    "llm": "llm-apps",
    "large-language-models": "llm-apps",
    "rag": "llm-apps",
    "time-series": "time-series",
    "forecasting": "time-series",
    "recommender-system": "recsys",
    "graph-neural-networks": "graph",
    "data-visualization": "visualization",
    "visualization": "visualization",
    "explainable-ai": "explainability",
    "bayesian-inference": "probabilistic",
    "deep-learning": "deep-learning-frameworks",
    "gpu": "gpu-performance",
    "cuda": "gpu-performance",
    "scikit-learn": "classical-ml",
    "tabular-data": "tabular",
    "dataframe": "data-tooling",
}


class SyncProgress(Protocol):
    """What a front end (the CLI's progress bars) hears during a sync."""

    def repo_started(self, repo: str, mode: str) -> None: ...

    def repo_advanced(self, repo: str, fetched: int, total: int | None) -> None: ...

    def repo_finished(self, repo: str, ok: bool, message: str) -> None: ...


class _NoProgress:
    def repo_started(self, repo: str, mode: str) -> None:
        pass

    def repo_advanced(self, repo: str, fetched: int, total: int | None) -> None:
        pass

    def repo_finished(self, repo: str, ok: bool, message: str) -> None:
        pass


@dataclass
class SyncReport:
    """What a sync did and what it cost."""

    repos_ok: list[str] = field(default_factory=list)
    repos_failed: dict[str, str] = field(default_factory=dict)
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    left_pool: int = 0  # issues that were candidates and now are closed, taken or unlisted
    candidates: int = 0  # open, untaken issues of the synced repositories after the sync
    embedded: int = 0
    requests: int = 0
    graphql_requests: int = 0
    rest_requests: int = 0
    not_modified: int = 0
    retries: int = 0
    graphql_points: int = 0
    rate_limit_remaining: int | None = None
    shrinks: int = 0  # times a heavy query was asked again smaller
    repos_per_query: int = 0  # the query size that worked, learned during this run
    issues_per_page: int = 0
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (rate limit), if it did
    welcome_queries: int = 0  # repositories whose welcoming figures were stored this run
    welcome_requests: int = 0  # the queries that asked them (several repositories each)
    welcome_points: int = 0  # what those queries cost (also counted in graphql_points)
    welcome_shrinks: int = 0  # times a heavy welcoming query was asked again smaller
    welcome_repos_per_query: int = 0  # the welcoming query size that worked in this run
    welcome_failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


REFETCH_BATCH = 20
MIN_ISSUES_PER_PAGE = 5
SHRINK_REPOS_BELOW = 25  # halve issues per page down to this before fewer repositories a query


@dataclass
class QuerySize:
    """How much one issues query asks: repositories per query x issues per page.

    GitHub gives up on heavy queries (502/504 after 10 s, timeouts, RESOURCE_LIMITS_EXCEEDED);
    each give-up halves the size, issues first, and the run keeps the size that worked.
    """

    repos: int
    issues: int = PAGE_SIZE

    def shrink(self) -> bool:
        """A smaller size to try next; False when there is nothing left to shrink."""
        if self.issues > SHRINK_REPOS_BELOW:
            self.issues = max(SHRINK_REPOS_BELOW, self.issues // 2)
        elif self.repos > 1:
            self.repos = max(1, self.repos // 2)
        elif self.issues > MIN_ISSUES_PER_PAGE:
            self.issues = max(MIN_ISSUES_PER_PAGE, self.issues // 2)
        else:
            return False
        return True

    @classmethod
    def repositories_only(cls, repos: int) -> QuerySize:
        """The size of a query with fixed pages (the welcoming one): only repositories shrink."""
        return cls(repos, issues=MIN_ISSUES_PER_PAGE)

    @property
    def smallest(self) -> bool:
        return self.repos == 1 and self.issues <= MIN_ISSUES_PER_PAGE


@dataclass
class _Work:
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


def _candidate(issue: Issue | None) -> bool:
    return issue is not None and issue.is_open and not issue.is_taken


def discover_repos(
    db: Database, settings: Settings, client: GitHubClient, *, limit: int = 30
) -> list[RepoMetaRecord]:
    """Repositories by GitHub topic (REST search, conditional on the last ETag per topic)."""
    topics = settings.github.discover_topics
    if not topics:
        return []
    stored = {
        t: get_discovery(db, f"topic:{t}:{settings.github.discover_min_stars}")[0] for t in topics
    }
    etags = {t: e for t, e in stored.items() if e}
    answers = client.rest.discover(
        topics, settings.github.discover_min_stars, limit=limit, etags=etags
    )
    found: dict[str, RepoMetaRecord] = {}
    for topic, answer in answers.items():
        key = f"topic:{topic}:{settings.github.discover_min_stars}"
        if answer.not_modified:
            _, cached = get_discovery(db, key)
            metas = [RepoMeta(**{**m, "topics": tuple(m.get("topics", ()))}) for m in cached]
        else:
            metas = list(answer.data)
            put_discovery(db, key, answer.etag, [asdict(m) for m in metas])
        for meta in metas:
            if meta.archived:
                continue
            niches = tuple(dict.fromkeys(TOPIC_NICHES[t] for t in meta.topics if t in TOPIC_NICHES))
            found.setdefault(
                meta.repo,
                RepoMetaRecord(
                    meta.repo,
                    meta.description,
                    meta.stars,
                    meta.language,
                    meta.topics,
                    niches,
                    False,
                    "discovered",
                ),
            )
    return list(found.values())


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
    progress = progress or _NoProgress()
    report = SyncReport()
    targets, niches = _targets(catalog, repos)
    if discover:
        _add_discovered(db, settings, client, targets, niches)
    if not targets:
        raise ConfigError("no repositories to sync: config/repos.yaml is empty and none were given")

    queue = _plan(db, targets, niches, full, now)
    size = QuerySize(settings.github.repos_per_query)
    stop_reason = _fetch(
        db, settings, client, report, progress, catalog.labels, label_names, queue, size, now
    )
    report.repos_per_query, report.issues_per_page = size.repos, size.issues
    if stop_reason:
        stop_reason = redact(stop_reason)
        report.stopped = stop_reason
        for work in queue:
            report.repos_failed[work.repo] = stop_reason
            work.state.last_error = stop_reason
            save_sync_state(db, work.state)
            progress.repo_finished(work.repo, False, stop_reason)
    else:
        refresh_welcome(db, settings, client, report.repos_ok, report, now or datetime.now(UTC))

    pool = [i for i in load_issues(db, open_only=True, repos=targets) if not i.is_taken]
    report.candidates = len(pool)
    if embedder is None and make_embedder is not None and pool and client.connected:
        embedder = make_embedder()
    if embedder is not None and pool:
        from matcher.embedding import issue_vectors

        _matrix, report.embedded = issue_vectors(db, embedder, pool)
    _add_costs(report, client.stats())
    report.seconds = round(time.monotonic() - started, 3)
    return report


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


def _targets(
    catalog: Catalog, repos: Sequence[str] | None
) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The repositories to sync, each once, in the catalogue's spelling, and their niches."""
    niches = {r.repo: r.niches for r in catalog.repos}
    # GitHub names are case-insensitive: "ACME/Vision" is the catalogue's "acme/vision"
    spelled = {r.repo.lower(): r.repo for r in catalog.repos}
    wanted = repos if repos is not None else [r.repo for r in catalog.repos]
    targets = list(
        {spelled.get(r.lower(), r).lower(): spelled.get(r.lower(), r) for r in wanted}.values()
    )
    return targets, niches


def _add_discovered(
    db: Database,
    settings: Settings,
    client: GitHubClient,
    targets: list[str],
    niches: dict[str, tuple[str, ...]],
) -> None:
    for record in discover_repos(db, settings, client):
        if record.repo.lower() not in {t.lower() for t in targets}:
            targets.append(record.repo)
            niches[record.repo] = record.niches
            save_repo_meta(db, record)


def _plan(
    db: Database,
    targets: list[str],
    niches: dict[str, tuple[str, ...]],
    full: bool,
    now: datetime | None,
) -> list[_Work]:
    """One unit of work per repository: resume an unfinished pass, or start a new one."""
    states = load_sync_states(db, targets)
    # stored issues by repository (GitHub's spelling may differ in case from the target's)
    stored: dict[str, dict[str, Issue]] = {}
    for issue in load_issues(db, open_only=False, repos=targets):
        stored.setdefault(issue.repo.lower(), {})[issue.url] = issue
    queue: list[_Work] = []
    for repo in targets:
        state = states.get(repo) or RepoSyncState(repo)
        resumed = state.in_progress and not full
        if not resumed:
            mode = "full" if (full or state.watermark is None) else "incremental"
            state.pass_mode = mode
            state.pass_since = None if mode == "full" else state.watermark
            state.pass_started_at = now or datetime.now(UTC)
            state.cursor = None
            state.pass_max_updated = None
            state.pass_fetched = 0
        first = (
            PROBE_PAGE_SIZE
            if state.pass_mode == "incremental" and state.cursor is None
            else PAGE_SIZE
        )
        known = stored.get(repo.lower(), {})
        queue.append(_Work(repo, state, tuple(niches.get(repo, ())), first, known, resumed))
    return queue


def _fetch(
    db: Database,
    settings: Settings,
    client: GitHubClient,
    report: SyncReport,
    progress: SyncProgress,
    labels: Labels,
    label_names: Sequence[str],
    queue: list[_Work],
    size: QuerySize,
    now: datetime | None,
) -> str | None:
    """Page through the queue, `size.repos` repositories per GraphQL request, storing each page.

    Returns why the run stopped early (the rate limit), or None; on return `queue` holds the
    repositories left unfinished by an early stop. A query GitHub gives up on is asked again
    smaller (QuerySize); issues with an error inside are refetched once their page is stored.
    """
    cap = settings.github.issues_per_repo
    active: list[_Work] = []
    seen: dict[str, _Work] = {}
    while queue or active:
        while queue and len(active) < size.repos:
            work = queue.pop(0)
            progress.repo_started(work.repo, work.state.pass_mode or "full")
            active.append(work)
        queue[:0], active = active[size.repos :], active[: size.repos]
        seen.update((w.repo, w) for w in active)
        requests = [
            RepoRequest(
                w.repo,
                after=w.state.cursor,
                since=w.state.pass_since,
                first=min(w.first, size.issues, max(1, cap - w.state.pass_fetched)),
            )
            for w in active
        ]
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
                _fail(db, report, progress, work, str(exc))
            active = []
            continue
        active = _store_answer(db, report, progress, labels, active, answer.pages, cap, now)
        if any(page.heavy for page in answer.pages):
            size.shrink()
            report.shrinks += 1
    _refetch_incomplete(db, client, report, labels, seen.values(), now)
    return None


def _store_answer(
    db: Database,
    report: SyncReport,
    progress: SyncProgress,
    labels: Labels,
    active: list[_Work],
    pages: list[RepoPage],
    cap: int,
    now: datetime | None,
) -> list[_Work]:
    """Store each repository's page; returns the repositories with more to fetch."""
    still: list[_Work] = []
    for work, page in zip(active, pages, strict=True):
        if page.heavy:
            still.append(work)  # GitHub gave up on this share: same cursor, smaller query
            continue
        if page.error:
            _fail(db, report, progress, work, page.error)
            continue
        try:
            done = _store_page(db, report, labels, work, page, cap, now)
        except MalformedResponseError as exc:
            _fail(db, report, progress, work, str(exc))
            continue
        progress.repo_advanced(work.repo, work.state.pass_fetched, page.total)
        if done:
            report.repos_ok.append(work.repo)
            progress.repo_finished(work.repo, True, f"{work.state.pass_fetched} fetched")
        else:
            work.first = PAGE_SIZE
            still.append(work)
    return still


def _refetch_incomplete(
    db: Database,
    client: GitHubClient,
    report: SyncReport,
    labels: Labels,
    works: Iterable[_Work],
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


def _add_costs(report: SyncReport, stats: dict) -> None:
    """What the run cost, from the client's counters."""
    for name in (
        "requests",
        "graphql_requests",
        "rest_requests",
        "not_modified",
        "retries",
        "graphql_points",
        "rate_limit_remaining",
    ):
        setattr(report, name, stats[name])


def _store_page(
    db: Database,
    report: SyncReport,
    labels: Labels,
    work: _Work,
    page,
    cap: int,
    now: datetime | None,
) -> bool:
    """Store one page of one repository and its progress; True when its pass is done."""
    state = work.state
    if page.meta is not None and work.meta is None:
        meta = parse_repo_meta(page.meta, work.repo)
        if meta.repo.lower() != work.repo.lower():
            # followRenames: GitHub answers under the new name; we keep the configured one
            log.info(
                "%s was renamed to %s on GitHub; config/repos.yaml may say so", work.repo, meta.repo
            )
            meta = replace(meta, repo=work.repo)
        work.meta = meta
        _save_meta(db, work)
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
    counts = upsert_issues(db, issues)
    report.added += counts.added
    report.changed += counts.changed
    report.unchanged += counts.unchanged
    for issue in issues:
        if _candidate(work.known.get(issue.url)) and not _candidate(issue):
            report.left_pool += 1
        work.known[issue.url] = issue
    state.pass_fetched += len(page.nodes)
    work.incomplete.update(page.incomplete)
    done = not page.has_next or state.pass_fetched >= cap
    if done:
        if state.pass_mode == "full" and not page.has_next and not work.resumed:
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
    else:
        state.cursor = page.end_cursor
    save_page_progress(db, state, signals)
    return done


def _save_meta(db: Database, work: _Work) -> None:
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


def _fail(
    db: Database, report: SyncReport, progress: SyncProgress, work: _Work, reason: str
) -> None:
    reason = " ".join(redact(reason).split())[:300]  # stored in last_error: never a secret
    report.repos_failed[work.repo] = reason
    work.state.last_error = reason
    save_sync_state(db, work.state)  # the cursor stays: the next run resumes this pass
    progress.repo_finished(work.repo, False, reason)
    log.warning("%s: %s", work.repo, reason)
