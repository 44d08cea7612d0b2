"""The one place that builds PyGithub clients and translates PyGithub errors.

Both PyGithub users, the sync's `RestClient` (rest.py) and the portfolio's `PullsClient`
(pulls.py), get their `Github` object from `make_github` and wrap every call in `translated`,
so callers only ever see `matcher.errors` exceptions with one readable line, never the token.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import github
import requests
import urllib3
from github import Auth, Github, GithubException, GithubRetry

from matcher.errors import (
    AuthError,
    GitHubError,
    GitHubNotFoundError,
    MalformedResponseError,
    RateLimitError,
)

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
        if exc.status == 403 and message and "rate limit" in str(message).lower():
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
    return str(message)[:200] if message else ""


def _rate_limited(what: str, exc: GithubException) -> str:
    return f"GitHub rate limit exhausted while fetching {what}; {_reset(exc)}"


def _reset(exc: GithubException) -> str:
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    try:
        at = datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), UTC)
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        return "try again later"
    return f"it resets at {at:%H:%M} UTC"


def _retry_class(
    sleep: Callable[[float], None], on_retry: Callable[[], None] | None
) -> type[GithubRetry]:
    class _Retry(GithubRetry):
        """GithubRetry whose waits go through an injectable sleep, and which reports its retries.

        `max_rate_limit_wait=0` means rate limits are never waited for: a 403 is not retried
        and comes back at once (as RateLimitError through `translated`).
        """

        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if status_code == 403 and not self.max_rate_limit_wait:
                return False
            return super().is_retry(method, status_code, has_retry_after)

        def increment(self, *args, **kwargs):
            if on_retry is not None:
                on_retry()
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


def make_github(
    base_url: str = DEFAULT_API_URL,
    token: str | None = None,
    *,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 1.0,
    backoff_max: float = 60.0,
    retry_statuses: Sequence[int] | None = None,
    secondary_wait: float = 60.0,
    max_rate_limit_wait: float = 900.0,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[], None] | None = None,
    per_page: int = PER_PAGE,
    throttle: float | None = None,
) -> Github:
    """A PyGithub client for `base_url` (a local fake in tests) with our retry policy.

    Retries 5xx (`retry_statuses`, default 500-599) and rate limits (waiting at most
    `max_rate_limit_wait` seconds; 0: never wait) up to `retries` times, every wait through
    `sleep`, each retry reported to `on_retry`. `throttle` seconds between requests apply
    only against api.github.com. Anonymous without a token.
    """
    base_url = base_url.rstrip("/")
    statuses = {} if retry_statuses is None else {"status_forcelist": list(retry_statuses)}
    retry = _retry_class(sleep, on_retry)(
        total=retries,
        backoff_factor=backoff,
        backoff_max=backoff_max,
        secondary_rate_wait=secondary_wait,
        max_rate_limit_wait=max_rate_limit_wait,
        raise_on_status=False,
        **statuses,
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
