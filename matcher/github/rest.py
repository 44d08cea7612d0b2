"""REST calls through PyGithub: repository and user lookups, and topic discovery by search.

PyGithub keeps its own HTTP stack (requests + urllib3); its retries follow the same `RetryPolicy`
as the GraphQL transport (pygithub.PolicyRetry), and every PyGithub or requests exception becomes
a `matcher.errors` type; the client and the translation are the shared ones of pygithub.py.
Conditional requests: each lookup takes the ETag of the previous run and answers "not modified"
(a 304, which GitHub does not charge) instead of data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matcher.errors import MalformedResponseError
from matcher.github.parse import RepoMeta, parse_rest_repo
from matcher.github.policy import RetryPolicy
from matcher.github.pygithub import make_github, translated

log = logging.getLogger(__name__)


@dataclass
class Conditional:
    """The answer to a conditional GET: `data` is None when the resource did not change."""

    data: Any
    etag: str | None
    not_modified: bool


class RestClient:
    """PyGithub with our base URL, token, timeout and the shared retry policy."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
    ):
        self.policy = policy or RetryPolicy()
        self.github = make_github(
            base_url,
            token,
            policy=self.policy,
            timeout=timeout,
            retries=self.policy.max_retries,
        )

    def _count(self) -> None:
        self.policy.stats.requests += 1
        self.policy.stats.rest_requests += 1

    @property
    def rate_remaining(self) -> int | None:
        remaining, _limit = self.github.rate_limiting
        return remaining if remaining >= 0 else None

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        etag: str | None = None,
        *,
        what: str | None = None,
    ) -> Conditional:
        """A conditional GET of a REST path; a 304 comes back as `not_modified`.

        `what` names the resource in error messages (default: the path).
        """
        headers = {"If-None-Match": etag} if etag else {}
        self._count()
        with translated(what or path.split("?")[0]):
            response_headers, data = self.github.requester.requestJsonAndCheck(
                "GET", path, parameters=params, headers=headers
            )
        self.policy.succeeded()
        new_tag = response_headers.get("etag")
        if data is None and etag:  # 304: PyGithub hands back an empty body
            self.policy.stats.not_modified += 1
            return Conditional(None, etag, True)
        return Conditional(data, new_tag, False)

    def repository(self, repo: str, etag: str | None = None) -> tuple[RepoMeta | None, str | None]:
        """Metadata of one repository; (None, etag) when unchanged since `etag`."""
        answer = self.get(f"/repos/{repo}", etag=etag, what=f"repository {repo}")
        if answer.not_modified:
            return None, answer.etag
        return parse_rest_repo(answer.data), answer.etag

    def user(self, login: str) -> dict[str, Any]:
        """A user's public profile (login, name, public_repos, ...)."""
        self._count()
        with translated(f"user '{login}'"):
            user = self.github.get_user(login)
            found = {"login": user.login, "name": user.name, "public_repos": user.public_repos}
        self.policy.succeeded()
        return found

    def search_repositories(
        self, query: str, *, limit: int = 100, etag: str | None = None
    ) -> Conditional:
        """First page of a repository search, most stars first; items parsed to RepoMeta."""
        params = {"q": query, "sort": "stars", "order": "desc", "per_page": min(100, max(1, limit))}
        answer = self.get(
            "/search/repositories", params=params, etag=etag, what=f"repositories ({query})"
        )
        if answer.not_modified:
            return answer
        items = answer.data.get("items") if isinstance(answer.data, dict) else None
        if not isinstance(items, list):
            raise MalformedResponseError("GitHub /search/repositories: answer has no items")
        return Conditional([parse_rest_repo(item) for item in items[:limit]], answer.etag, False)

    def discover(
        self,
        topics: Sequence[str],
        min_stars: int,
        *,
        limit: int = 30,
        etags: dict[str, str] | None = None,
    ) -> dict[str, Conditional]:
        """Repositories per GitHub topic with at least `min_stars` stars, not archived."""
        found: dict[str, Conditional] = {}
        for topic in topics:
            query = f"topic:{topic} stars:>={min_stars} archived:false"
            found[topic] = self.search_repositories(
                query, limit=limit, etag=(etags or {}).get(topic)
            )
        return found

    def close(self) -> None:
        self.github.close()
