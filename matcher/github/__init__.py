"""All GitHub traffic of the matcher: GraphQL (httpx) for issues, REST (PyGithub) for lookups.

    client = connect(settings.github, github_token())      # or base URLs of a local fake
    answer = client.graphql.issue_pages([RepoRequest("owner/name")], labels)
    found = client.rest.discover(["nlp"], min_stars=500)
    client.stats()                                          # requests, GraphQL points, rate left

Callers only ever see `matcher.errors` exceptions (GitHubError, AuthError, RateLimitError,
MalformedResponseError), never httpx or PyGithub ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from matcher.github.graphql import (
    PAGE_SIZE,
    PROBE_PAGE_SIZE,
    BatchAnswer,
    GraphQLClient,
    RepoPage,
    RepoRequest,
)
from matcher.github.parse import (
    IssueSignals,
    RepoMeta,
    parse_issue,
    parse_repo_meta,
    parse_rest_repo,
)
from matcher.github.policy import RetryPolicy, Stats
from matcher.github.rest import RestClient
from matcher.github.transport import QueryTooHeavy, Transport
from matcher.settings import GitHubSettings

__all__ = [
    "PAGE_SIZE",
    "PROBE_PAGE_SIZE",
    "BatchAnswer",
    "QueryTooHeavy",
    "RetryPolicy",
    "GitHubClient",
    "GraphQLClient",
    "IssueSignals",
    "RepoMeta",
    "RepoPage",
    "RepoRequest",
    "RestClient",
    "Stats",
    "Transport",
    "connect",
    "parse_issue",
    "parse_repo_meta",
    "parse_rest_repo",
]


class GitHubClient:
    """The GraphQL client (httpx) and a lazily built REST client (PyGithub) under one policy."""

    def __init__(
        self,
        token: str,
        settings: GitHubSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        backoff_base: float = 1.0,
        max_wait: float = 900.0,
        **transport_options: Any,
    ):
        self._token = token
        self.settings = settings
        self.policy = RetryPolicy(
            max_retries=settings.max_retries,
            backoff_base=backoff_base,
            max_wait=max_wait,
            sleep=sleep,
            clock=clock,
        )
        self.transport = Transport(
            token, policy=self.policy, timeout=settings.timeout_seconds, **transport_options
        )
        self.graphql = GraphQLClient(self.transport, settings.graphql_url)
        self._rest: RestClient | None = None

    @property
    def rest(self) -> RestClient:
        if self._rest is None:
            self._rest = RestClient(
                self._token,
                self.settings.api_url,
                policy=self.policy,
                timeout=self.settings.timeout_seconds,
            )
        return self._rest

    @property
    def connected(self) -> bool:
        """True once any request of this client got an answer from GitHub."""
        return self.policy.connected

    def stats(self) -> dict[str, Any]:
        """Requests (GraphQL + REST), 304s, retries, GraphQL points and the rate limit left."""
        return self.policy.stats.as_dict()

    def close(self) -> None:
        self.transport.close()
        if self._rest is not None:
            self._rest.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(settings: GitHubSettings, token: SecretStr | str, **options: Any) -> GitHubClient:
    """A client for the configured API URLs (`settings.api_url`, `settings.graphql_url`)."""
    raw = token.get_secret_value() if isinstance(token, SecretStr) else token
    return GitHubClient(raw, settings, **options)
