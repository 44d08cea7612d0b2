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

Where each step lives
- targets.py: which repositories (the catalogue's, the caller's, those found by topic) and niches.
- plan.py: each repository's pass in this run (resumed, full or incremental).
- fetch.py: asking GitHub for the pages, a batch of repositories a query; refetching by number.
- size.py: how much one query asks, and how it shrinks when GitHub gives up.
- save.py: storing each page, its progress and the repository's metadata; failing a repository.
- welcome.py: refreshing the welcoming figures.
- report.py: the run's report and the progress a front end hears.
- run.py: the sync pass itself.
"""

from matcher.sync.fetch import REFETCH_BATCH
from matcher.sync.report import SyncProgress, SyncReport
from matcher.sync.run import sync
from matcher.sync.save import WATERMARK_MARGIN
from matcher.sync.size import MIN_ISSUES_PER_PAGE, SHRINK_REPOS_BELOW, QuerySize
from matcher.sync.targets import TOPIC_NICHES, discover_repos
from matcher.sync.welcome import refresh_welcome

__all__ = [
    "MIN_ISSUES_PER_PAGE",
    "REFETCH_BATCH",
    "SHRINK_REPOS_BELOW",
    "TOPIC_NICHES",
    "WATERMARK_MARGIN",
    "QuerySize",
    "SyncProgress",
    "SyncReport",
    "discover_repos",
    "refresh_welcome",
    "sync",
]
