"""Merged pull requests of a GitHub login through PyGithub: search, details, repos, reverts."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from github import Auth, Github

from matcher.errors import (
    AuthError,
    GitHubError,
    GitHubNotFoundError,
    MalformedResponseError,
    UnreachableError,
)
from matcher.github.graphql import GraphQLClient
from matcher.github.policy import RetryPolicy
from matcher.github.pygithub import (
    DEFAULT_API_URL,
    PER_PAGE,
    THROTTLE_SECONDS,
    PolicyRetry,
    translated,
)
from matcher.github.pygithub import make_github as _make_github
from matcher.github.transport import Transport
from matcher.models import Contribution, parse_github_login
from matcher.settings import GitHubSettings, github_token

log = logging.getLogger(__name__)

SEARCH_PAGE = PER_PAGE
SEARCH_CAP = 1000  # GitHub search returns at most this many results of one query
SEARCH_EPOCH = date(2008, 1, 1)  # no pull request was merged on GitHub before this
GRAPHQL_BATCH = 50
REVERT_REPOS_PER_QUERY = 8

# "closes #12", "Fixes owner/repo#12", "resolved https://github.com/owner/repo/issues/12"
_CLOSING = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+"
    r"(?:(?P<repo>[\w.-]+/[\w.-]+)?#(?P<num>\d+)"
    r"|https?://github\.com/(?P<urlrepo>[\w.-]+/[\w.-]+)/issues/(?P<urlnum>\d+))",
    re.IGNORECASE,
)
# GitHub's revert button writes "Reverts owner/repo#12"; people also paste the pull URL
_REVERTS = re.compile(
    r"\breverts?\s+(?:(?P<repo>[\w.-]+/[\w.-]+)?#(?P<num>\d+)"
    r"|https?://github\.com/(?P<urlrepo>[\w.-]+/[\w.-]+)/pull/(?P<urlnum>\d+))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class GitHubUser:
    id: int
    login: str
    name: str | None = None
    bio: str | None = None
    html_url: str | None = None


def checked_user(raw: Any, what: str) -> GitHubUser:
    """A GitHubUser from PyGithub's user, or MalformedResponseError when the answer is not one.

    GitHub's answer must carry a numeric id and a login: a proxy's page or a garbled body that
    PyGithub turns into a user of None fields would otherwise be linked and issued a code.
    """
    data = getattr(raw, "raw_data", None)
    if not isinstance(data, dict):
        raise MalformedResponseError(f"GitHub's answer for {what} is not a user")
    github_id, login = data.get("id"), data.get("login")
    if isinstance(github_id, bool) or not isinstance(github_id, int) or github_id <= 0:
        raise MalformedResponseError(f"GitHub's answer for {what} has no numeric user id")
    if not isinstance(login, str) or parse_github_login(login) != login:
        raise MalformedResponseError(f"GitHub's answer for {what} has no valid login")
    return GitHubUser(
        id=github_id,
        login=login,
        name=_text(data.get("name")),
        bio=_text(data.get("bio")),
        html_url=_text(data.get("html_url")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    stars: int | None
    language: str | None
    topics: tuple[str, ...]
    private: bool = False


@dataclass
class Counter:
    """Requests made by one client, by kind, for the report of a refresh."""

    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.by_kind[kind] = self.by_kind.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def issue_url(repo: str, number: int | str) -> str:
    """The canonical web URL of an issue (owner/repo lowercased: GitHub ignores its case)."""
    return f"https://github.com/{repo.lower()}/issues/{int(number)}"


def pull_url(repo: str, number: int | str) -> str:
    return f"https://github.com/{repo}/pull/{int(number)}"


def normalize_issue_url(url: str) -> str:
    """https://github.com/Owner/Repo/issues/3 and .../pull/3 and the API form all map to one key."""
    m = re.search(
        r"(?:github\.com/(?:repos/)?|/repos/)([\w.-]+/[\w.-]+)/(?:issues|pulls?)/(\d+)", url
    )
    return issue_url(m.group(1), m.group(2)) if m else url.strip().lower()


def _refs(pattern: re.Pattern, text: str | None, repo: str) -> tuple[str, ...]:
    """Issue-form URLs of the references `pattern` finds ("#3", "o/r#4", full URLs), each once."""
    found: list[str] = []
    for m in pattern.finditer(text or ""):
        if m.group("num"):
            url = issue_url(m.group("repo") or repo, m.group("num"))
        else:
            url = issue_url(m.group("urlrepo"), m.group("urlnum"))
        if url not in found:
            found.append(url)
    return tuple(found)


def parse_closing_refs(body: str | None, repo: str) -> tuple[str, ...]:
    """Issue URLs a pull request body says it closes ("fixes #3", "closes o/r#4", full URLs)."""
    return _refs(_CLOSING, body, repo)


def parse_reverted_refs(title: str | None, body: str | None, repo: str) -> tuple[str, ...]:
    """Pull request URLs (lowercased issue form) that a revert pull request says it reverts."""
    return _refs(_REVERTS, body, repo)


def _repo_of(url: str) -> str:
    """'owner/name' from an API or web URL of a repository, issue or pull request."""
    m = re.search(r"/repos/([^/]+/[^/?#]+)", url) or re.search(r"github\.com/([^/]+/[^/?#]+)", url)
    return m.group(1) if m else ""


def make_github(
    api_url: str = DEFAULT_API_URL,
    token: str | None = None,
    *,
    retries: int = 3,
    timeout: float = 30,
    policy: RetryPolicy | None = None,
) -> Github:
    """The portfolio's PyGithub client (pygithub.make_github): retries 5xx with a short backoff,
    never waits out a rate limit (RateLimitError at once), throttled only against github.com."""
    policy = policy or portfolio_policy(api_url, retries)
    return _make_github(
        api_url,
        token,
        policy=policy,
        timeout=timeout,
        retries=retries,
        retry_statuses=(500, 502, 503, 504),
        per_page=SEARCH_PAGE,
        throttle=THROTTLE_SECONDS,
    )


def portfolio_policy(api_url: str, retries: int) -> RetryPolicy:
    """A person waits for the portfolio: short backoff, and rate limits are reported, not waited."""
    backoff = 0.5 if api_url.rstrip("/") == DEFAULT_API_URL else 0.01
    return RetryPolicy(max_retries=retries, backoff_base=backoff, backoff_cap=120.0, max_wait=0)


def graphql_for(gh: Github, timeout: float = 30, url: str | None = None) -> GraphQLClient:
    """An httpx GraphQL client beside a PyGithub client: same token and retry policy, and the
    GraphQL endpoint of its API URL (api.github.com/graphql; /api/graphql on GHES) unless `url`."""
    requester = gh.requester
    retry = requester.kwargs.get("retry")
    policy = retry.policy if isinstance(retry, PolicyRetry) else RetryPolicy()
    auth = requester.auth
    token = auth.token if isinstance(auth, Auth.Token) else ""
    transport = Transport(token, policy=policy, timeout=timeout)
    return GraphQLClient(transport, url or requester.graphql_url)


def pulls_client(settings: GitHubSettings) -> PullsClient:
    """The portfolio's client from the GitHub settings and GITHUB_TOKEN (anonymous without one).

    PyGithub answers the REST calls, httpx the GraphQL ones, both under one retry policy."""
    token = github_token(required=False)
    gh = make_github(
        settings.api_url,
        token.get_secret_value() if token else None,
        retries=settings.max_retries,
        timeout=settings.timeout_seconds,
    )
    # an API URL of its own (GHES, a local fake) with the default GraphQL URL: derive it
    derived = settings.api_url.rstrip("/") != DEFAULT_API_URL and settings.graphql_url.startswith(
        DEFAULT_API_URL
    )
    url = None if derived else settings.graphql_url
    return PullsClient(gh, graphql=graphql_for(gh, settings.timeout_seconds, url))


class PullsClient:
    """What the portfolio asks GitHub; repositories are looked up once per client (one run)."""

    def __init__(
        self, gh: Github, *, graphql: GraphQLClient | None = None, use_graphql: bool = True
    ):
        self.gh = gh
        self.graphql = graphql or (graphql_for(gh) if use_graphql else None)
        self._lazy = gh.withLazy(True)  # builds URLs without fetching what we do not read
        self.use_graphql = use_graphql
        self.requests = Counter()
        self._repos: dict[str, RepoInfo | None] = {}
        # {reverted pull (issue-form URL): revert pull URL}, from bodies seen in searches
        self.reverts_seen: dict[str, str] = {}

    # --- users ---------------------------------------------------------------------------

    def user(self, login: str) -> GitHubUser:
        """The account behind a login; GitHubNotFoundError when no such login exists."""
        self.requests.add("user")
        with translated(f"user '{login}'"):
            return checked_user(self.gh.get_user(login), f"user '{login}'")

    def user_by_id(self, github_id: int) -> GitHubUser | None:
        """The account's current login by its permanent id (follows renames); None if deleted."""
        self.requests.add("user")
        try:
            with translated(f"user #{github_id}"):
                return checked_user(self.gh.get_user_by_id(int(github_id)), f"user #{github_id}")
        except GitHubNotFoundError:
            return None

    # --- merged pull requests ------------------------------------------------------------

    def merged_pulls(self, login: str, since: date | None = None) -> list[Contribution]:
        """Merged pull requests authored by login, merged on or after `since`, from the search API.

        Search returns at most 1,000 results a query: a range of merge dates holding more is
        split in two, newest half first, until every range fits (a login with 3,000 merged
        pull requests costs about four extra first pages). The search result already carries
        title, labels, body and merge date; details are filled in by `complete`.
        """
        base = f"is:pr is:merged author:{login}"
        found: dict[str, Contribution] = {}
        with translated(f"merged pull requests of '{login}'"):
            self._merged_between(base, since, None, found)
        return sorted(found.values(), key=lambda c: (c.merged_at, c.url))

    def _merged_between(
        self, base: str, lo: date | None, hi: date | None, found: dict[str, Contribution]
    ) -> None:
        query = base + _merged_range(lo, hi)
        results = self.gh.search_issues(query, sort="created", order="desc")
        page: list[Contribution] = []
        for item in results:  # the first page tells totalCount at no extra request
            if not page and results.totalCount > SEARCH_CAP and _splittable(lo, hi):
                self.requests.add("search")
                first, last = lo or SEARCH_EPOCH, hi or datetime.now(UTC).date()
                middle = first + (last - first) // 2
                self._merged_between(base, middle + timedelta(days=1), hi, found)
                self._merged_between(base, lo, middle, found)
                return
            page.append(self._from_search(item))
        total = results.totalCount if page else 0
        self.requests.add("search", max(1, -(-min(total, SEARCH_CAP) // SEARCH_PAGE)))
        if total > SEARCH_CAP:
            log.warning("%s: %d merged pull requests in one day; search returns 1000", base, total)
        for c in page:
            found.setdefault(c.url, c)

    def _from_search(self, item) -> Contribution:
        # _rawData, not raw_data: the public property "completes" the object with one more
        # request per item, and a search item already holds every field read here
        raw = item._rawData
        repo = _repo_of(raw.get("repository_url") or raw.get("html_url") or "")
        merged = (raw.get("pull_request") or {}).get("merged_at") or raw.get("closed_at")
        user = raw.get("user") or {}
        url = raw.get("html_url") or pull_url(repo, raw["number"])
        for target in parse_reverted_refs(raw.get("title"), raw.get("body"), repo):
            self.reverts_seen.setdefault(target, url)
        return Contribution(
            url=url,
            repo=repo,
            number=int(raw["number"]),
            title=raw.get("title") or "",
            merged_at=_parse_time(merged),
            author_id=user.get("id"),
            author_login=user.get("login") or "",
            labels=tuple(label["name"] for label in raw.get("labels") or [] if label.get("name")),
            closes=parse_closing_refs(raw.get("body"), repo),
            details=False,
        )

    def complete(self, pulls: Iterable[Contribution]) -> list[Contribution]:
        """Add additions, deletions, exact merge time, closing issues and repository facts.

        A pull request whose repository became private or was deleted keeps what search said
        (details=False) instead of failing the refresh.
        """
        pulls = list(pulls)
        closing = self.closing_issues(pulls)
        out: list[Contribution] = []
        for c in pulls:
            info = self.repo_info(c.repo)
            values: dict = {"closes": tuple(dict.fromkeys(c.closes + closing.get(c.url, ())))}
            if info is not None:
                values.update(
                    repo_stars=info.stars, repo_language=info.language, repo_topics=info.topics
                )
                try:
                    self.requests.add("pull")
                    with translated(f"pull request {c.url}"):
                        pr = self._lazy.get_repo(c.repo).get_pull(c.number)
                        values.update(
                            additions=pr.additions,
                            deletions=pr.deletions,
                            merged_at=pr.merged_at or c.merged_at,
                            title=pr.title or c.title,
                            labels=tuple(label.name for label in pr.labels) or c.labels,
                            details=True,
                        )
                except GitHubNotFoundError:
                    log.warning(
                        "%s: pull request not readable; stored from the search result", c.url
                    )
            out.append(_replace(c, **values))
        return out

    def repo_info(self, full_name: str) -> RepoInfo | None:
        """Stars, language and topics of a repository, cached; None when private or deleted."""
        key = full_name.lower()
        if key not in self._repos:
            self.requests.add("repo")
            try:
                with translated(f"repository {full_name}"):
                    r = self.gh.get_repo(full_name)
                    self._repos[key] = RepoInfo(
                        full_name=r.full_name,
                        stars=r.stargazers_count,
                        language=r.language,
                        topics=tuple(r.raw_data.get("topics") or ()),
                        private=bool(r.private),
                    )
            except GitHubNotFoundError:
                log.warning(
                    "repository %s is private or deleted; its pull requests keep search data",
                    full_name,
                )
                self._repos[key] = None
        return self._repos[key]

    # --- closing issues ------------------------------------------------------------------

    def closing_issues(self, pulls: list[Contribution]) -> dict[str, tuple[str, ...]]:
        """Issues each pull request closes, from GraphQL closingIssuesReferences (batched).

        A pull request GitHub answers an error for keeps the keywords parsed from its body; a
        batch that fails as a whole is skipped, the next batches are still asked.
        """
        if not self.use_graphql or self.graphql is None or not pulls:
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for start in range(0, len(pulls), GRAPHQL_BATCH):
            urls = [c.url for c in pulls[start : start + GRAPHQL_BATCH]]
            self.requests.add("graphql")
            try:
                answers = self.graphql.closing_refs(urls)
            except (AuthError, UnreachableError):
                raise
            except GitHubError as exc:
                log.info("GraphQL closing references unavailable for %d pulls (%s)", len(urls), exc)
                continue
            for url, refs in answers.items():
                normalized = tuple(normalize_issue_url(u) for u in refs or ())
                if normalized:
                    out[url] = normalized
        return out

    # --- reverts -------------------------------------------------------------------------

    def reverts(self, repos: Iterable[str], since: date | None) -> dict[str, str]:
        """{reverted pull URL (issue form): revert pull URL} for merged reverts in these repos."""
        repos = sorted(set(repos))
        found: dict[str, str] = {}
        for start in range(0, len(repos), REVERT_REPOS_PER_QUERY):
            chunk = repos[start : start + REVERT_REPOS_PER_QUERY]
            # Space-joined qualifiers mean AND under GitHub's advanced search: name the
            # repositories as one OR group.
            repos_any = " OR ".join(f"repo:{r}" for r in chunk)
            query = f"is:pr is:merged revert in:title ({repos_any})"
            if since is not None:
                query += f" merged:>={since.isoformat()}"
            try:
                with translated("revert pull requests"):
                    results = self.gh.search_issues(query)
                    for item in results:
                        raw = item._rawData
                        repo = _repo_of(raw.get("repository_url") or raw.get("html_url") or "")
                        for target in parse_reverted_refs(raw.get("title"), raw.get("body"), repo):
                            found.setdefault(target, raw.get("html_url") or "")
                    self.requests.add(
                        "search", max(1, -(-min(results.totalCount, 1000) // SEARCH_PAGE))
                    )
            except GitHubNotFoundError as exc:
                # a repository in the query became private or was deleted: skip this chunk
                log.warning("revert search skipped: %s", exc)
        return found


def _merged_range(lo: date | None, hi: date | None) -> str:
    if lo and hi:
        return f" merged:{lo.isoformat()}..{hi.isoformat()}"
    if lo:
        return f" merged:>={lo.isoformat()}"
    return f" merged:<={hi.isoformat()}" if hi else ""


def _splittable(lo: date | None, hi: date | None) -> bool:
    return (hi or datetime.now(UTC).date()) > (lo or SEARCH_EPOCH)


def _replace(c: Contribution, **values) -> Contribution:
    from dataclasses import replace

    return replace(c, **values)


def _parse_time(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
