"""REST calls through PyGithub: repository and user lookups, and topic discovery by search.

PyGithub keeps its own HTTP stack (requests + urllib3 Retry). We configure its `GithubRetry` to
retry 5xx and rate-limit answers a capped number of times, with its sleeps going through the same
injectable `sleep` as the httpx transport, and we translate every PyGithub or requests exception
into a `matcher.errors` type here. Conditional requests: each lookup takes the ETag of the
previous run and answers "not modified" (a 304, which GitHub does not charge) instead of data.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import github
import requests
import urllib3
from github import Auth, Github, GithubException, GithubRetry

from matcher.errors import AuthError, GitHubError, MalformedResponseError, RateLimitError
from matcher.github.parse import RepoMeta, parse_rest_repo

log = logging.getLogger(__name__)


@dataclass
class Conditional:
    """The answer to a conditional GET: `data` is None when the resource did not change."""

    data: Any
    etag: str | None
    not_modified: bool


def _retry_class(sleep: Callable[[float], None], counter: list[int]) -> type[GithubRetry]:
    class _Retry(GithubRetry):
        """GithubRetry whose waits go through an injectable sleep, and which counts its retries."""

        def increment(self, *args, **kwargs):
            counter[0] += 1
            return super().increment(*args, **kwargs)

        def sleep(self, response=None) -> None:  # noqa: D401 - urllib3 hook
            if self.respect_retry_after_header and response is not None:
                seconds = self.get_retry_after(response)
                if seconds is not None:
                    sleep(seconds)
                    return
            backoff = self.get_backoff_time()
            if backoff > 0:
                sleep(backoff)

    return _Retry


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """PyGithub, requests and urllib3 exceptions -> matcher.errors, one line, never the token."""
    try:
        yield
    except github.BadCredentialsException:
        raise AuthError(
            "GitHub rejected the token (Bad credentials); check GITHUB_TOKEN or GITHUB_TOKEN_FILE"
        ) from None
    except github.RateLimitExceededException:
        raise RateLimitError(f"GitHub {what}: rate limit exhausted; try again later") from None
    except github.UnknownObjectException:
        raise GitHubError(f"GitHub {what}: not found") from None
    except GithubException as exc:
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        if exc.status == 401:
            raise AuthError("GitHub rejected the token; check GITHUB_TOKEN or GITHUB_TOKEN_FILE") from None
        raise GitHubError(f"GitHub {what}: HTTP {exc.status}{': ' + str(message)[:200] if message else ''}") from None
    except (requests.exceptions.RetryError, urllib3.exceptions.MaxRetryError):
        raise GitHubError(f"GitHub {what}: still failing after retries") from None
    except requests.exceptions.Timeout:
        raise GitHubError(f"GitHub {what}: timed out") from None
    except requests.exceptions.RequestException as exc:
        raise GitHubError(f"GitHub {what}: connection failed ({exc.__class__.__name__})") from None
    except ValueError:
        raise MalformedResponseError(f"GitHub {what}: malformed JSON in the answer") from None


class RestClient:
    """PyGithub with our base URL, token, timeout and retry policy."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        secondary_wait: float = 60.0,
        max_wait: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._retries = [0]
        self.calls = 0
        self.not_modified = 0
        retry = _retry_class(sleep, self._retries)(
            total=max_retries,
            backoff_factor=backoff_base,
            backoff_max=60.0,
            secondary_rate_wait=secondary_wait,
            max_rate_limit_wait=max_wait,
            raise_on_status=False,
        )
        self.github = Github(
            base_url=base_url.rstrip("/"),
            auth=Auth.Token(token),
            timeout=max(1, math.ceil(timeout)),
            retry=retry,
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )

    @property
    def requests(self) -> int:
        """HTTP requests sent: calls plus PyGithub's own retries."""
        return self.calls + self._retries[0]

    @property
    def rate_remaining(self) -> int | None:
        remaining, _limit = self.github.rate_limiting
        return remaining if remaining >= 0 else None

    def get(self, path: str, params: dict[str, Any] | None = None, etag: str | None = None) -> Conditional:
        """A conditional GET of a REST path; a 304 comes back as `not_modified`."""
        headers = {"If-None-Match": etag} if etag else {}
        self.calls += 1
        with _translated(path.split("?")[0]):
            response_headers, data = self.github.requester.requestJsonAndCheck(
                "GET", path, parameters=params, headers=headers
            )
        new_tag = response_headers.get("etag")
        if data is None and etag:  # 304: PyGithub hands back an empty body
            self.not_modified += 1
            return Conditional(None, etag, True)
        return Conditional(data, new_tag, False)

    def repository(self, repo: str, etag: str | None = None) -> tuple[RepoMeta | None, str | None]:
        """Metadata of one repository; (None, etag) when unchanged since `etag`."""
        answer = self.get(f"/repos/{repo}", etag=etag)
        if answer.not_modified:
            return None, answer.etag
        return parse_rest_repo(answer.data), answer.etag

    def user(self, login: str) -> dict[str, Any]:
        """A user's public profile (login, name, public_repos, ...)."""
        self.calls += 1
        with _translated(f"/users/{login}"):
            user = self.github.get_user(login)
            return {"login": user.login, "name": user.name, "public_repos": user.public_repos}

    def search_repositories(self, query: str, *, limit: int = 100, etag: str | None = None) -> Conditional:
        """First page of a repository search, most stars first; items parsed to RepoMeta."""
        params = {"q": query, "sort": "stars", "order": "desc", "per_page": min(100, max(1, limit))}
        answer = self.get("/search/repositories", params=params, etag=etag)
        if answer.not_modified:
            return answer
        items = answer.data.get("items") if isinstance(answer.data, dict) else None
        if not isinstance(items, list):
            raise MalformedResponseError("GitHub /search/repositories: answer has no items")
        return Conditional([parse_rest_repo(item) for item in items[:limit]], answer.etag, False)

    def discover(
        self, topics: Sequence[str], min_stars: int, *, limit: int = 30, etags: dict[str, str] | None = None
    ) -> dict[str, Conditional]:
        """Repositories per GitHub topic with at least `min_stars` stars, not archived."""
        found: dict[str, Conditional] = {}
        for topic in topics:
            query = f"topic:{topic} stars:>={min_stars} archived:false"
            found[topic] = self.search_repositories(query, limit=limit, etag=(etags or {}).get(topic))
        return found

    def close(self) -> None:
        self.github.close()
