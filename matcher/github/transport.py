"""The one HTTP transport for GitHub: auth, timeouts, retries with backoff, rate limits, ETags, counting.

Every request the matcher sends to GitHub over httpx goes through `Transport.request_json`, which
- retries 5xx answers, timeouts, dropped connections and truncated JSON with exponential backoff
  (capped per wait and in number of attempts);
- waits on secondary rate limits (403/429 with `retry-after`, or GitHub's "secondary rate limit"
  message) and on the primary limit (`x-ratelimit-remaining: 0` until `x-ratelimit-reset`), but
  never longer than `max_wait` seconds: beyond that it raises `RateLimitError`;
- keeps an ETag cache for GETs, so an unchanged resource costs a 304 (free on GitHub's side);
- counts requests, retries, 304s and waited seconds in `stats`;
- turns every httpx exception into a `matcher.errors` type with a one-line message that never
  contains the token.
`sleep` and `clock` are injectable so tests never wait for real.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from matcher.errors import AuthError, GitHubError, MalformedResponseError, RateLimitError

log = logging.getLogger(__name__)

USER_AGENT = "ml-first-issues-matcher"
SECONDARY_DEFAULT_WAIT = 60.0  # GitHub's advice when a secondary limit names no retry-after


@dataclass
class Stats:
    """What the GitHub traffic of one client cost so far."""

    requests: int = 0
    graphql_requests: int = 0
    rest_requests: int = 0
    not_modified: int = 0
    retries: int = 0
    graphql_points: int = 0
    rate_remaining: int | None = None
    rate_reset: datetime | None = None
    waited_seconds: float = 0.0
    by_resource: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "graphql_requests": self.graphql_requests,
            "rest_requests": self.rest_requests,
            "not_modified": self.not_modified,
            "retries": self.retries,
            "graphql_points": self.graphql_points,
            "rate_limit_remaining": self.rate_remaining,
            "rate_limit_reset": self.rate_reset.isoformat() if self.rate_reset else None,
            "waited_seconds": round(self.waited_seconds, 3),
        }


class _Retryable(Exception):
    """Internal: this attempt failed in a way worth another try after `delay` seconds (None: backoff)."""

    def __init__(self, reason: str, delay: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class Transport:
    """Authenticated httpx client for api.github.com (or any base URL, such as a local fake)."""

    def __init__(
        self,
        token: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        max_wait: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        httpx_transport: httpx.BaseTransport | None = None,
        before_request: Callable[[str, str], None] | None = None,
    ):
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.before_request = before_request
        self.stats = Stats()
        self._etags: dict[str, tuple[str, Any]] = {}
        self._limits: dict[str, tuple[int, float]] = {}  # resource -> (remaining, reset epoch)
        self._client = httpx.Client(
            headers={
                "Authorization": f"bearer {token}",
                "Accept": "application/vnd.github+json",
                "User-Agent": USER_AGENT,
                "X-GitHub-Api-Version": "2022-11-28",
            },
            timeout=httpx.Timeout(timeout),
            transport=httpx_transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- public -------------------------------------------------------------------------------

    def get_json(self, url: str, params: dict[str, Any] | None = None, *, etag: str | None = None):
        """GET a JSON resource; returns (data, etag, not_modified). Unchanged resources cost a 304.

        `etag` (from an earlier run) is sent as If-None-Match; on 304 `data` is the cached body
        when this process has it, else None and `not_modified` is True.
        """
        key = str(httpx.URL(url, params=params))
        cached = self._etags.get(key)
        sent = etag or (cached[0] if cached else None)
        headers = {"If-None-Match": sent} if sent else {}
        response, data = self.request_json("GET", url, params=params, headers=headers)
        if response.status_code == 304:
            body = cached[1] if cached and cached[0] == sent else None
            return body, sent, True
        new_tag = response.headers.get("etag")
        if new_tag:
            self._etags[key] = (new_tag, data)
        return data, new_tag, False

    def post_json(self, url: str, payload: dict[str, Any]) -> Any:
        """POST a JSON body (a GraphQL query) and return the decoded JSON answer."""
        return self.request_json("POST", url, json=payload)[1]

    def request_json(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, Any]:
        """Send with retries; returns the final response and its decoded JSON (None for 304)."""
        attempt = 0
        while True:
            self._respect_primary_limit(url)
            try:
                return self._attempt(method, url, params=params, json=json, headers=headers)
            except _Retryable as exc:
                if attempt >= self.max_retries:
                    kind = (
                        MalformedResponseError
                        if exc.reason.startswith("malformed")
                        else GitHubError
                    )
                    raise kind(
                        f"GitHub {_where(url)}: {exc.reason} (gave up after {attempt} retries)"
                    ) from None
                delay = exc.delay if exc.delay is not None else self._backoff(attempt)
                if delay > self.max_wait:
                    raise RateLimitError(
                        f"GitHub {_where(url)}: {exc.reason}; would have to wait {delay:.0f}s "
                        f"(more than the {self.max_wait:.0f}s allowed), try again later"
                    ) from None
                attempt += 1
                self.stats.retries += 1
                log.info(
                    "GitHub %s: %s; retry %d in %.1fs", _where(url), exc.reason, attempt, delay
                )
                self._wait(delay)
                self._limits.pop(
                    _resource(url), None
                )  # we waited already; the next answer says anew

    # -- internals ----------------------------------------------------------------------------

    def _attempt(self, method, url, *, params, json, headers) -> tuple[httpx.Response, Any]:
        if self.before_request:
            self.before_request(method, url)
        self.stats.requests += 1
        if url.rstrip("/").endswith("/graphql"):
            self.stats.graphql_requests += 1
        else:
            self.stats.rest_requests += 1
        try:
            response = self._client.request(method, url, params=params, json=json, headers=headers)
        except httpx.TimeoutException:
            raise _Retryable("timed out") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({exc.__class__.__name__})") from None
        except httpx.HTTPError as exc:  # anything else httpx raises: not worth retrying
            raise GitHubError(f"GitHub {_where(url)}: {exc.__class__.__name__}") from None
        self._note_limits(response)
        status = response.status_code
        if status == 304:
            self.stats.not_modified += 1
            return response, None
        if status == 401:
            raise AuthError(
                f"GitHub rejected the token ({_message(response) or 'Bad credentials'}); "
                "check GITHUB_TOKEN or GITHUB_TOKEN_FILE"
            )
        if status in (403, 429):
            self._rate_limited(response, url)
        if status >= 500:
            raise _Retryable(f"HTTP {status}")
        if status >= 400:
            msg = _message(response)
            raise GitHubError(f"GitHub {_where(url)}: HTTP {status}{': ' + msg if msg else ''}")
        try:
            data = response.json() if response.content else None
        except ValueError:
            # A cut-off body is usually a network hiccup; retry it like a 5xx.
            raise _Retryable("malformed JSON in the answer") from None
        return response, data

    def _rate_limited(self, response: httpx.Response, url: str) -> None:
        """403/429: a rate limit (wait and retry) or a plain permission error (raise)."""
        headers = response.headers
        message = _message(response)
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                delay = max(0.0, float(retry_after))
            except ValueError:
                delay = SECONDARY_DEFAULT_WAIT
            raise _Retryable(f"secondary rate limit (HTTP {response.status_code})", delay)
        if headers.get("x-ratelimit-remaining") == "0":
            reset = _int(headers.get("x-ratelimit-reset"))
            delay = max(1.0, (reset or self.clock()) - self.clock() + 1)
            raise _Retryable(f"rate limit exhausted (HTTP {response.status_code})", delay)
        lowered = (message or "").lower()
        if response.status_code == 429 or "secondary rate limit" in lowered or "abuse" in lowered:
            raise _Retryable(
                f"secondary rate limit (HTTP {response.status_code})", SECONDARY_DEFAULT_WAIT
            )
        raise GitHubError(
            f"GitHub {_where(url)}: HTTP {response.status_code}: {message or 'Forbidden'}"
        )

    def _note_limits(self, response: httpx.Response) -> None:
        remaining = _int(response.headers.get("x-ratelimit-remaining"))
        reset = _int(response.headers.get("x-ratelimit-reset"))
        if remaining is None:
            return
        resource = response.headers.get("x-ratelimit-resource") or _resource(
            str(response.request.url)
        )
        self._limits[resource] = (remaining, float(reset or 0))
        self.stats.by_resource[resource] = remaining
        if resource == "graphql" or self.stats.rate_remaining is None:
            self.stats.rate_remaining = remaining
            if reset:
                self.stats.rate_reset = datetime.fromtimestamp(reset, UTC)

    def note_graphql_rate(
        self, cost: int, remaining: int | None, reset_at: datetime | None
    ) -> None:
        """Record the `rateLimit` block of a GraphQL answer (points, not requests)."""
        self.stats.graphql_points += cost
        if remaining is not None:
            self.stats.rate_remaining = remaining
            self._limits["graphql"] = (remaining, reset_at.timestamp() if reset_at else 0.0)
        if reset_at is not None:
            self.stats.rate_reset = reset_at

    def mark_exhausted(self, resource: str) -> None:
        """A GraphQL RATE_LIMITED answer: make the next request wait for the known reset."""
        _, reset = self._limits.get(resource, (0, 0.0))
        if self.stats.rate_reset is not None:
            reset = max(reset, self.stats.rate_reset.timestamp())
        self._limits[resource] = (0, reset or self.clock() + SECONDARY_DEFAULT_WAIT)

    def _respect_primary_limit(self, url: str) -> None:
        """Before sending: if the last answer said the budget is spent, wait for the reset."""
        resource = _resource(url)
        remaining, reset = self._limits.get(resource, (1, 0.0))
        if remaining > 0:
            return
        delay = reset - self.clock() + 1
        if delay <= 0:
            return
        if delay > self.max_wait:
            when = datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC")
            raise RateLimitError(
                f"GitHub {resource} rate limit exhausted until {when}; try again later"
            )
        log.warning("GitHub %s rate limit exhausted; waiting %.0fs for the reset", resource, delay)
        self._wait(delay)
        self._limits[resource] = (1, 0.0)

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_cap, self.backoff_base * (2**attempt))
        return delay * random.uniform(0.75, 1.0)

    def _wait(self, seconds: float) -> None:
        self.stats.waited_seconds += seconds
        self.sleep(seconds)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        return str(data.get("message") or "")[:200]
    return ""


def _resource(url: str) -> str:
    path = urlsplit(url).path
    if path.rstrip("/").endswith("/graphql"):
        return "graphql"
    return "search" if path.startswith("/search/") else "core"


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.path or "/"


def dumps(data: Any) -> str:
    """Compact JSON, as sent on the wire."""
    return json.dumps(data, separators=(",", ":"))
