"""The one place that builds PyGithub clients and translates PyGithub errors.

Both PyGithub users, the sync's `RestClient` (rest.py) and the portfolio's `PullsClient`
(pulls.py), get their `Github` object from `make_github` and wrap every call in `translated`,
so callers only ever see `matcher.errors` exceptions with one readable line, never the token.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import github
import requests
import urllib3
from github import Auth, Github, GithubException
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from matcher.errors import (
    AuthError,
    GitHubError,
    GitHubNotFoundError,
    MalformedResponseError,
    RateLimitError,
    UnreachableError,
)
from matcher.github.policy import RetryPolicy
from matcher.github.transport import said
from matcher.redact import remember_secret

DEFAULT_API_URL = "https://api.github.com"
PER_PAGE = 100
THROTTLE_SECONDS = 0.25  # between requests, against api.github.com only (never a local fake)


@contextmanager
def translated(what: str) -> Iterator[None]:
    """PyGithub, requests and urllib3 exceptions -> matcher.errors, one line, never the token.

    `what` names the thing asked for ("user 'ada'", "repository o/r"): the messages read
    "GitHub has no user 'ada' ...", "GitHub answered HTTP 502 for repository o/r: ...".
    """
    try:
        yield
    except github.BadCredentialsException:
        raise AuthError(_REJECTED) from None
    except github.RateLimitExceededException as exc:
        raise RateLimitError(_rate_limited(what, exc)) from None
    except github.UnknownObjectException:
        raise GitHubNotFoundError(
            f"GitHub has no {what} (not found: deleted, renamed or private)"
        ) from None
    except GithubException as exc:
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        if exc.status == 401:
            raise AuthError(_REJECTED) from None
        if exc.status == 429 or (exc.status == 403 and "rate limit" in str(message).lower()):
            raise RateLimitError(_rate_limited(what, exc)) from None
        if exc.status == 422:
            raise GitHubNotFoundError(
                f"GitHub cannot search {what}: {_cut(message) or 'unprocessable'}"
            ) from None
        raise GitHubError(
            f"GitHub answered HTTP {exc.status} for {what}: {_cut(message) or 'no message'}"
        ) from None
    except requests.exceptions.JSONDecodeError:
        raise MalformedResponseError(f"GitHub sent malformed JSON for {what}") from None
    except requests.exceptions.ConnectionError as exc:
        host = unreachable_host(exc)
        if host is not None:
            raise UnreachableError(f"cannot reach GitHub at {host}: check the network") from None
        raise GitHubError(f"cannot reach GitHub for {what}: {exc.__class__.__name__}") from None
    except (requests.exceptions.RetryError, urllib3.exceptions.MaxRetryError):
        raise GitHubError(f"GitHub still failing after retries for {what}") from None
    except requests.exceptions.Timeout:
        raise GitHubError(f"GitHub timed out for {what}") from None
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise GitHubError(f"cannot reach GitHub for {what}: {exc.__class__.__name__}") from None
    except ValueError:
        raise MalformedResponseError(f"GitHub sent malformed JSON for {what}") from None


_REJECTED = (
    "GitHub rejected the token (401 Bad credentials); check GITHUB_TOKEN or GITHUB_TOKEN_FILE"
)


def _cut(message: object) -> str:
    return said(message)


def _rate_limited(what: str, exc: GithubException) -> str:
    return f"GitHub rate limit exhausted while fetching {what}; {_reset(exc)}"


def _reset(exc: GithubException) -> str:
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    try:
        at = datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), UTC)
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        return "try again later"
    return f"it resets at {at:%H:%M} UTC"


class PolicyRetry(Retry):
    """urllib3 retries for PyGithub that follow the shared RetryPolicy (policy.py).

    403/429 answers are read once: a rate limit waits what the policy says (or raises
    RateLimitExceededException when that is too long); a plain refusal is raised as PyGithub's
    own exception. 5xx and dropped connections back off; a connection that cannot be made
    before anything got through is not retried at all.
    """

    def __init__(self, *, policy: RetryPolicy, pending: float | None = None, **kwargs: Any):
        self.policy = policy
        self.pending = pending
        kwargs.setdefault("status_forcelist", [*range(500, 600), 403, 429])
        kwargs.setdefault("allowed_methods", Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST"})
        kwargs.setdefault("raise_on_status", False)
        kwargs.setdefault("respect_retry_after_header", False)  # the policy reads it
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> PolicyRetry:
        kw.setdefault("policy", self.policy)
        kw.setdefault("pending", None)
        return super().new(**kw)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if error is not None and _cannot_connect(error) and not self.policy.connected:
            raise MaxRetryError(_pool, url or "", error)
        delay = None
        if response is not None and response.status in (403, 429):
            delay = self._rate_limit_delay(response)
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        assert isinstance(retry, PolicyRetry)
        self.policy.stats.retries += 1
        self.policy.stats.requests += 1  # the retry is one more request
        self.policy.stats.rest_requests += 1
        retry.pending = delay
        return retry

    def _rate_limit_delay(self, response: Any) -> float:
        self.policy.connected = True
        body = response.data
        try:
            content = json.loads(body) if body else {}
        except ValueError:
            content = {"message": body.decode("utf-8", "replace")[:200]}
        message = str(content.get("message") or "") if isinstance(content, dict) else ""
        limited = self.policy.http_rate_limit(response.status, response.headers, message)
        if limited is None:
            raise github.GithubException(response.status, content, dict(response.headers))
        reason, delay = limited
        if delay > self.policy.max_wait or self.total == 0:
            raise github.RateLimitExceededException(
                response.status, content, dict(response.headers)
            )
        return delay

    def sleep(self, response: Any = None) -> None:
        if self.pending is not None:
            self.policy.wait(self.pending, "rate limited", "REST")
            return
        delay = self.policy.backoff(max(0, len(self.history) - 1))
        if delay > 0:
            self.policy.wait(delay, "retrying", "REST", rate_limit=False)


def _cannot_connect(error: BaseException | None) -> bool:
    """DNS failure or connection refused: no answer can come, however often we ask."""
    return isinstance(error, urllib3.exceptions.NewConnectionError)


def unreachable_host(exc: BaseException) -> str | None:
    """scheme://host of a requests ConnectionError whose connection could not be made at all."""
    reason = exc.args[0] if exc.args else None
    if not isinstance(reason, MaxRetryError) or not _cannot_connect(reason.reason):
        return None
    pool = reason.pool
    if pool is None:
        return "GitHub's API"
    port = "" if pool.port in (None, 80, 443) else f":{pool.port}"
    return f"{pool.scheme}://{pool.host}{port}"


def make_github(
    base_url: str = DEFAULT_API_URL,
    token: str | None = None,
    *,
    policy: RetryPolicy | None = None,
    timeout: float = 30.0,
    retries: int = 3,
    retry_statuses: Sequence[int] | None = None,
    per_page: int = PER_PAGE,
    throttle: float | None = None,
) -> Github:
    """A PyGithub client for `base_url` (a local fake in tests) under the shared retry policy.

    Retries 5xx (`retry_statuses`, default 500-599) and rate limits up to `retries` times,
    every wait decided and counted by `policy` (a new default one when None). `throttle`
    seconds between requests apply only against api.github.com. Anonymous without a token.
    """
    base_url = base_url.rstrip("/")
    remember_secret(token)
    policy = policy or RetryPolicy(max_retries=retries)
    statuses = list(retry_statuses) if retry_statuses is not None else list(range(500, 600))
    retry = PolicyRetry(
        policy=policy,
        total=retries,
        status_forcelist=[*statuses, 403, 429],
    )
    return Github(
        base_url=base_url,
        auth=Auth.Token(token) if token else None,
        timeout=max(1, math.ceil(timeout)),
        retry=retry,
        per_page=per_page,
        seconds_between_requests=throttle if base_url == DEFAULT_API_URL else None,
        seconds_between_writes=None,
    )
